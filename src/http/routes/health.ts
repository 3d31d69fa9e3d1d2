import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

export interface HealthOptions {
  /** Resolves when the store answers. */
  ping: () => Promise<void>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, { ping }) => {
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        operationId: 'getLiveness',
        tags: ['health'],
        summary: 'Liveness: the process is serving',
        description:
          'Answers 200 while the process serves requests, whatever the state of the store. No API key.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: the store answers',
        description:
          'Answers 200 when the store takes requests, and 503 with `Retry-After` when it does not (a load balancer should send no traffic then). No API key.',
        response: {
          200: Type.Object({ status: Type.Literal('ready') }),
          503: Type.Object({ status: Type.Literal('unavailable'), reason: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await ping();
        return { status: 'ready' as const };
      } catch {
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({ status: 'unavailable' as const, reason: 'the store does not answer' });
      }
    },
  );
};
