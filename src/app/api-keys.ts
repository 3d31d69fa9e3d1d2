import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { Logger } from '../core/ports/logger.ts';
import type { Store } from '../core/ports/store.ts';
import { SCOPES, normalizeScopes, scopesBeyond, type Scope } from '../core/scopes.ts';
import type { ApiKey, ApiKeySource, Principal } from '../core/tenancy.ts';

/** Keys look like `sbk_` + 43 base62 characters (about 256 bits); the first 12 characters are the prefix. */
export const KEY_MARKER = 'sbk_';
const KEY_RANDOM_CHARS = 43;
const PREFIX_LENGTH = 12;
const TOUCH_INTERVAL_MS = 60_000;
const CACHE_LIMIT = 10_000;

export interface ApiKeyDeps {
  store: Pick<Store, 'apiKeys' | 'organizations'>;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  /**
   * How long a looked-up key is trusted before it is read again, on a store that cannot say when keys
   * changed (bounds cross-process revocation delay there). A store that can (SQLite) is asked instead.
   */
  cacheTtlMs: number;
}

export interface CreateKeyInput {
  organizationId: string;
  name: string;
  scopes: readonly string[];
  source: ApiKeySource;
  /** The caller handing the key out; a key never receives scopes its creator lacks. */
  grantedBy?: Principal;
}

export interface CreatedKey {
  apiKey: ApiKey;
  /** The token itself: returned this once and never stored. */
  token: string;
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;

export function createApiKeyService({ store, crypto, clock, logger, cacheTtlMs }: ApiKeyDeps) {
  /** Live keys by token hash, with the principal they stand for and when, by time and by the store's generation, they were read. */
  const cache = new Map<
    string,
    { key: ApiKey; principal: Principal; at: number; generation: number | undefined }
  >();
  const touched = new Map<string, number>();

  function checkScopes(requested: readonly string[], grantedBy: Principal | undefined): Scope[] {
    const { scopes, unknown } = normalizeScopes(requested);
    if (unknown.length > 0) {
      throw new AppError(
        'VALIDATION_FAILED',
        `Unknown scopes: ${unknown.join(', ')}. Known scopes: ${SCOPES.join(', ')}`,
        {
          path: '/scopes',
        },
      );
    }
    if (scopes.length === 0)
      throw new AppError('VALIDATION_FAILED', 'A key needs at least one scope', { path: '/scopes' });
    const beyond = grantedBy ? scopesBeyond(grantedBy.scopes, scopes) : [];
    if (beyond.length > 0) {
      throw new AppError(
        'INSUFFICIENT_SCOPE',
        `You cannot grant scopes your own key lacks: ${beyond.join(', ')}`,
        {
          details: { scopes: beyond },
        },
      );
    }
    return scopes;
  }

  async function insertKey(input: CreateKeyInput, token: string, scopes: Scope[]): Promise<ApiKey> {
    const apiKey: ApiKey = {
      id: crypto.newId(),
      organizationId: input.organizationId,
      name: input.name,
      prefix: token.slice(0, PREFIX_LENGTH),
      scopes,
      source: input.source,
      createdAt: isoNow(clock),
      lastUsedAt: null,
      revokedAt: null,
    };
    await store.apiKeys.insert({ ...apiKey, tokenHash: crypto.sha256(token) });
    return apiKey;
  }

  function touch(key: ApiKey, now: number): void {
    if (now - (touched.get(key.id) ?? 0) < TOUCH_INTERVAL_MS) return;
    touched.set(key.id, now);
    store.apiKeys.touch(key.id, new Date(now).toISOString()).catch((error: unknown) => {
      logger.warn({ err: error, keyId: key.id }, 'could not record when an API key was last used');
    });
  }

  function principalFor(token: string): Principal | undefined | Promise<Principal | undefined> {
    const hash = crypto.sha256(token);
    const now = clock.now();
    const generation = store.apiKeys.generation();
    const cached = cache.get(hash);
    const fresh =
      cached !== undefined &&
      (generation === undefined ? now - cached.at < cacheTtlMs : cached.generation === generation);
    if (fresh) {
      touch(cached.key, now);
      return cached.principal;
    }
    return read(hash, now, generation);
  }

  async function read(hash: string, now: number, generation: number | undefined) {
    const key = await store.apiKeys.findByHash(hash);
    if (!key || key.revokedAt !== null) {
      cache.delete(hash);
      return undefined;
    }
    const principal: Principal = Object.freeze({
      organizationId: key.organizationId,
      keyId: key.id,
      scopes: key.scopes,
    });
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(hash, { key, principal, at: now, generation });
    touch(key, now);
    return principal;
  }

  return {
    async create(input: CreateKeyInput): Promise<CreatedKey> {
      if (!(await store.organizations.get(input.organizationId))) throw notFound('Organization');
      const scopes = checkScopes(input.scopes, input.grantedBy);
      const token = KEY_MARKER + crypto.randomToken(KEY_RANDOM_CHARS);
      return { apiKey: await insertKey(input, token, scopes), token };
    },

    /**
     * The principal a bearer token stands for, or undefined for unknown and revoked keys alike. A key
     * read before is reused while the store says no key changed since (asked on every call, so a key
     * revoked by another process is refused from the next request on), or, on a store that cannot say,
     * for cacheTtlMs.
     */
    async authenticate(token: string): Promise<Principal | undefined> {
      return principalFor(token);
    },

    /** authenticate, answered at once (no promise) when this process already holds the key. */
    principalFor,

    async get(organizationId: string, id: string): Promise<ApiKey> {
      const key = await store.apiKeys.get(organizationId, id);
      if (!key) throw notFound('API key');
      return key;
    },

    list(organizationId: string, page: PageRequest): Promise<Page<ApiKey>> {
      return store.apiKeys.list(organizationId, page);
    },

    /** Revokes a key; this process refuses it from its next request on. */
    async revoke(organizationId: string, id: string): Promise<ApiKey> {
      const key = await store.apiKeys.get(organizationId, id);
      if (!key) throw notFound('API key');
      if (key.revokedAt === null) await store.apiKeys.revoke(organizationId, id, isoNow(clock));
      cache.clear();
      return (await store.apiKeys.get(organizationId, id)) ?? key;
    },

    /**
     * Makes the SWITCHBOARD_ADMIN_KEY token a live key with every scope in `organizationId`, and revokes
     * any earlier bootstrap key, so changing the variable retires the old token.
     */
    async ensureBootstrapKey(token: string, organizationId: string): Promise<ApiKey> {
      const hash = crypto.sha256(token);
      await store.apiKeys.revokeEnvKeysExcept(hash, isoNow(clock));
      const existing = await store.apiKeys.findByHash(hash);
      if (existing && existing.revokedAt === null) return existing;
      if (existing) {
        throw new Error('SWITCHBOARD_ADMIN_KEY matches a revoked key; choose a new value');
      }
      return insertKey({ organizationId, name: 'SWITCHBOARD_ADMIN_KEY', scopes: [], source: 'env' }, token, [
        ...SCOPES,
      ]);
    },
  };
}
