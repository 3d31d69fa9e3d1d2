import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { PostCallService } from '../../app/post-call.ts';
import { principalOf } from '../plugins/auth.ts';

const tags = ['executions'];

const EndedView = Type.Object({
  conversation_id: Type.String(),
  post_call: Type.Array(
    Type.Object({
      execution_id: Type.String({ description: 'Read it at GET /v1/executions/{id}' }),
      action_id: Type.String(),
      job_id: Type.String(),
    }),
    { description: 'The post-call actions the conversation called, now queued to run' },
  ),
});

export const conversationRoutes: FastifyPluginAsyncTypebox<{ postCall: PostCallService }> = async (
  app,
  { postCall },
) => {
  app.post(
    '/conversations/:id/end',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'endConversation',
        tags,
        summary: 'End a conversation: run the post-call actions it called',
        description:
          'Every action with execution_mode post_call that was executed with this conversation_id runs now from the durable queue: retried with backoff, at least once, with the Idempotency-Key `post-call:<execution id>` on every attempt. Calling it again does not run them twice.',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 202: EndedView },
      },
    },
    async (request, reply) => {
      const ended = await postCall.end(principalOf(request), request.params.id);
      reply.code(202);
      return {
        conversation_id: ended.conversationId,
        post_call: ended.postCall.map((p) => ({
          execution_id: p.executionId,
          action_id: p.actionId,
          job_id: p.jobId,
        })),
      };
    },
  );
};
