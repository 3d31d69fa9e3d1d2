/**
 * An authorization URL fetched before the call (a webhook's `authorization_url`): called with the
 * secret as a Bearer or Basic credential when one is named, its JSON answer holds the token at
 * `token_path` (default `access_token`, then `token`). Without `expires_in` a token is kept 5 minutes:
 * an endpoint that says nothing about lifetime is not trusted with a long one (a 401 refreshes it anyway).
 */
import type { AuthConfig } from '../../../core/actions/kinds/http.ts';
import { valueAtPath } from '../../../core/actions/spoken.ts';
import type { HttpClient } from '../../../core/ports/http-client.ts';
import type { ResolvedSecret } from '../../../core/ports/secret-reveal.ts';
import { TokenError, fetchTokenJson, lifetimeOf, type IssuedToken } from './token-cache.ts';

export type TokenUrlAuth = Extract<AuthConfig, { type: 'token_url' }>;

const DEFAULT_LIFETIME_S = 300;
const DEFAULT_PATHS = ['access_token', 'token'];

export const tokenUrlKey = (organizationId: string, auth: TokenUrlAuth, secret: ResolvedSecret | null) =>
  JSON.stringify([
    organizationId,
    auth.type,
    auth.url,
    auth.method ?? 'POST',
    auth.username ?? '',
    auth.token_path ?? '',
    secret?.record.id ?? '',
    secret?.record.updatedAt ?? '',
  ]);

/** The header that carries the token on the action's request, and its value. */
export function tokenHeader(auth: TokenUrlAuth, token: string): [string, string] {
  const header = auth.header ?? 'Authorization';
  const prefix = auth.prefix ?? (header.toLowerCase() === 'authorization' ? 'Bearer ' : '');
  return [header, `${prefix}${token}`];
}

/** The credential the token URL is called with; the caller registers a Basic one for redaction. */
export function credentialHeader(auth: TokenUrlAuth, secret: ResolvedSecret | null): string | undefined {
  if (!secret) return undefined;
  if (auth.username === undefined) return `Bearer ${secret.value}`;
  return `Basic ${Buffer.from(`${auth.username}:${secret.value}`, 'utf8').toString('base64')}`;
}

export async function fetchFromTokenUrl(
  http: HttpClient,
  auth: TokenUrlAuth,
  secret: ResolvedSecret | null,
): Promise<IssuedToken> {
  const host = new URL(auth.url).hostname;
  const credential = credentialHeader(auth, secret);
  const method = auth.method ?? 'POST';
  const parsed = await fetchTokenJson(
    http,
    {
      method,
      url: auth.url,
      headers: credential === undefined ? {} : { authorization: credential },
      ...(method === 'POST' ? { body: '' } : {}),
    },
    secret?.record ?? null,
    (status) => `The authorization URL ${host} refused to issue a token (HTTP ${status})`,
  );
  const paths = auth.token_path === undefined ? DEFAULT_PATHS : [auth.token_path];
  const token = paths.map((path) => valueAtPath(parsed, path)).find((v) => typeof v === 'string' && v !== '');
  if (typeof token !== 'string')
    throw new TokenError(`The authorization URL ${host} answered without a token at ${paths.join(' or ')}`);
  if (/[\r\n\0]/.test(token))
    throw new TokenError(`The authorization URL ${host} answered with an unusable token`);
  return { token, lifetimeS: lifetimeOf(parsed.expires_in, DEFAULT_LIFETIME_S) };
}
