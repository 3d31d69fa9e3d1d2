/** The node-crypto adapter's HMAC and constant-time comparison, which webhook signatures rely on. */
import { describe, expect, it } from 'vitest';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';

const crypto = createNodeCrypto();
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('node crypto', () => {
  it('computes HMAC-SHA256 (RFC 4231 test cases 1 and 2)', () => {
    expect(hex(crypto.hmacSha256(new Uint8Array(20).fill(0x0b), 'Hi There'))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(hex(crypto.hmacSha256(Buffer.from('Jefe'), 'what do ya want for nothing?'))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('hashes the message as UTF-8', () => {
    const key = Buffer.from('k');
    expect(crypto.hmacSha256(key, 'é')).toEqual(crypto.hmacSha256(key, '\u00e9'));
    expect(crypto.hmacSha256(key, 'é')).not.toEqual(crypto.hmacSha256(key, 'e'));
  });

  it('compares bytes, false for different lengths instead of throwing', () => {
    const a = Uint8Array.of(1, 2, 3);
    expect(crypto.timingSafeEqual(a, Uint8Array.of(1, 2, 3))).toBe(true);
    expect(crypto.timingSafeEqual(a, Uint8Array.of(1, 2, 4))).toBe(false);
    expect(crypto.timingSafeEqual(a, Uint8Array.of(1, 2))).toBe(false);
    expect(crypto.timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
