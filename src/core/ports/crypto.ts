import type { SealedSecret, SecretBinding } from '../secrets.ts';

/** Randomness and hashing the use cases need, kept behind a port so the core stays pure. */
export interface Crypto {
  /** A time-ordered UUID (version 7). */
  newId(): string;
  /** `length` characters of [0-9A-Za-z], uniformly random. */
  randomToken(length: number): string;
  /** Hex SHA-256 of a UTF-8 string. */
  sha256(value: string): string;
  /** HMAC-SHA256 of a UTF-8 message under `key`: the 32 raw bytes. */
  hmacSha256(key: Uint8Array, message: string): Uint8Array;
  /** Whether `a` and `b` hold the same bytes, in time independent of their contents (false when lengths differ). */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

/** Seals and opens secret values with the master key(s); see adapters/crypto/keyring.ts. */
export interface SecretCipher {
  readonly currentVersion: number;
  seal(plaintext: string, binding: SecretBinding): SealedSecret;
  /** Throws when the key version is not loaded or the ciphertext does not belong to `binding`. */
  open(sealed: SealedSecret, binding: SecretBinding): string;
}
