import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { principalOf } from '../plugins/auth.ts';

export const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/me',
    {
      config: { scope: 'authenticated' },
      schema: {
        operationId: 'getMe',
        tags: ['keys'],
        summary: 'Who the API key belongs to, and what it may do',
        response: {
          200: Type.Object({
            organization_id: Type.String(),
            key_id: Type.String(),
            scopes: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const { organizationId, keyId, scopes } = principalOf(request);
      return { organization_id: organizationId, key_id: keyId, scopes: [...scopes] };
    },
  );
};
