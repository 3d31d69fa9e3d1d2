/**
 * Standard Webhooks (standardwebhooks.com) signatures for webhook triggers, as the reference library
 * (`standardwebhooks` on npm) checks them: `webhook-signature` holds space-separated `<version>,<value>`
 * entries, and a delivery is signed when a `v1` entry equals the base64 HMAC-SHA256 of
 * `"<webhook-id>.<webhook-timestamp>.<body>"`; other versions (`v1a`, asymmetric) are skipped. The secret is
 * base64, with or without a `whsec_` prefix. Ours rather than the library's verify: that one reads the
 * system clock (we inject one) and computes the HMAC in JavaScript (ours is the crypto port's); the
 * tests check the two agree case by case. docs/security.md G01-G03.
 */
import type { Crypto } from '../../core/ports/crypto.ts';

/** ±5 minutes, as the specification recommends. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Entries one `webhook-signature` may carry: room for many rotated secrets of both versions. */
export const MAX_SIGNATURES = 64;
/** The longest `webhook-id` (and `Idempotency-Key`) a delivery may carry, in bytes. */
export const MAX_DELIVERY_ID_BYTES = 256;

const SECRET_PREFIX = 'whsec_';

/** `trigger_configuration.signing_secret_id` of a webhook trigger: undefined when none, an Error when malformed. */
export function signingSecretIdOf(configuration: unknown): string | undefined | Error {
  if (configuration === null || configuration === undefined) return undefined;
  if (typeof configuration !== 'object' || Array.isArray(configuration))
    return new Error('must be an object');
  const id = (configuration as Record<string, unknown>).signing_secret_id;
  if (id === undefined || id === null) return undefined;
  return typeof id === 'string' && id.length > 0 ? id : new Error('signing_secret_id must be a secret id');
}

/**
 * The HMAC key of a signing secret, or why there is none, decoded as the reference library decodes it:
 * the text after an optional `whsec_` is standard base64 of at least 4 characters, with at most 2 `=` of
 * padding (or none), so the same secrets work here and with any sender using it. A key of zero bytes is
 * refused, since anyone could sign with it.
 */
export function signingKeyOf(secret: string): Uint8Array | Error {
  const text = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (text.length === 0)
    return new Error(`is empty: a signing secret is ${SECRET_PREFIX} followed by base64 of its key`);
  const notBase64 = new Error(`is not base64 (after an optional ${SECRET_PREFIX} prefix)`);
  const padding = text.length - text.replace(/=+$/, '').length;
  if (text.length < 4 || padding > 2) return notBase64;
  let digits = text.slice(0, text.length - padding);
  // the reference decoder never reads a lone character after the last group of four
  if (digits.length % 4 === 1) digits = digits.slice(0, -1);
  if (!/^[A-Za-z0-9+/]*$/.test(digits)) return notBase64;
  const key = Buffer.from(digits, 'base64');
  return key.length > 0 ? key : new Error('decodes to an empty key');
}

const signatureOf = (crypto: Crypto, key: Uint8Array, id: string, timestamp: number, body: string): string =>
  Buffer.from(crypto.hmacSha256(key, `${id}.${timestamp}.${body}`)).toString('base64');

/** The `v1` entry for a delivery; throws when the secret has no usable key. */
export function signWebhook(
  crypto: Crypto,
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): string {
  const key = signingKeyOf(secret);
  if (key instanceof Error) throw new Error(`The signing secret ${key.message}`);
  return `v1,${signatureOf(crypto, key, id, timestamp, body)}`;
}

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Why a delivery is refused: a malformed request (400) or one that is not signed by the secret (401). */
export interface Refusal {
  code: 'VALIDATION_FAILED' | 'UNAUTHENTICATED';
  message: string;
}

const textEqual = (crypto: Crypto, a: string, b: string): boolean =>
  crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Why a delivery is refused, or undefined when it is signed by `secret` within the tolerance. */
export function verifyWebhook(
  crypto: Crypto,
  secret: string,
  headers: SignedHeaders,
  body: string,
  nowMs: number,
): Refusal | undefined {
  const unauthenticated = (message: string): Refusal => ({ code: 'UNAUTHENTICATED', message });
  // a secret rotated to an unusable value since the workflow was saved: refuse, never accept
  const key = signingKeyOf(secret);
  if (key instanceof Error)
    return unauthenticated('The webhook cannot verify deliveries: its signing secret is unusable');
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return unauthenticated('webhook-id, webhook-timestamp and webhook-signature are required');
  const entries = signature.split(' ').filter((entry) => entry.length > 0);
  if (entries.length > MAX_SIGNATURES)
    return {
      code: 'VALIDATION_FAILED',
      message: `webhook-signature carries ${entries.length} signatures; at most ${MAX_SIGNATURES} are accepted`,
    };
  if (!/^\d{1,12}$/.test(timestamp))
    return unauthenticated('webhook-timestamp must be whole seconds since the epoch');
  const seconds = Number(timestamp);
  if (Math.abs(Math.floor(nowMs / 1000) - seconds) > SIGNATURE_TOLERANCE_SECONDS)
    return unauthenticated('webhook-timestamp is outside the 5 minute tolerance');
  const expected = signatureOf(crypto, key, id, seconds, body);
  for (const entry of entries) {
    const [version, value] = entry.split(',');
    if (version === 'v1' && value !== undefined && textEqual(crypto, value, expected)) return undefined;
  }
  return unauthenticated('webhook-signature does not match');
}
