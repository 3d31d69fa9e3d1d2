import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ApiKeyService } from '../../app/api-keys.ts';
import type { OrganizationService } from '../../app/organizations.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';
import { CreateKeyBody } from './keys.ts';
import { CreatedApiKeyView, OrganizationView, apiKeyView, organizationView } from './views.ts';

export interface OrganizationRouteOptions {
  organizations: OrganizationService;
  apiKeys: ApiKeyService;
}

const tags = ['organizations'];

/** Cross-organization management: every route here needs the `admin` scope. */
export const organizationRoutes: FastifyPluginAsyncTypebox<OrganizationRouteOptions> = async (
  app,
  { organizations, apiKeys },
) => {
  app.post(
    '/organizations',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createOrganization',
        tags,
        summary: 'Create an organization (a tenant)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 201: OrganizationView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(organizationView(await organizations.create(request.body.name))),
  );

  app.get(
    '/organizations',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'listOrganizations',
        tags,
        summary: 'List organizations',
        querystring: PageQuery,
        response: { 200: pageOf(OrganizationView) },
      },
    },
    async (request) =>
      toPageResponse(await organizations.list(toPageRequest(request.query)), organizationView),
  );

  app.get(
    '/organizations/:id',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'getOrganization',
        tags,
        summary: 'Get an organization',
        params: IdParams,
        response: { 200: OrganizationView },
      },
    },
    async (request) => organizationView(await organizations.get(request.params.id)),
  );

  app.post(
    '/organizations/:id/keys',
    {
      config: { scope: 'admin' },
      schema: {
        operationId: 'createOrganizationKey',
        tags,
        summary: "Create an API key in an organization; the key is in the response's `key`, shown once",
        params: IdParams,
        body: CreateKeyBody,
        response: { 201: CreatedApiKeyView },
      },
    },
    async (request, reply) => {
      const { apiKey, token } = await apiKeys.create({
        organizationId: request.params.id,
        name: request.body.name,
        scopes: request.body.scopes,
        source: 'api',
        grantedBy: principalOf(request),
      });
      return reply.code(201).send({ ...apiKeyView(apiKey), key: token });
    },
  );
};
