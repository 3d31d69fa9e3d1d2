import type { Scope } from '../core/scopes.ts';
import type { Principal } from '../core/tenancy.ts';

/** `authenticated`: any valid key, whatever its scopes. */
export type RouteScope = Scope | 'authenticated';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller's key needs. Every route declares this or `public`; start-up fails otherwise. */
    scope?: RouteScope;
    /** Served without an API key (health, docs). */
    public?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}
