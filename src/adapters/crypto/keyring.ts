/**
 * AES-256-GCM for secret values. Each value gets a random 96-bit nonce, and the additional
 * authenticated data binds the ciphertext to its organization, its own id and the master key version,
 * so a ciphertext copied into another row or organization does not decrypt (docs/security.md G-11).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { SecretCipher } from '../../core/ports/crypto.ts';
import type { SealedSecret, SecretBinding } from '../../core/secrets.ts';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A master key's check value: a stable, one-way HMAC of a fixed label under the key, kept with its key
 * version, so a wrong key is caught at start without decrypting any secret.
 */
export const fingerprintMasterKey = (key: Uint8Array): string =>
  createHmac('sha256', key).update('switchboard/master-key-fingerprint/v1').digest('hex').slice(0, 32);

const additionalData = (binding: SecretBinding, keyVersion: number): Buffer =>
  Buffer.from(`switchboard/secret/v1\0${binding.organizationId}\0${binding.secretId}\0${keyVersion}`, 'utf8');

export class KeyDecryptError extends Error {
  override name = 'KeyDecryptError';
}

/** Decrypted values by nonce: a nonce is unique to one seal, so a changed value can never be served stale. */
const OPENED_LIMIT = 1_000;

export class Keyring implements SecretCipher {
  readonly currentVersion: number;
  readonly #raw: ReadonlyMap<number, Uint8Array>;
  /** Key objects made once: given raw bytes, Node would build one on every seal and open. */
  readonly #keys: ReadonlyMap<number, KeyObject>;
  readonly #opened = new Map<string, { binding: string; value: string }>();

  constructor(keys: ReadonlyMap<number, Uint8Array>, currentVersion: number) {
    if (!keys.has(currentVersion))
      throw new Error(`The current master key version ${currentVersion} is not loaded`);
    for (const key of keys.values()) if (key.length !== 32) throw new Error('A master key must be 32 bytes');
    this.#raw = new Map(keys);
    this.#keys = new Map([...keys].map(([version, key]) => [version, createSecretKey(key)]));
    this.currentVersion = currentVersion;
  }

  /** The same keys plus `key` as the new current version: for re-encrypting under a new master key. */
  withCurrent(version: number, key: Uint8Array): Keyring {
    return new Keyring(new Map([...this.#raw, [version, key]]), version);
  }

  seal(plaintext: string, binding: SecretBinding): SealedSecret {
    const key = this.#keys.get(this.currentVersion) as KeyObject;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(binding, this.currentVersion));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return {
      ciphertext: new Uint8Array(ciphertext),
      nonce: new Uint8Array(nonce),
      keyVersion: this.currentVersion,
    };
  }

  open(sealed: SealedSecret, binding: SecretBinding): string {
    const nonce = Buffer.from(sealed.nonce).toString('base64');
    const bound = `${binding.organizationId}/${binding.secretId}/${sealed.keyVersion}`;
    const known = this.#opened.get(nonce);
    if (known?.binding === bound) return known.value;
    const value = this.#decrypt(sealed, binding);
    if (this.#opened.size >= OPENED_LIMIT) this.#opened.delete(this.#opened.keys().next().value as string);
    this.#opened.set(nonce, { binding: bound, value });
    return value;
  }

  #decrypt(sealed: SealedSecret, binding: SecretBinding): string {
    const key = this.#keys.get(sealed.keyVersion);
    if (!key) throw new KeyDecryptError(`Master key version ${sealed.keyVersion} is not loaded`);
    if (sealed.ciphertext.length < TAG_BYTES) throw new KeyDecryptError('Ciphertext is truncated');
    const body = sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES);
    const tag = sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(binding, sealed.keyVersion));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyDecryptError(
        `Secret ${binding.secretId} does not decrypt with master key version ${sealed.keyVersion}`,
      );
    }
  }
}
