/** Integrations: a base URL, default auth and secrets shared by a group of actions. */
import type { AuthConfig } from '../core/actions/kinds/http.ts';
import { authSecretIds, authUrls, checkUrlTemplate } from '../core/actions/kinds/http.ts';
import type { DefinitionIssue, Integration, SavedUrl } from '../core/actions/model.ts';
import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { HttpClient } from '../core/ports/http-client.ts';
import type { Repositories } from '../core/ports/store.ts';
import { referencesIn } from '../core/templates/index.ts';
import { hasScope } from '../core/scopes.ts';
import type { Principal } from '../core/tenancy.ts';
import { egressIssues } from './egress-check.ts';
import { unboundSecretWarning } from './kinds/host-binding.ts';
import type { KindRegistry } from './kinds/registry.ts';
import { secretsReadBy, secretsUseNeeded } from './secret-scope.ts';

export interface IntegrationInput {
  name: string;
  description?: string | null | undefined;
  baseUrl?: string | null | undefined;
  secrets?: Record<string, string> | undefined;
  auth?: AuthConfig | null | undefined;
}

type IntegrationStore = Repositories<'integrations' | 'actions' | 'secrets'>;

export interface IntegrationDeps {
  store: IntegrationStore;
  crypto: Crypto;
  clock: Clock;
  http: HttpClient;
  /** Which kinds' actions read the integration's secrets (ActionKind.readsDeclaredSecrets). */
  kinds: KindRegistry;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type IntegrationService = ReturnType<typeof createIntegrationService>;

export function createIntegrationService({ store, crypto, clock, http, kinds }: IntegrationDeps) {
  const readingKinds = kinds
    .all()
    .filter((kind) => kind.readsDeclaredSecrets)
    .map((kind) => kind.kind);

  /** Whether any action of the integration reads its secrets (a code action). */
  async function hasCodeReaders(
    db: Pick<IntegrationStore, 'actions'>,
    organizationId: string,
    integrationId: string,
  ): Promise<boolean> {
    for (const kind of readingKinds) {
      const page = await db.actions.list(organizationId, { integrationId, kind }, { limit: 1 });
      if (page.items.length > 0) return true;
    }
    return false;
  }

  /**
   * Adding a secret to an integration whose code actions read its secrets lets that code read it: it
   * needs secrets:use, as writing the code does. Judged with the integration locked, against its secrets
   * and actions as they are then (ActionService takes the same lock to check a code action it saves).
   */
  async function requireSecretsUse(
    tx: IntegrationStore,
    principal: Principal,
    next: Integration,
  ): Promise<void> {
    if (hasScope(principal.scopes, 'secrets:use')) return;
    const { organizationId, id } = next;
    if (!(await tx.integrations.lock(organizationId, id))) throw notFound('Integration');
    const locked = await tx.integrations.get(organizationId, id);
    const added = Object.keys(next.secrets).filter((name) => locked?.secrets[name] !== next.secrets[name]);
    if (added.length > 0 && (await hasCodeReaders(tx, organizationId, id)))
      throw secretsUseNeeded(`The code actions of this integration would read ${added.join(', ')}`);
  }

  async function check(organizationId: string, integration: Integration): Promise<void> {
    const issues: DefinitionIssue[] = [];
    const urls: SavedUrl[] = [];
    if (integration.baseUrl !== null) {
      if (referencesIn(integration.baseUrl).length > 0)
        issues.push({ path: '/base_url', message: 'The base URL cannot contain placeholders' });
      else urls.push({ path: '/base_url', url: integration.baseUrl });
    }
    for (const [name, id] of Object.entries(integration.secrets)) {
      if (!SECRET_NAME.test(name))
        issues.push({
          path: `/secrets/${name}`,
          message: `"${name}" is not a valid secret name (letters, digits, _)`,
        });
      else if (!(await store.secrets.get(organizationId, id)))
        issues.push({ path: `/secrets/${name}`, message: `No secret with id ${id}` });
    }
    const auth = integration.auth as AuthConfig | null;
    for (const id of authSecretIds(auth)) {
      if (!(await store.secrets.get(organizationId, id)))
        issues.push({ path: '/auth/secret_id', message: `No secret with id ${id}` });
    }
    urls.push(...authUrls(auth, '/auth'));
    // every URL its actions send to (the base URL) or fetch tokens from is judged as an action's own
    for (const { path, url } of urls) {
      const urlIssues = checkUrlTemplate(url, path, false);
      issues.push(...(urlIssues.length > 0 ? urlIssues : egressIssues(http, [{ path, url }])));
    }
    if (issues.length > 0) {
      throw new AppError('VALIDATION_FAILED', issues.map((i) => `${i.path}: ${i.message}`).join('; '), {
        path: issues[0]?.path,
        details: { issues },
      });
    }
  }

  async function get(organizationId: string, id: string): Promise<Integration> {
    const integration = await store.integrations.get(organizationId, id);
    if (!integration) throw notFound('Integration');
    return integration;
  }

  return {
    get,

    /**
     * Like get, for a dialect that tells "not yours" from "no such integration", as Langdock's does
     * (403 "No access to this integration", 404 "Integration not found"). Native routes use get, which
     * answers both with 404.
     */
    async access(organizationId: string, id: string): Promise<Integration> {
      const integration = await store.integrations.get(organizationId, id);
      if (integration) return integration;
      if ((await store.integrations.organizationOf(id)) !== undefined)
        throw new AppError('FORBIDDEN', 'No access to this integration');
      throw notFound('Integration');
    },

    async create(organizationId: string, input: IntegrationInput): Promise<Integration> {
      const now = isoNow(clock);
      const integration: Integration = {
        id: crypto.newId(),
        organizationId,
        name: input.name,
        description: input.description ?? null,
        baseUrl: input.baseUrl ?? null,
        secrets: input.secrets ?? {},
        auth: input.auth ?? null,
        createdAt: now,
        updatedAt: now,
      };
      await check(organizationId, integration);
      await store.integrations.insert(integration);
      return integration;
    },

    async update(principal: Principal, id: string, patch: Partial<IntegrationInput>): Promise<Integration> {
      const { organizationId } = principal;
      const current = await get(organizationId, id);
      const integration: Integration = {
        ...current,
        ...(patch.name === undefined ? {} : { name: patch.name }),
        ...(patch.description === undefined ? {} : { description: patch.description }),
        ...(patch.baseUrl === undefined ? {} : { baseUrl: patch.baseUrl }),
        ...(patch.secrets === undefined ? {} : { secrets: patch.secrets }),
        ...(patch.auth === undefined ? {} : { auth: patch.auth }),
        updatedAt: isoNow(clock),
      };
      await check(organizationId, integration);
      await store.transaction(async (tx) => {
        if (patch.secrets !== undefined) await requireSecretsUse(tx, principal, integration);
        if (!(await tx.integrations.update(integration))) throw notFound('Integration');
      });
      return integration;
    },

    /** What will not work as saved: a secret bound to no host, which the code actions' fetch refuses for. */
    async warnings(integration: Integration): Promise<DefinitionIssue[]> {
      const { organizationId, id } = integration;
      if (!(await hasCodeReaders(store, organizationId, id))) return [];
      const inScope = await secretsReadBy(store, organizationId, null, integration.secrets);
      return inScope
        .filter(({ secret }) => secret.allowedHosts.length === 0)
        .map(({ name, secret }) => ({
          path: `/secrets/${name}`,
          message: unboundSecretWarning(name, secret, ''),
        }));
    },

    async remove(organizationId: string, id: string): Promise<void> {
      await get(organizationId, id);
      const used = await store.actions.countByIntegration(organizationId, id);
      if (used > 0)
        throw new AppError(
          'CONFLICT',
          `${used} action(s) still belong to this integration; delete or move them first`,
        );
      if (!(await store.integrations.delete(organizationId, id))) throw notFound('Integration');
    },

    list(organizationId: string, page: PageRequest): Promise<Page<Integration>> {
      return store.integrations.list(organizationId, page);
    },
  };
}
