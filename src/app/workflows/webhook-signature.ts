/**
 * Standard Webhooks (standardwebhooks.com) signatures for webhook triggers: `webhook-signature` holds
 * space-separated `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`; the secret is
 * a secret-store value, `whsec_<base64 key>` or a raw string. SECURITY.md G01-G03.
 */
import type { Crypto } from '../../core/ports/crypto.ts';

/** ±5 minutes, as the specification recommends. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** `trigger_configuration.signing_secret_id` of a webhook trigger: undefined when none, an Error when malformed. */
export function signingSecretIdOf(configuration: unknown): string | undefined | Error {
  if (configuration === null || configuration === undefined) return undefined;
  if (typeof configuration !== 'object' || Array.isArray(configuration))
    return new Error('must be an object');
  const id = (configuration as Record<string, unknown>).signing_secret_id;
  if (id === undefined || id === null) return undefined;
  return typeof id === 'string' && id.length > 0 ? id : new Error('signing_secret_id must be a secret id');
}

const keyOf = (secret: string): Buffer =>
  secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');

const macOf = (crypto: Crypto, secret: string, id: string, timestamp: number, body: string): Uint8Array =>
  crypto.hmacSha256(keyOf(secret), `${id}.${timestamp}.${body}`);

export function signWebhook(
  crypto: Crypto,
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): string {
  return `v1,${Buffer.from(macOf(crypto, secret, id, timestamp, body)).toString('base64')}`;
}

export interface SignedHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Why a delivery is refused, or undefined when it is signed by `secret` within the tolerance. */
export function verifyWebhook(
  crypto: Crypto,
  secret: string,
  headers: SignedHeaders,
  body: string,
  nowMs: number,
): string | undefined {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return 'webhook-id, webhook-timestamp and webhook-signature are required';
  if (!/^\d{1,12}$/.test(timestamp)) return 'webhook-timestamp must be whole seconds since the epoch';
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > SIGNATURE_TOLERANCE_SECONDS)
    return 'webhook-timestamp is outside the 5 minute tolerance';
  const expected = macOf(crypto, secret, id, seconds, body);
  for (const candidate of signature.split(' ')) {
    const [version, value] = candidate.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (crypto.timingSafeEqual(given, expected)) return undefined;
  }
  return 'webhook-signature does not match';
}
