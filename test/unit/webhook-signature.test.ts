/**
 * Our Standard Webhooks verifier against the reference library (`standardwebhooks`), case by case: the
 * same secret forms, the same headers, several signatures, `v1a` entries beside `v1`, and where ours
 * deliberately differs (the cap on entries, a strict timestamp), that difference.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';
import {
  MAX_SIGNATURES,
  signWebhook,
  signingKeyOf,
  verifyWebhook,
  type SignedHeaders,
} from '../../src/app/workflows/webhook-signature.ts';

const crypto = createNodeCrypto();
const NOW_MS = 1_750_000_000_500;
const NOW = Math.floor(NOW_MS / 1000);
const KEY = randomBytes(32).toString('base64');
const SECRET = `whsec_${KEY}`;
const BODY = '{"order":"A-1","note":"héllo"}';

/** The reference's answer: the secret refused, the delivery refused, or accepted. */
function referenceVerdict(
  secret: string,
  headers: SignedHeaders,
  body = BODY,
): 'secret' | 'refuse' | 'accept' {
  let webhook: Webhook;
  try {
    webhook = new Webhook(secret);
  } catch {
    return 'secret';
  }
  try {
    webhook.verify(
      body,
      {
        'webhook-id': headers.id ?? '',
        'webhook-timestamp': headers.timestamp ?? '',
        'webhook-signature': headers.signature ?? '',
      },
      { jsonParse: false },
    );
    return 'accept';
  } catch {
    return 'refuse';
  }
}

function ourVerdict(secret: string, headers: SignedHeaders, body = BODY): 'secret' | 400 | 401 | 'accept' {
  if (signingKeyOf(secret) instanceof Error) return 'secret';
  const refusal = verifyWebhook(crypto, secret, headers, body, NOW_MS);
  if (!refusal) return 'accept';
  return refusal.code === 'VALIDATION_FAILED' ? 400 : 401;
}

const referenceSign = (secret: string, id: string, ts: number, body = BODY) =>
  new Webhook(secret).sign(id, new Date(ts * 1000), body);
const other = () => `v1,${randomBytes(32).toString('base64')}`;
const v1a = () => `v1a,${randomBytes(64).toString('base64')}`;
const headers = (signature: string, id = 'msg_1', ts: number | string = NOW): SignedHeaders => ({
  id,
  timestamp: String(ts),
  signature,
});

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW_MS);
});
afterAll(() => {
  vi.useRealTimers();
});

describe('signing secrets, as the reference decodes them', () => {
  const bytes = randomBytes(24);
  it.each<[string, string]>([
    ['whsec_ and base64', `whsec_${bytes.toString('base64')}`],
    ['base64 without the prefix', bytes.toString('base64')],
    ['base64 without padding', `whsec_${randomBytes(26).toString('base64').replace(/=+$/, '')}`],
    ['one byte', 'ab=='],
    ['whsec_ alone', 'whsec_'],
    ['the empty string', ''],
    ['whsec_ and padding only', 'whsec_===='],
    ['too short', 'whsec_abc'],
    ['not base64', 'my-shared-secret'],
    ['url-safe base64', `whsec_${Buffer.from([251, 255, 191, 1]).toString('base64url')}`],
    ['a space inside', 'whsec_abcd efgh'],
    ['the prefix twice', `whsec_whsec_${bytes.toString('base64')}`],
    ['the prefix in capitals', `WHSEC_${bytes.toString('base64')}`],
    ['padding in the middle', 'ab==cdef'],
  ])('%s: refused or keyed alike', (_name, secret) => {
    const reference = referenceVerdict(secret, headers(''));
    const ours = signingKeyOf(secret);
    expect(ours instanceof Error).toBe(reference === 'secret');
    if (ours instanceof Error) return;
    // the same key: each side verifies what the other signed
    const theirs = referenceSign(secret, 'msg_k', NOW);
    expect(ourVerdict(secret, headers(theirs, 'msg_k'))).toBe('accept');
    const mine = signWebhook(crypto, secret, 'msg_k', NOW, BODY);
    expect(referenceVerdict(secret, headers(mine, 'msg_k'))).toBe('accept');
  });

  it('agrees with the reference on any secret text', () => {
    const alphabet = fc.constantFrom(...'ABCDEFabcdef0123456789+/=-_ .'.split(''));
    fc.assert(
      fc.property(fc.boolean(), fc.string({ unit: alphabet, maxLength: 40 }), (prefixed, text) => {
        const secret = (prefixed ? 'whsec_' : '') + text;
        const refused = referenceVerdict(secret, headers('')) === 'secret';
        expect(signingKeyOf(secret) instanceof Error).toBe(refused);
        if (!refused)
          expect(ourVerdict(secret, headers(referenceSign(secret, 'm', NOW), 'm'))).toBe('accept');
      }),
      { numRuns: 500 },
    );
  });
});

describe('deliveries, as the reference verifies them', () => {
  const good = (id = 'msg_1', ts = NOW) => referenceSign(SECRET, id, ts);
  const many = (n: number) => [...Array.from({ length: n - 1 }, (_, i) => (i % 2 ? v1a() : other())), good()];

  it.each<[string, SignedHeaders, 'accept' | 400 | 401, 'accept' | 'refuse']>([
    ['one v1 signature', headers(good()), 'accept', 'accept'],
    ['a wrong signature', headers(other()), 401, 'refuse'],
    ['a rotated secret first, then the right one', headers(`${other()} ${good()}`), 'accept', 'accept'],
    ['v1a entries beside v1', headers(`${v1a()} ${good()} ${v1a()}`), 'accept', 'accept'],
    ['v1a entries only', headers(`${v1a()} ${v1a()}`), 401, 'refuse'],
    ['the right value under another version', headers(good().replace('v1,', 'v2,')), 401, 'refuse'],
    ['version in capitals', headers(good().replace('v1,', 'V1,')), 401, 'refuse'],
    ['an entry without a comma', headers(`v1 ${good()}`), 'accept', 'accept'],
    ['extra spaces between entries', headers(`  ${other()}   ${good()} `), 'accept', 'accept'],
    ['a trailing field after the value', headers(`${good()},x`), 'accept', 'accept'],
    ['the value without its padding', headers(good().replace(/=+$/, '')), 401, 'refuse'],
    ['the value with a character more', headers(`${good()}A`), 401, 'refuse'],
    [
      `${MAX_SIGNATURES} entries, the last one right`,
      headers(many(MAX_SIGNATURES).join(' ')),
      'accept',
      'accept',
    ],
    // ours: over the cap is a 400 that says so; the reference has no cap
    [`${MAX_SIGNATURES + 1} entries`, headers(many(MAX_SIGNATURES + 1).join(' ')), 400, 'accept'],
    ['no webhook-id', { ...headers(good()), id: undefined }, 401, 'refuse'],
    ['no webhook-timestamp', { ...headers(good()), timestamp: undefined }, 401, 'refuse'],
    ['no webhook-signature', { ...headers(good()), signature: undefined }, 401, 'refuse'],
    ['5 minutes old', headers(good('msg_1', NOW - 300), 'msg_1', NOW - 300), 'accept', 'accept'],
    ['5 minutes and a second old', headers(good('msg_1', NOW - 301), 'msg_1', NOW - 301), 401, 'refuse'],
    ['5 minutes ahead', headers(good('msg_1', NOW + 300), 'msg_1', NOW + 300), 'accept', 'accept'],
    ['5 minutes and a second ahead', headers(good('msg_1', NOW + 301), 'msg_1', NOW + 301), 401, 'refuse'],
    ['a timestamp that is not a number', headers(good(), 'msg_1', 'soon'), 401, 'refuse'],
    // ours: the timestamp is whole seconds and nothing else; the reference reads it with parseInt
    ['a timestamp with trailing text', headers(good(), 'msg_1', `${NOW}s`), 401, 'accept'],
    [
      'an id with spaces and punctuation',
      headers(good('evt 1/2.3,4;5'), 'evt 1/2.3,4;5'),
      'accept',
      'accept',
    ],
    ['an id of 256 characters', headers(good('i'.repeat(256)), 'i'.repeat(256)), 'accept', 'accept'],
    ['an id with Latin-1 letters', headers(good('évènement-ü'), 'évènement-ü'), 'accept', 'accept'],
    ['signed for another id', headers(good('msg_2'), 'msg_1'), 401, 'refuse'],
  ])('%s', (_name, signed, ours, reference) => {
    expect(ourVerdict(SECRET, signed)).toBe(ours);
    expect(referenceVerdict(SECRET, signed)).toBe(reference);
  });

  it('agrees with the reference on any printable id and body', () => {
    const printable = fc.string({
      unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))),
      minLength: 1,
      maxLength: 256,
    });
    fc.assert(
      fc.property(
        printable,
        fc.string({ maxLength: 200 }),
        fc.integer({ min: -400, max: 400 }),
        (id, body, skew) => {
          const signed = headers(referenceSign(SECRET, id, NOW + skew, body), id, NOW + skew);
          const reference = referenceVerdict(SECRET, signed, body);
          expect(ourVerdict(SECRET, signed, body)).toBe(reference === 'accept' ? 'accept' : 401);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses every delivery, and accepts none, when the secret became unusable', () => {
    for (const secret of ['whsec_', '', 'not base64!'])
      expect(verifyWebhook(crypto, secret, headers(good()), BODY, NOW_MS)).toEqual({
        code: 'UNAUTHENTICATED',
        message: expect.stringContaining('signing secret is unusable'),
      });
  });
});
