/**
 * Authentication, scopes and request limits for every route that declares `config.scope`.
 * A route without `scope` or `public` stops the server from starting (SECURITY.md G-08).
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { ApiKeyService } from '../../app/api-keys.ts';
import { AppError } from '../../core/errors.ts';
import { clientGroup } from '../../core/ip-address.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import { hasScope } from '../../core/scopes.ts';
import type { Principal } from '../../core/tenancy.ts';
import type { RouteScope } from '../types.ts';

export interface AuthOptions {
  apiKeys: ApiKeyService;
  /** Counts requests per key and organization, and failed authentications per client. */
  rateLimiter: RateLimiter;
  limits: {
    perKey: number;
    perOrganization: number;
    /** Failed authentications per minute from one client (clientGroup) before 429. */
    authFailures: number;
    /** The IPv6 prefix length that makes one client. */
    authFailureIpv6Prefix: number;
  };
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const CREDENTIAL_QUERY_PARAMETERS = ['api_key', 'apikey', 'key', 'token', 'access_token', 'authorization'];

/** Counts one request against `key`'s rolling minute; past `perMinute` (0: no limit), a 429 with Retry-After. */
export async function enforceRateLimit(
  rateLimiter: RateLimiter,
  key: string,
  perMinute: number,
  message: string,
): Promise<void> {
  if (perMinute <= 0) return;
  const decision = await rateLimiter.consume(key, perMinute);
  if (!decision.allowed)
    throw new AppError('RATE_LIMITED', message, { retryAfterSeconds: decision.retryAfterSeconds });
}

export function installAuth(app: FastifyInstance, options: AuthOptions): void {
  const { apiKeys, rateLimiter, limits } = options;
  const routes: RouteOptions[] = [];

  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    routes.push(route);
    const scope = route.config?.scope;
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
  async function refuse(request: FastifyRequest, message: string): Promise<never> {
    const client = clientGroup(request.ip, limits.authFailureIpv6Prefix);
    await enforceRateLimit(
      rateLimiter,
      `auth-failure:${client}`,
      limits.authFailures,
      'Too many failed authentications from this address; wait and retry',
    );
    throw new AppError('UNAUTHENTICATED', message);
  }

  const limit = (key: string, perMinute: number, what: string) =>
    enforceRateLimit(
      rateLimiter,
      key,
      perMinute,
      `Rate limit of ${perMinute} requests per minute for this ${what} exceeded`,
    );

  app.addHook('onRequest', async (request) => {
    const scope: RouteScope | undefined = request.routeOptions.config?.scope;
    if (!scope) return;
    const query = request.query as Record<string, unknown> | undefined;
    if (query && CREDENTIAL_QUERY_PARAMETERS.some((name) => name in query)) {
      await refuse(request, 'API keys are accepted only in the Authorization header, never in the URL');
    }
    const header = request.headers.authorization;
    if (!header) return refuse(request, 'Missing API key: send Authorization: Bearer <API key>');
    const token = BEARER.exec(header)?.[1];
    if (!token) return refuse(request, 'The Authorization header must be "Bearer <API key>"');
    const principal = await apiKeys.authenticate(token);
    if (!principal) return refuse(request, 'The API key is not valid');

    await limit(`key:${principal.keyId}`, limits.perKey, 'API key');
    await limit(`org:${principal.organizationId}`, limits.perOrganization, 'organization');
    if (scope !== 'authenticated' && !hasScope(principal.scopes, scope)) {
      throw new AppError('INSUFFICIENT_SCOPE', `This API key lacks the "${scope}" scope this route needs`, {
        details: { required_scope: scope },
      });
    }
    request.principal = principal;
  });
}

/** The authenticated caller of a route that declared a scope. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new Error(`Route ${request.routeOptions.url ?? ''} read the principal without declaring a scope`);
  return request.principal;
}
