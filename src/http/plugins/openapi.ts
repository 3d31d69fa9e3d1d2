import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { isPlainObject } from '../../core/actions/coerce.ts';
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

/**
 * Every tag an operation uses, in the order /docs shows them. A test checks that each used tag is declared
 * here and each declared one is used.
 */
const TAGS: readonly { name: string; description: string }[] = [
  { name: 'health', description: 'Liveness and readiness probes; no API key.' },
  { name: 'organizations', description: 'Tenants (admin scope). Every record belongs to exactly one.' },
  { name: 'keys', description: 'API keys of your organization, and who the calling key is.' },
  { name: 'secrets', description: 'Credentials actions use: encrypted at rest, never returned.' },
  { name: 'integrations', description: 'Groups of actions sharing a base URL, default auth and secrets.' },
  { name: 'actions', description: 'What an agent can do: http, code, transfer, hold and workflow actions.' },
  {
    name: 'executions',
    description:
      'Runs of actions: their records, confirmations, and the post-call actions of a conversation.',
  },
  { name: 'tools', description: 'The actions as tool definitions for OpenAI, Anthropic, Gemini and MCP.' },
  {
    name: 'agents',
    description: 'Chat and voice agents, the actions they may use, and their published versions.',
  },
  { name: 'imports', description: 'Actions imported from an OpenAPI or Swagger document.' },
  {
    name: 'workflows',
    description: 'Versioned graphs of steps, their triggers (webhooks, events) and runs.',
  },
  {
    name: 'mcp',
    description: 'The Model Context Protocol endpoint (Streamable HTTP) serving the actions as tools.',
  },
  { name: 'opencx', description: "OpenCX's actions and workflows API, over the same actions and workflows." },
  { name: 'langdock', description: "Langdock's integration actions API, over the same actions." },
  { name: 'talkover', description: "Talkover's agent actions API, over the same agents and actions." },
];

/** GET /openapi.json (OpenAPI 3.1, generated from the route schemas) and the /docs viewer. */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: options.version,
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // relative: the server this document was fetched from, whatever host and port it answers on
      servers: [{ url: '/', description: 'This Switchboard server' }],
      tags: [...TAGS],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transformObject: (document) =>
      withDiscriminatorMappings(
        'openapiObject' in document ? document.openapiObject : document.swaggerObject,
      ),
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

const SCHEMA_REF = '#/components/schemas/';

/**
 * Ajv refuses `discriminator.mapping`, so the route schemas carry none. A client needs it when the tag
 * values are not the schemas' names (`"type": "bearer"` selects BearerAuth), so the document gets one
 * for every discriminated `oneOf` of named schemas. Works on a copy: the document shares objects with
 * the route schemas Ajv compiled.
 */
function withDiscriminatorMappings<T extends object>(document: T): T {
  const copy = structuredClone(document);
  const components = (copy as { components?: { schemas?: Record<string, unknown> } }).components;
  const named = components?.schemas ?? {};
  const tagValue = (ref: unknown, property: string): unknown => {
    if (typeof ref !== 'string' || !ref.startsWith(SCHEMA_REF)) return undefined;
    const target = named[ref.slice(SCHEMA_REF.length)];
    const tag =
      isPlainObject(target) && isPlainObject(target.properties) ? target.properties[property] : undefined;
    if (!isPlainObject(tag)) return undefined;
    return tag.const ?? (Array.isArray(tag.enum) && tag.enum.length === 1 ? tag.enum[0] : undefined);
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isPlainObject(node)) return;
    const { discriminator, oneOf } = node;
    if (
      isPlainObject(discriminator) &&
      typeof discriminator.propertyName === 'string' &&
      Array.isArray(oneOf)
    ) {
      const mapping: Record<string, string> = {};
      for (const variant of oneOf) {
        const ref = isPlainObject(variant) ? variant.$ref : undefined;
        const value = tagValue(ref, discriminator.propertyName);
        if (typeof value === 'string' && typeof ref === 'string') mapping[value] = ref;
      }
      if (Object.keys(mapping).length === oneOf.length) node.discriminator = { ...discriminator, mapping };
    }
    Object.values(node).forEach(visit);
  };
  visit(copy);
  return copy;
}
