import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { Store } from '../core/ports/store.ts';
import type { Organization } from '../core/tenancy.ts';

const DEFAULT_ORGANIZATION_SETTING = 'default_organization_id';
export const DEFAULT_ORGANIZATION_NAME = 'Default';

export interface OrganizationDeps {
  store: Pick<Store, 'organizations' | 'settings'>;
  crypto: Crypto;
  clock: Clock;
}

export type OrganizationService = ReturnType<typeof createOrganizationService>;

export function createOrganizationService({ store, crypto, clock }: OrganizationDeps) {
  return {
    async create(name: string): Promise<Organization> {
      const organization = { id: crypto.newId(), name, createdAt: isoNow(clock) };
      await store.organizations.insert(organization);
      return organization;
    },

    async get(id: string): Promise<Organization> {
      const organization = await store.organizations.get(id);
      if (!organization) throw notFound('Organization');
      return organization;
    },

    list(page: PageRequest): Promise<Page<Organization>> {
      return store.organizations.list(page);
    },

    /** The organization SWITCHBOARD_ADMIN_KEY and the CLI use by default; created once, race-free. */
    async ensureDefault(): Promise<Organization> {
      const id = await store.settings.setIfAbsent(DEFAULT_ORGANIZATION_SETTING, crypto.newId());
      const existing = await store.organizations.get(id);
      if (existing) return existing;
      const organization = { id, name: DEFAULT_ORGANIZATION_NAME, createdAt: isoNow(clock) };
      try {
        await store.organizations.insert(organization);
      } catch (error) {
        // another process inserted it between our read and write
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
      return (await store.organizations.get(id)) ?? organization;
    },
  };
}
