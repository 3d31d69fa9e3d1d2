import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { SCOPE_DESCRIPTIONS } from '../../core/scopes.ts';
import { ErrorResponse } from '../schemas.ts';

export interface OpenApiOptions {
  version: string;
}

const DESCRIPTION = `Switchboard serves the actions (tools) AI agents call, and the workflows that chain them.

Authenticate every API route with \`Authorization: Bearer <API key>\`. Errors answer with one JSON shape,
\`{"error": {"code", "message", "path"?, "request_id"}}\`.

Scopes:
${Object.entries(SCOPE_DESCRIPTIONS)
  .map(([scope, text]) => `- \`${scope}\`: ${text}`)
  .join('\n')}`;

/** GET /openapi.json (OpenAPI 3.1, generated from the route schemas) and the /docs viewer. */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Switchboard API', version: options.version, description: DESCRIPTION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}`,
    },
  });
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
