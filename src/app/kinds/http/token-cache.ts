/**
 * Tokens an http action fetches before its call (OAuth2 client credentials, an authorization URL): each
 * fetched through the guarded client, its secret kept on the token endpoint's host, cached until shortly
 * before it expires, fetched once for concurrent callers, and refreshed on demand after a 401.
 */
import type { Clock } from '../../../core/ports/clock.ts';
import { EgressError, type EgressRequest, type HttpClient } from '../../../core/ports/http-client.ts';
import type { SecretRecord } from '../../../core/secrets.ts';
import { guardRedirects, refusal, secretRefusedFor } from '../host-binding.ts';

const TOKEN_TIMEOUT_MS = 10_000;
const TOKEN_RESPONSE_BYTES = 64 * 1024;

export class TokenError extends Error {
  override name = 'TokenError';
}

export interface IssuedToken {
  token: string;
  lifetimeS: number;
}

export class TokenCache {
  readonly #clock: Clock;
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();
  readonly #inflight = new Map<string, Promise<string>>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A valid token for `key`; `refresh` skips the cache (after the API answered 401). */
  async token(key: string, fetch: () => Promise<IssuedToken>, refresh = false): Promise<string> {
    const cached = this.#tokens.get(key);
    if (!refresh && cached && cached.expiresAt > this.#clock.now()) return cached.token;
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const fetching = fetch()
      .then(({ token, lifetimeS }) => {
        const margin = Math.min(30_000, lifetimeS * 100); // 10% of the lifetime, at most 30 s
        this.#tokens.set(key, { token, expiresAt: this.#clock.now() + lifetimeS * 1000 - margin });
        return token;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, fetching);
    return fetching;
  }
}

/**
 * Calls a token endpoint and parses its JSON answer. `secret`, when the request carries one, may only go
 * to the endpoint's host (or its allowed_hosts), redirects included. `refused` describes a non-2xx answer.
 */
export async function fetchTokenJson(
  http: HttpClient,
  request: Pick<EgressRequest, 'method' | 'url' | 'headers' | 'body'>,
  secret: SecretRecord | null,
  refused: (status: number) => string,
): Promise<Record<string, unknown>> {
  const host = new URL(request.url).hostname;
  const carried = secret ? [secret] : [];
  const refusedSecret = secretRefusedFor(host, carried, [host]);
  if (refusedSecret) throw refusal(refusedSecret, host, [host], false);
  let response;
  try {
    response = await http.request({
      ...request,
      headers: { accept: 'application/json', ...request.headers },
      timeoutMs: TOKEN_TIMEOUT_MS,
      maxResponseBytes: TOKEN_RESPONSE_BYTES,
      beforeRedirect: guardRedirects(carried, [host]),
    });
  } catch (error) {
    if (error instanceof EgressError) throw error;
    throw new TokenError(`The token endpoint ${host} could not be reached`, { cause: error });
  }
  if (response.status < 200 || response.status > 299) throw new TokenError(refused(response.status));
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(response.body));
  } catch {
    throw new TokenError(`The token endpoint ${host} did not answer with JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new TokenError(`The token endpoint ${host} did not answer with a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Seconds from an `expires_in`, or the fallback when it is absent or not a positive number. */
export function lifetimeOf(expiresIn: unknown, fallbackS: number): number {
  const seconds = Number(expiresIn);
  return expiresIn !== null && Number.isFinite(seconds) && seconds > 0 ? seconds : fallbackS;
}
