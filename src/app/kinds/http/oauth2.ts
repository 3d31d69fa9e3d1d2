/** OAuth2 client credentials: the token request of RFC 6749 section 4.4, cached by TokenCache. */
import type { AuthConfig } from '../../../core/actions/kinds/http.ts';
import type { HttpClient } from '../../../core/ports/http-client.ts';
import type { ResolvedSecret } from '../../../core/ports/secret-reveal.ts';
import { TokenError, fetchTokenJson, lifetimeOf, type IssuedToken } from './token-cache.ts';

export type OAuth2Auth = Extract<AuthConfig, { type: 'oauth2_client_credentials' }>;

const DEFAULT_LIFETIME_S = 3600;

/** What a cached token depends on: a changed secret or scope fetches a new one. */
export const clientCredentialsKey = (organizationId: string, auth: OAuth2Auth, secret: ResolvedSecret) =>
  JSON.stringify([
    organizationId,
    auth.type,
    auth.token_url,
    auth.client_id,
    [...(auth.scopes ?? [])].sort(),
    auth.audience ?? '',
    secret.record.id,
    secret.record.updatedAt,
  ]);

export async function fetchClientCredentials(
  http: HttpClient,
  auth: OAuth2Auth,
  secret: ResolvedSecret,
): Promise<IssuedToken> {
  const host = new URL(auth.token_url).hostname;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: auth.client_id,
    client_secret: secret.value,
  });
  if (auth.scopes && auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
  if (auth.audience) form.set('audience', auth.audience);
  const parsed = await fetchTokenJson(
    http,
    {
      method: 'POST',
      url: auth.token_url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    },
    secret.record,
    (status) => `The token endpoint ${host} refused the client credentials (HTTP ${status})`,
  );
  if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
    throw new TokenError(`The token endpoint ${host} answered without an access_token`);
  return { token: parsed.access_token, lifetimeS: lifetimeOf(parsed.expires_in, DEFAULT_LIFETIME_S) };
}
