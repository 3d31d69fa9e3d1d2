/**
 * Redirects are followed by hand so every hop passes the same guard as the first request (docs/security.md
 * A06, G-03). These are the fetch-standard rewrite rules; the client applies them.
 */
import { EgressError } from '../../core/ports/http-client.ts';

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Sent only with a body: dropped with it when a redirect turns the request into a GET. */
export const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
]);

/** Never carried to another origin: the callback decides whether the hop happens, not what it carries. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
]);

/** The method after a redirect, and whether the body (with its headers) is dropped. */
export function redirectMethod(status: number, method: string): { method: string; dropsBody: boolean } {
  const upper = method.toUpperCase();
  if ((status === 301 || status === 302) && upper === 'POST') return { method: 'GET', dropsBody: true };
  if (status === 303 && upper !== 'GET' && upper !== 'HEAD') return { method: 'GET', dropsBody: true };
  return { method, dropsBody: false };
}

/** The next URL, resolved against the current one; a missing Location means "not a redirect". */
export function redirectTarget(
  location: string | string[] | undefined,
  current: URL,
  host: string,
): URL | undefined {
  if (location === undefined) return undefined;
  if (typeof location !== 'string') {
    throw new EgressError('CONNECTION_FAILED', `${host} sent a redirect with several Location headers`);
  }
  try {
    return new URL(location, current);
  } catch {
    throw new EgressError('CONNECTION_FAILED', `${host} sent a redirect to an invalid URL`);
  }
}
