import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring, KeyDecryptError, fingerprintMasterKey } from '../../src/adapters/crypto/keyring.ts';

const key = () => new Uint8Array(randomBytes(32));
const binding = { organizationId: 'org-1', secretId: 'sec-1' };

describe('Keyring (AES-256-GCM)', () => {
  it('opens what it sealed, with a fresh nonce every time', () => {
    const keyring = new Keyring(new Map([[1, key()]]), 1);
    const a = keyring.seal('hunter2', binding);
    const b = keyring.seal('hunter2', binding);
    expect(keyring.open(a, binding)).toBe('hunter2');
    expect(Buffer.from(a.nonce).equals(Buffer.from(b.nonce))).toBe(false);
    expect(Buffer.from(a.ciphertext).includes(Buffer.from('hunter2'))).toBe(false);
  });

  it.each([
    ['another organization', { organizationId: 'org-2', secretId: 'sec-1' }],
    ['another secret id', { organizationId: 'org-1', secretId: 'sec-2' }],
  ])('refuses a ciphertext moved to %s', (_name, other) => {
    const keyring = new Keyring(new Map([[1, key()]]), 1);
    expect(() => keyring.open(keyring.seal('v', binding), other)).toThrow(KeyDecryptError);
  });

  it('refuses a ciphertext relabelled with another key version', () => {
    const k = key();
    const keyring = new Keyring(
      new Map([
        [1, k],
        [2, k],
      ]),
      1,
    );
    const sealed = keyring.seal('v', binding);
    expect(() => keyring.open({ ...sealed, keyVersion: 2 }, binding)).toThrow(KeyDecryptError);
  });

  it('refuses a wrong key and a tampered ciphertext', () => {
    const sealed = new Keyring(new Map([[1, key()]]), 1).seal('v', binding);
    expect(() => new Keyring(new Map([[1, key()]]), 1).open(sealed, binding)).toThrow(KeyDecryptError);
    const keyring = new Keyring(new Map([[1, key()]]), 1);
    const good = keyring.seal('value', binding);
    const tampered = new Uint8Array(good.ciphertext);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(() => keyring.open({ ...good, ciphertext: tampered }, binding)).toThrow(KeyDecryptError);
  });

  it('reads old versions after rotating to a new current key', () => {
    const old = new Keyring(new Map([[1, key()]]), 1);
    const sealed = old.seal('v', binding);
    const rotated = old.withCurrent(2, key());
    expect(rotated.currentVersion).toBe(2);
    expect(rotated.open(sealed, binding)).toBe('v');
    expect(rotated.seal('w', binding).keyVersion).toBe(2);
  });

  it('fingerprints keys stably and distinctly', () => {
    const k = key();
    expect(fingerprintMasterKey(k)).toBe(fingerprintMasterKey(new Uint8Array(k)));
    expect(fingerprintMasterKey(k)).not.toBe(fingerprintMasterKey(key()));
  });
});
