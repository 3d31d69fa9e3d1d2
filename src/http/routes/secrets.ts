import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { SecretService } from '../../app/secrets.ts';
import { SECRET_NAME_PATTERN } from '../../core/secrets.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';
import { SecretView, secretView } from './views.ts';

const Name = Type.String({
  pattern: SECRET_NAME_PATTERN,
  description:
    'Letters, digits and underscores, starting with a letter or underscore (code reads it as secrets.NAME)',
});
const Value = Type.String({
  minLength: 1,
  maxLength: 16_384,
  description: 'The credential. Write-only: never returned.',
});
const Description = Type.Union([Type.String({ maxLength: 1_000 }), Type.Null()]);
const AllowedHosts = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
  maxItems: 50,
  description:
    "Hosts the value may be sent to (api.example.com, *.example.com). Empty: an http action sends it only to its own URL's host, and a code action that can read it makes no calls until it is bound.",
});

const tags = ['secrets'];

export const secretRoutes: FastifyPluginAsyncTypebox<{ secrets: SecretService }> = async (
  app,
  { secrets },
) => {
  app.post(
    '/secrets',
    {
      config: { scope: 'secrets:write' },
      schema: {
        operationId: 'createSecret',
        tags,
        summary: 'Store a secret; the value is encrypted and never returned',
        body: Type.Object(
          {
            name: Name,
            value: Value,
            description: Type.Optional(Description),
            allowed_hosts: Type.Optional(AllowedHosts),
          },
          { additionalProperties: false },
        ),
        response: { 201: SecretView },
      },
    },
    async (request, reply) => {
      const { name, value, description, allowed_hosts } = request.body;
      const record = await secrets.create(principalOf(request).organizationId, {
        name,
        value,
        description,
        allowedHosts: allowed_hosts,
      });
      return reply.code(201).send(secretView(record));
    },
  );

  app.get(
    '/secrets',
    {
      config: { scope: 'secrets:read' },
      schema: {
        operationId: 'listSecrets',
        tags,
        summary: 'List secrets (names and metadata only)',
        querystring: PageQuery,
        response: { 200: pageOf(SecretView) },
      },
    },
    async (request) =>
      toPageResponse(
        await secrets.list(principalOf(request).organizationId, toPageRequest(request.query)),
        secretView,
      ),
  );

  app.get(
    '/secrets/:id',
    {
      config: { scope: 'secrets:read' },
      schema: {
        operationId: 'getSecret',
        tags,
        summary: "Get a secret's metadata",
        params: IdParams,
        response: { 200: SecretView },
      },
    },
    async (request) => secretView(await secrets.get(principalOf(request).organizationId, request.params.id)),
  );

  app.patch(
    '/secrets/:id',
    {
      config: { scope: 'secrets:write' },
      schema: {
        operationId: 'updateSecret',
        tags,
        summary: 'Rename a secret, rotate its value, or change where it may be sent',
        description: 'Send `value` to rotate it; omit it to keep the stored one.',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            value: Type.Optional(Value),
            description: Type.Optional(Description),
            allowed_hosts: Type.Optional(AllowedHosts),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: SecretView },
      },
    },
    async (request) => {
      const { name, value, description, allowed_hosts } = request.body;
      const record = await secrets.update(principalOf(request).organizationId, request.params.id, {
        name,
        value,
        description,
        allowedHosts: allowed_hosts,
      });
      return secretView(record);
    },
  );

  app.delete(
    '/secrets/:id',
    {
      config: { scope: 'secrets:write' },
      schema: {
        operationId: 'deleteSecret',
        tags,
        summary: 'Delete a secret',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await secrets.remove(principalOf(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
