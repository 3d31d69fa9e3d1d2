import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export interface MasterKeySource {
  key: Uint8Array;
  /** Where it came from, for messages: the variable name or the file path. */
  origin: string;
  generated: boolean;
}

/**
 * The master key from SWITCHBOARD_SECRET_KEY, else from `<dataDir>/master.key`, generating that file
 * (mode 0600) only when no encrypted secret exists yet: a missing key never silently becomes a new one.
 */
export async function resolveMasterKey(
  configured: Uint8Array | undefined,
  dataDir: string,
  secretsExist: () => Promise<boolean>,
): Promise<MasterKeySource> {
  if (configured) return { key: configured, origin: 'SWITCHBOARD_SECRET_KEY', generated: false };
  const file = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) return { key: readKeyFile(file), origin: file, generated: false };
  if (await secretsExist()) {
    throw new MasterKeyError(
      `Encrypted secrets exist but there is no master key: set SWITCHBOARD_SECRET_KEY or restore ${file}. ` +
        'Refusing to generate a new key, which could not decrypt them.',
    );
  }
  const key = new Uint8Array(randomBytes(32));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${Buffer.from(key).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, origin: file, generated: true };
}

export function writeKeyFile(dataDir: string, key: Uint8Array, name = MASTER_KEY_FILE): string {
  const file = join(dataDir, name);
  writeFileSync(file, `${Buffer.from(key).toString('base64')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

function readKeyFile(file: string): Uint8Array {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new MasterKeyError(
      `${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`,
    );
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new MasterKeyError(`${file} does not hold a base64-encoded 32-byte key`);
  return new Uint8Array(key);
}
