/**
 * OAuth2 client credentials: the token is fetched through the guarded client, cached until shortly
 * before it expires, fetched once for concurrent callers, and refreshed on demand after a 401.
 */
import type { AuthConfig } from '../../../core/actions/kinds/http.ts';
import type { Clock } from '../../../core/ports/clock.ts';
import { EgressError, type HttpClient } from '../../../core/ports/http-client.ts';
import type { ResolvedSecret } from '../../executions/secret-access.ts';
import { guardRedirects, refusal, secretRefusedFor } from '../host-binding.ts';

type OAuth2Auth = Extract<AuthConfig, { type: 'oauth2_client_credentials' }>;

const DEFAULT_LIFETIME_S = 3600;
const TOKEN_TIMEOUT_MS = 10_000;

export class TokenError extends Error {
  override name = 'TokenError';
}

export class OAuthTokenCache {
  readonly #http: HttpClient;
  readonly #clock: Clock;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(http: HttpClient, clock: Clock) {
    this.#http = http;
    this.#clock = clock;
  }

  /** A valid access token; `refresh` skips the cache (after the API answered 401). */
  async token(
    organizationId: string,
    auth: OAuth2Auth,
    secret: ResolvedSecret,
    refresh = false,
  ): Promise<string> {
    const key = JSON.stringify([
      organizationId,
      auth.token_url,
      auth.client_id,
      [...(auth.scopes ?? [])].sort(),
      auth.audience ?? '',
      secret.record.id,
      secret.record.updatedAt,
    ]);
    const cached = this.#tokens.get(key);
    if (!refresh && cached && cached.expiresAt > this.#clock.now()) return cached.token;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const fetching = this.#fetch(auth, secret)
      .then(({ token, lifetimeS }) => {
        const margin = Math.min(30_000, lifetimeS * 100); // 10% of the lifetime, at most 30 s
        this.#tokens.set(key, { token, expiresAt: this.#clock.now() + lifetimeS * 1000 - margin });
        return token;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, fetching);
    return fetching;
  }

  async #fetch(auth: OAuth2Auth, secret: ResolvedSecret): Promise<{ token: string; lifetimeS: number }> {
    const tokenHost = new URL(auth.token_url).hostname;
    const refused = secretRefusedFor(tokenHost, [secret.record], [tokenHost]);
    if (refused) throw refusal(refused, tokenHost, [tokenHost], false);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: auth.client_id,
      client_secret: secret.value,
    });
    if (auth.scopes && auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
    if (auth.audience) form.set('audience', auth.audience);
    let response;
    try {
      response = await this.#http.request({
        method: 'POST',
        url: auth.token_url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        timeoutMs: TOKEN_TIMEOUT_MS,
        maxResponseBytes: 64 * 1024,
        beforeRedirect: guardRedirects([secret.record], [tokenHost]),
      });
    } catch (error) {
      if (error instanceof EgressError) throw error;
      throw new TokenError(`The token endpoint ${tokenHost} could not be reached`, { cause: error });
    }
    if (response.status < 200 || response.status > 299) {
      throw new TokenError(
        `The token endpoint ${tokenHost} refused the client credentials (HTTP ${response.status})`,
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(new TextDecoder().decode(response.body)) as typeof parsed;
    } catch {
      throw new TokenError(`The token endpoint ${tokenHost} did not answer with JSON`);
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new TokenError(`The token endpoint ${tokenHost} answered without an access_token`);
    }
    const expiresIn = Number(parsed.expires_in);
    return {
      token: parsed.access_token,
      lifetimeS: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_LIFETIME_S,
    };
  }
}
