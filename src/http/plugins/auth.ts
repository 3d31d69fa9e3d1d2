/**
 * Authentication, scopes and request limits for every route that declares `config.scope`.
 * A route without `scope` or `public` stops the server from starting (docs/security.md G-08).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiKeyService } from '../../app/api-keys.ts';
import { AppError } from '../../core/errors.ts';
import { clientGroup } from '../../core/ip-address.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import { hasScope } from '../../core/scopes.ts';
import type { Principal } from '../../core/tenancy.ts';
import type { RouteScope } from '../types.ts';

/** Requests per rolling minute an API key, and its organization across all its keys, may make (0: no limit). */
export interface RequestLimits {
  perKey: number;
  perOrganization: number;
}

export interface AuthOptions {
  apiKeys: ApiKeyService;
  /** Counts requests per key and organization, and failed authentications per client. */
  rateLimiter: RateLimiter;
  limits: RequestLimits & {
    /** Failed authentications per minute from one client (clientGroup) before 429. */
    authFailures: number;
    /** The IPv6 prefix length that makes one client. */
    authFailureIpv6Prefix: number;
  };
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const CREDENTIAL_QUERY_PARAMETERS = ['api_key', 'apikey', 'key', 'token', 'access_token', 'authorization'];

/**
 * Counts one request against `key`'s rolling minute; past `perMinute` (0: no limit), a 429 with
 * Retry-After. `message` may be a function, so that the refusal's text is only made for a refusal.
 */
export async function enforceRateLimit(
  rateLimiter: RateLimiter,
  key: string,
  perMinute: number,
  message: string | (() => string),
): Promise<void> {
  if (perMinute <= 0) return;
  const decision = await rateLimiter.consume(key, perMinute);
  if (!decision.allowed)
    throw new AppError('RATE_LIMITED', typeof message === 'string' ? message : message(), {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
}

/**
 * countRequest decided at once, when the limiter keeps its counts in this process: true when counted,
 * false when only countRequest can count it; throws the 429 past either limit.
 */
function countRequestNow(rateLimiter: RateLimiter, principal: Principal, limits: RequestLimits): boolean {
  if (!rateLimiter.consumeNow) return false;
  const limit = (key: string, perMinute: number, what: string) => {
    if (perMinute <= 0) return;
    const decision = rateLimiter.consumeNow?.(key, perMinute);
    if (decision && !decision.allowed)
      throw new AppError(
        'RATE_LIMITED',
        `Rate limit of ${perMinute} requests per minute for this ${what} exceeded`,
        { retryAfterSeconds: decision.retryAfterSeconds },
      );
  };
  limit(`key:${principal.keyId}`, limits.perKey, 'API key');
  limit(`org:${principal.organizationId}`, limits.perOrganization, 'organization');
  return true;
}

/** Counts one request against the caller's key and its organization: a 429 past either limit. */
export async function countRequest(
  rateLimiter: RateLimiter,
  principal: Principal,
  limits: RequestLimits,
): Promise<void> {
  const limit = (key: string, perMinute: number, what: string) =>
    enforceRateLimit(
      rateLimiter,
      key,
      perMinute,
      () => `Rate limit of ${perMinute} requests per minute for this ${what} exceeded`,
    );
  await limit(`key:${principal.keyId}`, limits.perKey, 'API key');
  await limit(`org:${principal.organizationId}`, limits.perOrganization, 'organization');
}

/**
 * The challenge every 401 carries (RFC 6750): `invalid_token` with the reason, so a client (MCP Inspector,
 * the MCP SDKs) tells its user the API key was refused instead of starting an OAuth flow this server does
 * not offer. The reason is one of the fixed sentences below, never the key; a quoted-string holds no `"`.
 */
export const bearerChallenge = (reason: string): string =>
  `Bearer realm="switchboard", error="invalid_token", error_description="${reason.replaceAll('"', "'")}"`;

export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const { apiKeys, rateLimiter, limits } = options;
  const routes: RouteOptions[] = [];

  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    routes.push(route);
    const scope = route.config?.scope;
    // a public route says so in the document, so clients and linters do not assume the global default
    if (route.config?.public && route.schema && !route.schema.hide) route.schema.security ??= [];
    if (scope && route.schema && !route.schema.hide) {
      route.schema.security ??= [{ bearerAuth: [] }];
      const description = route.schema.description ?? '';
      if (!description.includes('Scope:')) {
        route.schema.description = `${description}${description ? '\n\n' : ''}Scope: \`${scope === 'authenticated' ? 'any valid API key' : scope}\``;
      }
    }
  });

  app.addHook('onReady', async () => {
    const undeclared = routes.filter((r) => !r.config?.scope && !r.config?.public);
    if (undeclared.length > 0) {
      const names = undeclared.map((r) => `${String(r.method)} ${r.url}`).join(', ');
      throw new Error(`Routes must declare config.scope or config.public: ${names}`);
    }
  });

  /** A 401, or a 429 once the client has failed too often: guessing keys costs a rolling minute. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, message: string): Promise<never> {
    const client = clientGroup(request.ip, limits.authFailureIpv6Prefix);
    await enforceRateLimit(
      rateLimiter,
      `auth-failure:${client}`,
      limits.authFailures,
      'Too many failed authentications from this address; wait and retry',
    );
    reply.header('www-authenticate', bearerChallenge(message));
    throw new AppError('UNAUTHENTICATED', message);
  }

  /** The scope check once the caller is known and counted; the principal is then the request's. */
  function admit(request: FastifyRequest, scope: RouteScope, principal: Principal): void {
    if (scope !== 'authenticated' && !hasScope(principal.scopes, scope)) {
      throw new AppError('INSUFFICIENT_SCOPE', `This API key lacks the "${scope}" scope this route needs`, {
        details: { required_scope: scope },
      });
    }
    request.principal = principal;
  }

  /** Every step that may wait: refusals (which count failures), a key not yet in hand, the limiter's I/O. */
  async function authenticate(
    request: FastifyRequest,
    reply: FastifyReply,
    scope: RouteScope,
    token: string | undefined,
    found: Principal | undefined | Promise<Principal | undefined>,
  ): Promise<void> {
    const query = request.query as Record<string, unknown> | undefined;
    if (query && CREDENTIAL_QUERY_PARAMETERS.some((name) => name in query)) {
      await refuse(
        request,
        reply,
        'API keys are accepted only in the Authorization header, never in the URL',
      );
    }
    const header = request.headers.authorization;
    if (!header) return refuse(request, reply, 'Missing API key: send Authorization: Bearer <API key>');
    if (!token) return refuse(request, reply, 'The Authorization header must be "Bearer <API key>"');
    const principal = await found;
    if (!principal) return refuse(request, reply, 'The API key is not valid');
    await countRequest(rateLimiter, principal, limits);
    admit(request, scope, principal);
  }

  // A callback hook: a caller whose key this process holds, counted by an in-memory limiter, is let
  // through without a promise; everything else takes authenticate's path.
  app.addHook('onRequest', (request, reply, done) => {
    const scope: RouteScope | undefined = request.routeOptions.config?.scope;
    if (!scope) return done();
    const query = request.query as Record<string, unknown> | undefined;
    const clean = !query || !CREDENTIAL_QUERY_PARAMETERS.some((name) => name in query);
    const header = request.headers.authorization;
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    let found: ReturnType<ApiKeyService['principalFor']>;
    try {
      found = clean && token !== undefined ? apiKeys.principalFor(token) : undefined;
      if (found !== undefined && !(found instanceof Promise) && countRequestNow(rateLimiter, found, limits)) {
        admit(request, scope, found);
        return done();
      }
    } catch (error) {
      return done(error as Error);
    }
    authenticate(request, reply, scope, token, found).then(() => done(), done);
  });
}

/** The authenticated caller of a route that declared a scope. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new Error(`Route ${request.routeOptions.url ?? ''} read the principal without declaring a scope`);
  return request.principal;
}
