import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ToolService } from '../../app/tools.ts';
import { CHANNELS } from '../../core/actions/model.ts';
import { exportTools } from '../../core/tools/export.ts';
import { principalOf } from '../plugins/auth.ts';

const FORMATS = ['openai', 'anthropic', 'gemini', 'mcp'] as const;

export const toolRoutes: FastifyPluginAsyncTypebox<{ tools: ToolService }> = async (app, { tools }) => {
  app.get(
    '/tools',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'listTools',
        tags: ['tools'],
        summary: 'The active actions as tool definitions for an agent',
        description:
          'openai: the `tools` array of Chat Completions; anthropic: the `tools` array of the Messages API; gemini: a `tools` entry with ' +
          '`functionDeclarations`; mcp: the result of `tools/list`. Each tool is called by its `name` (the action’s tool_name).',
        querystring: Type.Object({
          format: Type.Optional(Type.Enum(FORMATS)),
          channel: Type.Optional(Type.Enum(CHANNELS)),
          agent_id: Type.Optional(
            Type.String({
              maxLength: 64,
              description:
                "Serve this agent's published version: the action versions frozen when it was last published " +
                '(409 if it was never published)',
            }),
          ),
        }),
        response: { 200: Type.Unknown() },
      },
    },
    async (request) => {
      const { format = 'openai', channel, agent_id } = request.query;
      const list = await tools.list(principalOf(request).organizationId, { channel, agentId: agent_id });
      return exportTools(list, format);
    },
  );
};
