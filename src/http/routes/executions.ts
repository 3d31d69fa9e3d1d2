import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ExecutionService } from '../../app/executions/service.ts';
import { EXECUTION_STATUSES } from '../../core/executions.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, Timestamp, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';
import { DryRunView, ExecutionSummaryView, ExecutionView } from './action-schemas.ts';
import { dryRunView, executionSummaryView, executionView } from './action-views.ts';

export const ExecuteBody = Type.Object(
  {
    inputs: Type.Optional(
      Type.Object(
        {},
        { additionalProperties: true, description: 'The values the agent collected, by variable name' },
      ),
    ),
    context: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description: 'Runtime variables (contact_number, timezone, ...) and dynamic-context values',
        },
      ),
    ),
    dry_run: Type.Optional(
      Type.Boolean({
        description: 'Render the request and return it (secrets masked) without sending or recording it',
      }),
    ),
    conversation_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description:
          'The conversation this call belongs to: one action runs at most SWITCHBOARD_CONVERSATION_ACTION_BUDGET times a minute per conversation',
      }),
    ),
  },
  { additionalProperties: false },
);

const tags = ['executions'];

export const executionRoutes: FastifyPluginAsyncTypebox<{ executions: ExecutionService }> = async (
  app,
  { executions },
) => {
  app.post(
    '/actions/:id/execute',
    {
      config: { scope: 'actions:execute' },
      schema: {
        tags: ['actions', ...tags],
        summary: 'Execute an action',
        description:
          'Answers 200 with the execution whatever the action’s outcome: `status` is `succeeded` (with `output`) or `failed` (with `error.category` and a ' +
          '`error.message` an agent can say). The recorded request and response are at GET /v1/executions/{id}. Send `Idempotency-Key` ' +
          'to make a retry safe: the same key and body return the stored execution.',
        params: IdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: ExecuteBody,
        response: { 200: Type.Union([ExecutionSummaryView, DryRunView]) },
      },
    },
    async (request) => {
      const result = await executions.execute(principalOf(request), request.params.id, {
        inputs: (request.body.inputs ?? {}) as Record<string, unknown>,
        context: (request.body.context ?? {}) as Record<string, unknown>,
        dryRun: request.body.dry_run === true,
        conversationId: request.body.conversation_id,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
      });
      return 'dryRun' in result ? dryRunView(result) : executionSummaryView(result);
    },
  );

  app.get(
    '/executions',
    {
      config: { scope: 'actions:read' },
      schema: {
        tags,
        summary: 'List executions, newest first',
        querystring: Type.Object({
          ...PageQuery.properties,
          action_id: Type.Optional(Type.String({ maxLength: 64 })),
          status: Type.Optional(Type.Enum(EXECUTION_STATUSES)),
          since: Type.Optional(Timestamp),
          until: Type.Optional(Timestamp),
        }),
        response: { 200: pageOf(ExecutionView) },
      },
    },
    async (request) => {
      const { action_id, status, since, until } = request.query;
      const page = await executions.list(
        principalOf(request).organizationId,
        {
          actionId: action_id,
          status,
          since: since && new Date(since).toISOString(),
          until: until && new Date(until).toISOString(),
        },
        toPageRequest(request.query),
      );
      return toPageResponse(page, executionView);
    },
  );

  app.get(
    '/executions/:id',
    {
      config: { scope: 'actions:read' },
      schema: { tags, summary: 'Get an execution', params: IdParams, response: { 200: ExecutionView } },
    },
    async (request) =>
      executionView(await executions.get(principalOf(request).organizationId, request.params.id)),
  );
};
