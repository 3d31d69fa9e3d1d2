import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ApiKeyService } from '../../app/api-keys.ts';
import { SCOPES, SCOPE_ALIASES } from '../../core/scopes.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';
import { ApiKeyView, CreatedApiKeyView, apiKeyView } from './views.ts';

export const CreateKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Array(Type.String({ maxLength: 64 }), {
      minItems: 1,
      maxItems: 32,
      description: `Any of: ${SCOPES.join(', ')}. Aliases: ${Object.entries(SCOPE_ALIASES)
        .map(([alias, scopes]) => `${alias} stands for ${scopes.join(', ')}`)
        .join('; ')}.`,
    }),
  },
  { additionalProperties: false },
);

const tags = ['keys'];

/** The caller's own organization's keys. */
export const keyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  app.post(
    '/keys',
    {
      config: { scope: 'keys:write' },
      schema: {
        operationId: 'createKey',
        tags,
        summary: "Create an API key in your organization; the key is in the response's `key`, shown once",
        description: 'A key can only receive scopes the calling key has.',
        body: CreateKeyBody,
        response: { 201: CreatedApiKeyView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { apiKey, token } = await apiKeys.create({
        organizationId: principal.organizationId,
        name: request.body.name,
        scopes: request.body.scopes,
        source: 'api',
        grantedBy: principal,
      });
      return reply.code(201).send({ ...apiKeyView(apiKey), key: token });
    },
  );

  app.get(
    '/keys',
    {
      config: { scope: 'keys:read' },
      schema: {
        operationId: 'listKeys',
        tags,
        summary: "List your organization's API keys",
        querystring: PageQuery,
        response: { 200: pageOf(ApiKeyView) },
      },
    },
    async (request) =>
      toPageResponse(
        await apiKeys.list(principalOf(request).organizationId, toPageRequest(request.query)),
        apiKeyView,
      ),
  );

  app.get(
    '/keys/:id',
    {
      config: { scope: 'keys:read' },
      schema: {
        operationId: 'getKey',
        tags,
        summary: 'Get an API key',
        params: IdParams,
        response: { 200: ApiKeyView },
      },
    },
    async (request) => apiKeyView(await apiKeys.get(principalOf(request).organizationId, request.params.id)),
  );

  app.delete(
    '/keys/:id',
    {
      config: { scope: 'keys:write' },
      schema: {
        operationId: 'revokeKey',
        tags,
        summary: 'Revoke an API key; it is refused from the next request on',
        params: IdParams,
        response: { 200: ApiKeyView },
      },
    },
    async (request) =>
      apiKeyView(await apiKeys.revoke(principalOf(request).organizationId, request.params.id)),
  );
};
