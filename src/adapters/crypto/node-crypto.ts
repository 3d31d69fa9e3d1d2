import { createHmac, hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { Crypto } from '../../core/ports/crypto.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * UUID version 7 (RFC 9562): 48 bits of milliseconds, then a 12-bit sequence that keeps ids made in the
 * same millisecond in creation order within this process, then 62 random bits. Ordering ids orders
 * records by creation time, which keyset pagination relies on.
 */
/** Random bytes drawn from a pool refilled 4 KB at a time: one call into the CSPRNG per 512 ids, not per id. */
function randomPool(size = 4096): (target: Uint8Array, offset: number, length: number) => void {
  const pool = new Uint8Array(size);
  let used = size;
  return (target, offset, length) => {
    if (used + length > size) {
      randomFillSync(pool);
      used = 0;
    }
    target.set(pool.subarray(used, used + length), offset);
    used += length;
  };
}

export function createUuidV7Generator(now: () => number = Date.now): () => string {
  let lastMs = -1;
  let sequence = 0;
  const bytes = new Uint8Array(16);
  const fill = randomPool();
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      sequence++;
      if (sequence > 0xfff) {
        ms = lastMs + 1;
        sequence = 0;
      }
    } else {
      sequence = 0;
    }
    lastMs = ms;
    fill(bytes, 8, 8);
    const high = Math.floor(ms / 0x1_0000_0000);
    const low = ms >>> 0;
    bytes[0] = (high >>> 8) & 0xff;
    bytes[1] = high & 0xff;
    bytes[2] = (low >>> 24) & 0xff;
    bytes[3] = (low >>> 16) & 0xff;
    bytes[4] = (low >>> 8) & 0xff;
    bytes[5] = low & 0xff;
    bytes[6] = 0x70 | (sequence >>> 8);
    bytes[7] = sequence & 0xff;
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
    let hex = '';
    for (let i = 0; i < 16; i++) {
      hex += HEX[bytes[i] ?? 0];
      if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
    }
    return hex;
  };
}

/** Uniform base62 by rejection sampling: bytes >= 248 would bias the first characters. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function createNodeCrypto(now?: () => number): Crypto {
  return Object.freeze({
    newId: createUuidV7Generator(now),
    randomToken: randomBase62,
    // one-shot: no Hash object per call (every request hashes its API key)
    sha256: (value: string) => hash('sha256', value, 'hex'),
    hmacSha256: (key: Uint8Array, message: string) =>
      createHmac('sha256', key).update(message, 'utf8').digest(),
    timingSafeEqual: (a: Uint8Array, b: Uint8Array) => a.length === b.length && timingSafeEqual(a, b),
  });
}
