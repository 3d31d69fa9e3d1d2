/**
 * Start-up checks for the master key, and re-encryption under a new one. Each key version keeps a check
 * value, its fingerprint (an HMAC of a fixed label under the key), registered when the key is first
 * used. The server refuses to start when a stored secret is sealed under a version whose key it was not
 * given, judged by those check values; a single row that does not decrypt under the right key is that
 * row's problem, reported without stopping the server.
 */
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { SecretCipher } from '../core/ports/crypto.ts';
import type { Store } from '../core/ports/store.ts';

export class MasterKeyCheckError extends Error {
  override name = 'MasterKeyCheckError';
}

export interface MasterKeyCandidate {
  fingerprint: string;
  /** Where the key came from, for error messages (a variable name or a file path). */
  origin: string;
}

export interface KeyVersions {
  current: number;
  previous?: number | undefined;
}

/**
 * Maps the configured keys to stored versions, refusing when some secret is sealed under a version
 * neither key is, and registers the current key if it is new.
 */
export async function resolveKeyVersions(
  store: Pick<Store, 'masterKeys' | 'secrets'>,
  clock: Clock,
  current: MasterKeyCandidate,
  previous?: MasterKeyCandidate,
): Promise<KeyVersions> {
  const known = await store.masterKeys.list();
  const versionOf = (candidate: MasterKeyCandidate | undefined) =>
    candidate && known.find((k) => k.fingerprint === candidate.fingerprint)?.version;
  const currentVersion = versionOf(current);
  const previousVersion = versionOf(previous);
  const inUse = await store.secrets.keyVersionsInUse();
  const orphaned = inUse.filter((v) => v !== currentVersion && v !== previousVersion);
  if (orphaned.length > 0) {
    const versions = orphaned.join(', ');
    throw new MasterKeyCheckError(
      `Stored secrets are encrypted under master key version ${versions}, but the key from ${current.origin} is ` +
        `${currentVersion === undefined ? 'a different key' : `version ${currentVersion}`}. ` +
        'The master key is wrong or missing: set SWITCHBOARD_SECRET_KEY to the key the secrets were stored with ' +
        '(or, while rotating, to the new key with the old one in SWITCHBOARD_SECRET_KEY_PREVIOUS).',
    );
  }
  if (previous && previousVersion === undefined) {
    throw new MasterKeyCheckError(
      `The key from ${previous.origin} has never encrypted anything here; remove it.`,
    );
  }
  return {
    current: currentVersion ?? (await store.masterKeys.register(current.fingerprint, isoNow(clock))),
    previous: previousVersion,
  };
}

/** A stored secret that does not decrypt under its key version, though that key is the right one. */
export interface UndecryptableSecret {
  id: string;
  organizationId: string;
  keyVersion: number;
}

/**
 * Every stored secret that does not decrypt with the configured keys. Once resolveKeyVersions has
 * matched each key to its version's check value, such a row is the row's fault (its ciphertext was
 * altered, or it was restored from another database), not the key's: it is reported, executions that
 * need it fail with secret_unavailable, and the rest are served.
 */
export async function findUndecryptable(
  store: Pick<Store, 'secrets'>,
  cipher: SecretCipher,
  batchSize = 500,
): Promise<UndecryptableSecret[]> {
  const found: UndecryptableSecret[] = [];
  let after: string | null = null;
  for (;;) {
    const batch = await store.secrets.listSealed(after, batchSize);
    if (batch.length === 0) return found;
    for (const row of batch) {
      try {
        cipher.open(row, { organizationId: row.organizationId, secretId: row.id });
      } catch {
        found.push({ id: row.id, organizationId: row.organizationId, keyVersion: row.keyVersion });
      }
    }
    after = batch.at(-1)?.id ?? null;
  }
}

/**
 * Re-encrypts, in batches, every secret not yet sealed under `cipher.currentVersion`. Each row is
 * replaced only if nobody changed it meanwhile, so it is safe while servers keep running.
 */
export async function resealAll(
  store: Pick<Store, 'secrets'>,
  cipher: SecretCipher,
  batchSize = 200,
): Promise<number> {
  let resealed = 0;
  let after: string | null = null;
  for (;;) {
    const batch = await store.secrets.listSealed(after, batchSize);
    if (batch.length === 0) return resealed;
    for (const row of batch) {
      if (row.keyVersion === cipher.currentVersion) continue;
      const binding = { organizationId: row.organizationId, secretId: row.id };
      const sealed = cipher.seal(cipher.open(row, binding), binding);
      if (await store.secrets.reseal(row.id, row.keyVersion, sealed)) resealed++;
    }
    after = batch.at(-1)?.id ?? null;
  }
}
