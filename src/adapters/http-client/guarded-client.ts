/**
 * The one HttpClient of the project (docs/security.md G-01): undici with a shared keep-alive Agent, the SSRF
 * guard checked before every hop and again inside every connection's lookup, redirects followed by
 * hand, one total deadline, and a response cap counted after decoding.
 */
import { Agent, type Dispatcher } from 'undici';
import {
  EgressError,
  type EgressRequest,
  type EgressResponse,
  type HttpClient,
  type RedirectHop,
} from '../../core/ports/http-client.ts';
import { compileAllowList, normalizeHost } from './address-policy.ts';
import { createConnector } from './connector.ts';
import { Exchange } from './exchange.ts';
import { createGuardedLookup } from './guarded-lookup.ts';
import { requestHeaders, responseHeaders, withoutHeaders } from './headers.ts';
import type { EgressOptions } from './options.ts';
import {
  BODY_HEADERS,
  CREDENTIAL_HEADERS,
  REDIRECT_STATUSES,
  redirectMethod,
  redirectTarget,
} from './redirects.ts';
import { type Resolver, serverResolver, systemResolver } from './resolver.ts';
import { type Route, createUrlGuard } from './url-guard.ts';

export interface GuardedClientDeps {
  /** Replaces DNS resolution (unit tests); the guard still checks every address it returns. */
  resolve?: Resolver;
}

/** Per origin; enough for the load a server in the middle sees, bounded so one origin cannot hog sockets. */
const CONNECTIONS_PER_ORIGIN = 128;
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function createGuardedHttpClient(options: EgressOptions, deps: GuardedClientDeps = {}): HttpClient {
  const settings = Object.freeze({ ...options });
  const allowList = compileAllowList(settings.allowPrivateNetworks);
  const guard = createUrlGuard(allowList, settings.allowedPorts);
  const resolve =
    deps.resolve ??
    (settings.dnsServers.length > 0
      ? serverResolver(settings.dnsServers, settings.connectTimeoutMs)
      : systemResolver());

  const agentFor = (route: Route): Agent =>
    new Agent({
      connections: CONNECTIONS_PER_ORIGIN,
      // The exchange's own deadline is the real limit; these only stop a socket outliving the cap.
      headersTimeout: settings.timeoutCapMs,
      bodyTimeout: settings.timeoutCapMs,
      connect: createConnector(createGuardedLookup(resolve, allowList, route), settings.connectTimeoutMs),
    });
  const openAgent = agentFor('open');
  // Only host names on ports closed to the public use it; most deployments never create it.
  let allowlistedAgent: Agent | undefined;
  const dispatcherFor = (route: Route): Dispatcher =>
    route === 'open' ? openAgent : (allowlistedAgent ??= agentFor('allowlisted'));

  async function request(req: EgressRequest): Promise<EgressResponse> {
    const deadlineMs = clamp(req.timeoutMs, settings.timeoutMs, settings.timeoutCapMs, 1);
    const limit = clamp(req.maxResponseBytes, settings.responseLimitBytes, settings.responseCapBytes, 0);
    const maxRedirects = clamp(req.maxRedirects, settings.maxRedirects, settings.maxRedirects, 0);

    let url = guard.parse(req.url);
    let route = guard.check(url);
    let method = req.method;
    if (!HTTP_TOKEN.test(method) || method.toUpperCase() === 'CONNECT') {
      throw new EgressError('INVALID_URL', `the request method is not a valid HTTP method`);
    }
    let body = req.body;
    if (body !== undefined) {
      const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      if (size > settings.requestLimitBytes) {
        throw new EgressError(
          'REQUEST_TOO_LARGE',
          `the request body (${size} bytes) is over the ${settings.requestLimitBytes}-byte limit`,
        );
      }
    }
    if (req.signal?.aborted === true) {
      throw new EgressError(
        'ABORTED',
        `the request to ${normalizeHost(url.hostname)} was aborted by the caller`,
      );
    }
    let headers = requestHeaders(req.headers, settings.userAgent);

    const exchange = new Exchange(deadlineMs, req.signal, normalizeHost(url.hostname));
    try {
      for (let redirects = 0; ; redirects++) {
        const host = normalizeHost(url.hostname);
        const response = await exchange.hop(
          dispatcherFor(route),
          { origin: url.origin, path: url.pathname + url.search, method, headers, body: body ?? null },
          { host, method, limit, followRedirects: maxRedirects > 0 },
        );
        const next = REDIRECT_STATUSES.has(response.status)
          ? redirectTarget(response.headers.location, url, host)
          : undefined;
        if (next === undefined || maxRedirects === 0) {
          return {
            status: response.status,
            headers: responseHeaders(response.headers, response.decoded),
            body: response.body,
            url: url.href,
            redirects,
          };
        }
        if (redirects >= maxRedirects) {
          throw new EgressError('TOO_MANY_REDIRECTS', `${host} redirected more than ${maxRedirects} times`);
        }
        const nextRoute = checkHop(next, host);
        const rewrite = redirectMethod(response.status, method);
        if (rewrite.dropsBody) {
          body = undefined;
          headers = withoutHeaders(headers, BODY_HEADERS);
        }
        if (next.origin !== url.origin) {
          const hop: RedirectHop = {
            from: url,
            to: next,
            status: response.status,
            method: rewrite.method,
            keepsBody: body !== undefined,
          };
          callBeforeRedirect(req, hop);
          headers = withoutHeaders(headers, CREDENTIAL_HEADERS);
        }
        method = rewrite.method;
        url = next;
        route = nextRoute;
      }
    } catch (error) {
      throw exchange.toEgressError(error, normalizeHost(url.hostname), url.port);
    } finally {
      exchange.dispose();
    }
  }

  /** The same guard as the first request; the message says it was a redirect that was refused. */
  function checkHop(next: URL, from: string): Route {
    try {
      return guard.check(next);
    } catch (error) {
      if (!(error instanceof EgressError)) throw error;
      throw new EgressError(error.code, `redirect from ${from} refused: ${error.message}`);
    }
  }

  return {
    request,
    checkUrl(url) {
      guard.check(guard.parse(url));
    },
    async close() {
      await Promise.all([openAgent.close(), allowlistedAgent?.close()]);
    },
  };
}

/** A throw refuses the hop; anything but an EgressError is wrapped so the failure stays typed. */
function callBeforeRedirect(req: EgressRequest, hop: RedirectHop): void {
  if (req.beforeRedirect === undefined) return;
  try {
    req.beforeRedirect(hop);
  } catch (error) {
    if (error instanceof EgressError) throw error;
    throw new EgressError('EGRESS_DENIED', `redirect to ${normalizeHost(hop.to.hostname)} refused`, {
      cause: error,
    });
  }
}

/** The caller's value (or the default), never over the operator's cap, never under `min`. */
function clamp(asked: number | undefined, fallback: number, cap: number, min: number): number {
  const value = asked === undefined || !Number.isFinite(asked) ? fallback : Math.floor(asked);
  return Math.max(min, Math.min(value, cap));
}
