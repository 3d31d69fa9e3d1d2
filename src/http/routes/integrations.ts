import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { IntegrationService } from '../../app/integrations.ts';
import { AuthSchema } from '../../core/actions/kinds/http.ts';
import type { Integration } from '../../core/actions/model.ts';
import { principalOf } from '../plugins/auth.ts';
import {
  IdParams,
  PageQuery,
  Timestamp,
  Warnings,
  pageOf,
  toPageRequest,
  toPageResponse,
} from '../schemas.ts';

const Secrets = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 64 }), {
  description:
    'Secrets its actions may use by name (`{{secrets.NAME}}`, `secrets.NAME` in code): NAME → secret id',
});
const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2_000 }), Type.Null()])),
  base_url: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()])),
  secrets: Type.Optional(Secrets),
  auth: Type.Optional(Type.Union([AuthSchema, Type.Null()])),
};

export const IntegrationView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  base_url: Type.Union([Type.String(), Type.Null()]),
  secrets: Type.Record(Type.String(), Type.String()),
  auth: Type.Unknown(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const integrationView = (i: Integration): Static<typeof IntegrationView> => ({
  id: i.id,
  name: i.name,
  description: i.description,
  base_url: i.baseUrl,
  secrets: i.secrets,
  auth: i.auth,
  created_at: i.createdAt,
  updated_at: i.updatedAt,
});

/** The answer to a create or change: the integration, and what will not work as saved. */
const SavedIntegrationView = Type.Object({ ...IntegrationView.properties, warnings: Warnings });

const tags = ['integrations'];
const SECRETS_NOTE =
  'Adding a secret to an integration that has code actions lets their code read it, so it needs the `secrets:use` scope too. The answer’s `warnings` names its secrets that are bound to no host, which those code actions cannot fetch with.';

export const integrationRoutes: FastifyPluginAsyncTypebox<{ integrations: IntegrationService }> = async (
  app,
  { integrations },
) => {
  const saved = async (integration: Integration) => ({
    ...integrationView(integration),
    warnings: await integrations.warnings(integration),
  });

  app.post(
    '/integrations',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'createIntegration',
        tags,
        summary: 'Create an integration: a base URL, default auth and secrets shared by a group of actions',
        description:
          'Its `base_url` and its default auth’s token URL are judged by the egress guard when saved.',
        body: Type.Object(fields, { additionalProperties: false }),
        response: { 201: SavedIntegrationView },
      },
    },
    async (request, reply) => {
      const { name, description, base_url, secrets, auth } = request.body;
      const integration = await integrations.create(principalOf(request).organizationId, {
        name,
        description,
        baseUrl: base_url,
        secrets,
        auth: auth,
      });
      return reply.code(201).send(await saved(integration));
    },
  );

  app.get(
    '/integrations',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'listIntegrations',
        tags,
        summary: 'List integrations',
        querystring: PageQuery,
        response: { 200: pageOf(IntegrationView) },
      },
    },
    async (request) =>
      toPageResponse(
        await integrations.list(principalOf(request).organizationId, toPageRequest(request.query)),
        integrationView,
      ),
  );

  app.get(
    '/integrations/:id',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'getIntegration',
        tags,
        summary: 'Get an integration',
        params: IdParams,
        response: { 200: IntegrationView },
      },
    },
    async (request) =>
      integrationView(await integrations.get(principalOf(request).organizationId, request.params.id)),
  );

  app.patch(
    '/integrations/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'updateIntegration',
        tags,
        summary: 'Change an integration',
        description: SECRETS_NOTE,
        params: IdParams,
        body: Type.Object(
          { ...fields, name: Type.Optional(fields.name) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SavedIntegrationView },
      },
    },
    async (request) => {
      const { name, description, base_url, secrets, auth } = request.body;
      const integration = await integrations.update(principalOf(request), request.params.id, {
        name,
        description,
        baseUrl: base_url,
        secrets,
        auth: auth,
      });
      return saved(integration);
    },
  );

  app.delete(
    '/integrations/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'deleteIntegration',
        tags,
        summary: 'Delete an integration that no action uses',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await integrations.remove(principalOf(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
