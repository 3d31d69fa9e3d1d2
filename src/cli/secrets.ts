import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { resealAll } from '../app/master-keys.ts';
import { fingerprintMasterKey } from '../adapters/crypto/keyring.ts';
import { MASTER_KEY_FILE, writeKeyFile } from '../adapters/crypto/master-key-file.ts';
import { isoNow } from '../core/ports/clock.ts';
import type { Infrastructure } from '../infrastructure.ts';
import { type Command, UsageError } from './command.ts';
import { printObject } from './output.ts';

function parseKey(raw: string): Uint8Array {
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32)
    throw new UsageError('--new-key must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  return new Uint8Array(key);
}

/**
 * Re-encryption needs every value: a secret that does not decrypt would stay under the old key version,
 * and a server given only the new key would then refuse to start. Refused before anything changes.
 */
function refuseUndecryptable(infrastructure: Infrastructure): void {
  const bad = infrastructure.undecryptableSecrets;
  if (bad.length === 0) return;
  throw new Error(
    `${bad.length} secret(s) do not decrypt (altered, or restored from another database): ` +
      `${bad.map((s) => s.id).join(', ')}. Store their values again (PATCH /v1/secrets/{id} with "value") ` +
      'or delete them, then re-encrypt. Nothing was changed.',
  );
}

/** Re-encrypts every secret under `key`, registering it as the newest master key version. */
async function reencryptUnder(
  infrastructure: Infrastructure,
  key: Uint8Array,
): Promise<{ version: number; count: number }> {
  const { store, cipher } = infrastructure;
  const version = await store.masterKeys.register(fingerprintMasterKey(key), isoNow(infrastructure.clock));
  const count = await resealAll(store, cipher.withCurrent(version, key));
  return { version, count };
}

export const secretCommands: Record<string, Command> = {
  'secrets rotate-key': {
    usage: 'secrets rotate-key [--new-key <base64>]',
    summary: 'Re-encrypt every secret under a new master key (generated unless given)',
    async run({ infrastructure, options, json }) {
      refuseUndecryptable(infrastructure);
      const key =
        typeof options['new-key'] === 'string'
          ? parseKey(options['new-key'])
          : new Uint8Array(randomBytes(32));
      const encoded = Buffer.from(key).toString('base64');
      const fromFile = infrastructure.config.secretKey === undefined;
      // With a generated key file, the new key is written beside it before any row changes, so an
      // interrupted rotation can always be finished: nothing is ever sealed under a key that exists nowhere.
      const next = fromFile
        ? writeKeyFile(infrastructure.config.dataDir, key, `${MASTER_KEY_FILE}.next`)
        : undefined;
      const { version, count } = await reencryptUnder(infrastructure, key);
      if (next) renameSync(next, join(infrastructure.config.dataDir, MASTER_KEY_FILE));
      printObject(
        {
          master_key_version: version,
          secrets_reencrypted: count,
          ...(fromFile
            ? { key_file: join(infrastructure.config.dataDir, MASTER_KEY_FILE) }
            : { new_key: encoded }),
        },
        json,
      );
      if (!json) {
        console.error(
          fromFile
            ? '\nThe key file now holds the new key. Restart the servers.'
            : '\nSet SWITCHBOARD_SECRET_KEY to new_key and restart the servers; the old key is no longer needed.',
        );
      }
    },
  },
  'secrets reencrypt': {
    usage: 'secrets reencrypt',
    summary: 'Re-encrypt secrets still under SWITCHBOARD_SECRET_KEY_PREVIOUS with the current key',
    async run({ infrastructure, json }) {
      refuseUndecryptable(infrastructure);
      const { store, cipher, config } = infrastructure;
      const count = await resealAll(store, cipher);
      printObject({ master_key_version: cipher.currentVersion, secrets_reencrypted: count }, json);
      if (!json && config.secretKeyPrevious) {
        console.error(
          '\nEvery secret is under the current key now: remove SWITCHBOARD_SECRET_KEY_PREVIOUS and restart.',
        );
      }
    },
  },
};
