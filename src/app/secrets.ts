import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto, SecretCipher } from '../core/ports/crypto.ts';
import type { Store } from '../core/ports/store.ts';
import type { SecretRecord } from '../core/secrets.ts';

export interface SecretDeps {
  store: Pick<Store, 'secrets'>;
  crypto: Crypto;
  clock: Clock;
  cipher: SecretCipher;
}

export interface CreateSecretInput {
  name: string;
  value: string;
  description?: string | null | undefined;
  allowedHosts?: readonly string[] | undefined;
}

export interface UpdateSecretInput {
  name?: string | undefined;
  value?: string | undefined;
  description?: string | null | undefined;
  allowedHosts?: readonly string[] | undefined;
}

const MARKER_PATTERN = /^\[REDACTED(:[^\]]*)?\]$|^\*{3,}$/;

/**
 * Allowed hosts are exact host names (`api.example.com`), wildcard subdomains (`*.example.com`) or IP
 * literals, lowercased in the form the URL parser gives them.
 */
export function normalizeAllowedHosts(hosts: readonly string[]): string[] {
  return [
    ...new Set(
      hosts.map((raw, index) => {
        const wildcard = raw.startsWith('*.');
        const bare = wildcard ? raw.slice(2) : raw;
        const parsed = URL.parse(`http://${bare}/`);
        if (
          !bare ||
          !parsed ||
          parsed.port !== '' ||
          parsed.pathname !== '/' ||
          parsed.username ||
          /[/?#@\s]/.test(bare)
        ) {
          throw new AppError(
            'VALIDATION_FAILED',
            `"${raw}" is not a host name; use api.example.com or *.example.com`,
            {
              path: `/allowed_hosts/${index}`,
            },
          );
        }
        return (wildcard ? '*.' : '') + parsed.hostname;
      }),
    ),
  ];
}

function checkValue(value: string): void {
  if (MARKER_PATTERN.test(value.trim())) {
    throw new AppError(
      'VALIDATION_FAILED',
      'The value looks like a redaction placeholder, not a credential; send the real value or omit the field',
      { path: '/value' },
    );
  }
}

export type SecretService = ReturnType<typeof createSecretService>;

export function createSecretService({ store, crypto, clock, cipher }: SecretDeps) {
  async function getRecord(organizationId: string, id: string): Promise<SecretRecord> {
    const record = await store.secrets.get(organizationId, id);
    if (!record) throw notFound('Secret');
    return record;
  }

  return {
    async create(organizationId: string, input: CreateSecretInput): Promise<SecretRecord> {
      checkValue(input.value);
      const id = crypto.newId();
      const now = isoNow(clock);
      const record: SecretRecord = {
        id,
        organizationId,
        name: input.name,
        description: input.description ?? null,
        allowedHosts: normalizeAllowedHosts(input.allowedHosts ?? []),
        keyVersion: cipher.currentVersion,
        createdAt: now,
        updatedAt: now,
      };
      await store.secrets.insert({
        ...record,
        sealed: cipher.seal(input.value, { organizationId, secretId: id }),
      });
      return record;
    },

    get: getRecord,

    list(organizationId: string, page: PageRequest): Promise<Page<SecretRecord>> {
      return store.secrets.list(organizationId, page);
    },

    /** Renames, re-describes, re-scopes, or rotates the value (sealed afresh under the current key). */
    async update(organizationId: string, id: string, input: UpdateSecretInput): Promise<SecretRecord> {
      if (input.value !== undefined) checkValue(input.value);
      const updated = await store.secrets.update(organizationId, id, {
        name: input.name,
        description: input.description,
        allowedHosts:
          input.allowedHosts === undefined ? undefined : normalizeAllowedHosts(input.allowedHosts),
        sealed:
          input.value === undefined ? undefined : cipher.seal(input.value, { organizationId, secretId: id }),
        updatedAt: isoNow(clock),
      });
      if (!updated) throw notFound('Secret');
      return updated;
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (!(await store.secrets.delete(organizationId, id))) throw notFound('Secret');
    },

    /**
     * The decrypted value, for the execution engine only; no route returns it. A value that does not
     * decrypt (altered, or restored from another database) is SECRET_UNAVAILABLE, which fails the
     * execution that needed it, not the request.
     */
    async reveal(organizationId: string, id: string): Promise<{ record: SecretRecord; value: string }> {
      const found = await store.secrets.getWithSealed(organizationId, id);
      if (!found) throw notFound('Secret');
      let value: string;
      try {
        value = cipher.open(found.sealed, { organizationId, secretId: id });
      } catch (error) {
        throw new AppError(
          'SECRET_UNAVAILABLE',
          `Secret ${found.record.name} (${id}) cannot be decrypted: its stored value was altered or comes ` +
            `from another database. Store its value again with PATCH /v1/secrets/${id} {"value": ...}, or delete it.`,
          { cause: error },
        );
      }
      return { record: found.record, value };
    },
  };
}
