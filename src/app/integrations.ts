/** Integrations: a base URL, default auth and secrets shared by a group of actions. */
import type { AuthConfig } from '../core/actions/kinds/http.ts';
import { authSecretIds, authUrls, checkUrlTemplate } from '../core/actions/kinds/http.ts';
import type { DefinitionIssue, Integration } from '../core/actions/model.ts';
import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { HttpClient } from '../core/ports/http-client.ts';
import type { Store } from '../core/ports/store.ts';
import { referencesIn } from '../core/templates/index.ts';
import { egressIssues, type SavedUrl } from './egress-check.ts';

export interface IntegrationInput {
  name: string;
  description?: string | null | undefined;
  baseUrl?: string | null | undefined;
  secrets?: Record<string, string> | undefined;
  auth?: AuthConfig | null | undefined;
}

export interface IntegrationDeps {
  store: Store;
  crypto: Crypto;
  clock: Clock;
  http: HttpClient;
}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type IntegrationService = ReturnType<typeof createIntegrationService>;

export function createIntegrationService({ store, crypto, clock, http }: IntegrationDeps) {
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

    async update(organizationId: string, id: string, patch: Partial<IntegrationInput>): Promise<Integration> {
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
      if (!(await store.integrations.update(integration))) throw notFound('Integration');
      return integration;
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
