import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { AgentService } from '../../app/agents.ts';
import type { ExecuteRequest, ExecutionService } from '../../app/executions/service.ts';
import { AppError } from '../../core/errors.ts';
import { EXECUTION_STATUSES } from '../../core/executions.ts';
import { clientGone } from '../client-gone.ts';
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
    agent_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          "The agent calling: the action runs in the version the agent's published version froze (the tool GET /v1/tools?agent_id= served), not the current one. 404 when that agent does not serve this action, 409 when it was never published",
      }),
    ),
  },
  { additionalProperties: false },
);

const tags = ['executions'];

/**
 * The execute answer is a summary or a dry run, each built with exactly its schema's fields: written with
 * JSON.stringify, it skips the Union's serializer, which checks the answer against both schemas (and each
 * nullable field against its branches) before writing it.
 */
const json = (payload: unknown): string => JSON.stringify(payload);

export const executionRoutes: FastifyPluginAsyncTypebox<{
  executions: ExecutionService;
  agents: Pick<AgentService, 'publishedActions'>;
}> = async (app, { executions, agents }) => {
  /** The version of the action that the agent's published version serves. */
  const frozenVersion = async (organizationId: string, agentId: string, actionId: string) => {
    const served = (await agents.publishedActions(organizationId, agentId)).find((a) => a.id === actionId);
    if (!served)
      throw new AppError(
        'NOT_FOUND',
        `Agent ${agentId}'s published version does not serve action ${actionId} (or the action is no longer active)`,
      );
    return served.version;
  };

  app.post(
    '/actions/:id/execute',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'executeAction',
        tags: ['actions', ...tags],
        summary: 'Execute an action',
        description:
          'Answers 200 with the execution whatever the action’s outcome: `status` is `succeeded` (with `output`) or `failed` (with `error.category` and a ' +
          '`error.message` an agent can say). The recorded request and response are at GET /v1/executions/{id}. Send `Idempotency-Key` ' +
          'to make a retry safe: the same key and body return the stored execution. A client that closes the connection before the ' +
          'answer stops the execution: its upstream request or code run is aborted and it is recorded `cancelled`. ' +
          'An action that requires confirmation does not run: ' +
          'the answer has `status` `awaiting_confirmation`, the `request` it would send (secrets masked) and `expires_at`; ' +
          'POST /v1/executions/{id}/confirm runs it, /decline drops it.',
        params: IdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: ExecuteBody,
        response: { 200: Type.Union([ExecutionSummaryView, DryRunView]) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { agent_id: agentId } = request.body;
      const actionId = request.params.id;
      const call: ExecuteRequest = {
        ...(agentId === undefined
          ? {}
          : { actionVersion: await frozenVersion(principal.organizationId, agentId, actionId) }),
        inputs: (request.body.inputs ?? {}) as Record<string, unknown>,
        context: (request.body.context ?? {}) as Record<string, unknown>,
        conversationId: request.body.conversation_id,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
      };
      reply.serializer(json);
      if (request.body.dry_run === true)
        return dryRunView(await executions.dryRun(principal, actionId, call));
      call.signal = clientGone(reply);
      return executionSummaryView(await executions.execute(principal, actionId, call));
    },
  );

  app.get(
    '/executions',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'listExecutions',
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

  app.post(
    '/executions/:id/confirm',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'confirmExecution',
        tags,
        summary: 'Confirm an execution that awaits confirmation: run it now',
        description:
          'Runs the action version that was called, with the inputs given then, under the same execution id, and answers the finished ' +
          'execution. Confirming again answers the same execution without running it again (`running` while the first confirmation ' +
          'runs it). 409 when it was declined or never awaited confirmation; 410 once its `expires_at` has passed (it is then `expired`).',
        params: IdParams,
        response: { 200: ExecutionSummaryView },
      },
    },
    async (request) =>
      executionSummaryView(await executions.confirm(principalOf(request), request.params.id)),
  );

  app.post(
    '/executions/:id/decline',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'declineExecution',
        tags,
        summary: 'Decline an execution that awaits confirmation: nothing runs',
        description:
          'Records the execution `declined`. Declining again answers the same; 409 once it was confirmed, 410 once it expired.',
        params: IdParams,
        response: { 200: ExecutionSummaryView },
      },
    },
    async (request) =>
      executionSummaryView(await executions.decline(principalOf(request), request.params.id)),
  );

  app.get(
    '/executions/:id',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'getExecution',
        tags,
        summary: 'Get an execution',
        params: IdParams,
        response: { 200: ExecutionView },
      },
    },
    async (request) =>
      executionView(await executions.get(principalOf(request).organizationId, request.params.id)),
  );
};
