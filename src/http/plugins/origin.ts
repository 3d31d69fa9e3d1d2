import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Refuses requests that carry a browser `Origin`, as Langdock does and as the MCP transport requires
 * against DNS rebinding: API keys do not belong in web pages. Allowed are the operator's
 * SWITCHBOARD_ALLOWED_ORIGINS, and the server's own pages (/docs) when it is reached by a loopback name.
 */
export async function installOriginPolicy(
  app: FastifyInstance,
  allowedOrigins: readonly string[],
): Promise<void> {
  const allowed = new Set(allowedOrigins);
  if (allowed.size > 0) {
    // CORS only for the origins the operator named, so their browser consoles can call the API.
    await app.register(cors, {
      origin: [...allowed],
      allowedHeaders: [
        'authorization',
        'content-type',
        'idempotency-key',
        'x-request-id',
        'mcp-protocol-version',
      ],
      maxAge: 600,
    });
  }
  app.addHook('onRequest', (request, _reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || allowed.has(origin)) return done();
    const parsed = URL.parse(origin);
    const host = request.headers.host;
    if (parsed && host && parsed.host === host && LOOPBACK_HOSTS.has(parsed.hostname)) return done();
    done(
      new AppError(
        'FORBIDDEN',
        `Requests from the browser origin ${origin} are refused: call the API from a server, where the API key stays secret. ` +
          'An operator can allow an origin with SWITCHBOARD_ALLOWED_ORIGINS.',
      ),
    );
  });
}
