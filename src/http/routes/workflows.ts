import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { WorkflowInput, WorkflowService } from '../../app/workflows/definitions.ts';
import { TRIGGER_TYPES, WORKFLOW_LIMITS, type WorkflowVersion } from '../../core/workflows/model.ts';
import { encodeBlocks, inWireTerms, parseBlocks } from '../dialects/opencx/blocks.ts';
import { principalOf } from '../plugins/auth.ts';
import { PageQuery, Timestamp, WorkflowIdParams, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';

const Blocks = Type.Array(Type.Unknown(), {
  maxItems: WORKFLOW_LIMITS.blocks,
  description:
    'Steps `{"$kind": "Action", "id", "type": "action"|"http"|"code"|"set"|"delay", "name", "input"}`, each optionally with `timeout_seconds` (per attempt, 1-900), `retry` `{max_attempts (1-10), backoff_seconds (doubling, at most 60 s)}` for failures of category timeout, upstream_error or rate_limited, and `on_error` (blocks run instead of failing the run; the run then goes on after the step); and if-else blocks `{"$kind": "Block", "type": "if-else", "id", "inputs": {"condition": {"operatorName", "left", "right"}}, "branches": {"then": [...], "else": [...]}}`. `{{step_id.output.field}}`, `{{step_id.error.message}}` and `{{trigger.field}}` reach earlier results; a code step sees `inputs.trigger` and `inputs.steps.<id>`.',
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: WORKFLOW_LIMITS.name }),
  description: Type.Optional(
    Type.Union([Type.String({ maxLength: WORKFLOW_LIMITS.description }), Type.Null()]),
  ),
  trigger_type: Type.Enum(TRIGGER_TYPES, {
    description:
      'What starts it. manual-trigger: POST /v1/workflows/{workflow_id}/runs; webhook: POST to its webhook_url; event types (ticket-created, ...): POST /v1/events; ai-trigger: a tool agents call (GET /v1/tools, MCP; trigger_configuration {input_schema, tool_name, wait_seconds}); cron-trigger: fired on a schedule (trigger_configuration {cron, timezone, missed: skip|once|all}); form-trigger is stored, not yet fired',
  }),
  trigger_configuration: Type.Optional(Type.Unknown()),
  trigger_constraints: Type.Optional(
    Type.Unknown({
      description:
        "JSON Logic (jsonlogic.com) over the trigger data; a run starts only when it is truthy (null or absent: always). An operator that is not jsonlogic.com's, or `log`, is a 400.",
    }),
  ),
  workflow_blocks: Blocks,
  workflow_editor_state: Type.Optional(Type.Unknown({ description: 'Kept as given' })),
};

export const WorkflowView = Type.Object({
  id: Type.String({ description: 'This version' }),
  workflow_id: Type.String({ description: 'Groups the versions of one workflow; the id routes take' }),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  is_active: Type.Boolean(),
  trigger_type: Type.String(),
  version_number: Type.Integer(),
  workflow_blocks: Type.Array(Type.Unknown()),
  trigger_configuration: Type.Unknown(),
  trigger_constraints: Type.Unknown(),
  workflow_editor_state: Type.Unknown(),
  webhook_url: Type.Union([Type.String(), Type.Null()], {
    description: 'For webhook triggers: POST JSON here to start a run (no API key; keep it secret)',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const WorkflowDetailView = Type.Object({
  ...WorkflowView.properties,
  next_runs: Type.Union([Type.Array(Type.String({ format: 'date-time' })), Type.Null()], {
    description: 'For cron-trigger workflows: the next five occurrences (UTC); null otherwise',
  }),
});

export const workflowView = (v: WorkflowVersion): Static<typeof WorkflowView> => ({
  id: v.id,
  workflow_id: v.workflowId,
  name: v.name,
  description: v.description,
  is_active: v.isActive,
  trigger_type: v.triggerType,
  version_number: v.versionNumber,
  workflow_blocks: encodeBlocks(v.blocks),
  trigger_configuration: v.triggerConfiguration,
  trigger_constraints: v.triggerConstraints,
  workflow_editor_state: v.editorState,
  webhook_url: v.webhookToken ? `/v1/hooks/${v.webhookToken}` : null,
  created_at: v.createdAt,
  updated_at: v.updatedAt,
});

const tags = ['workflows'];

/**
 * The service's input from a request's fields (the OpenCX dialect's are the same names); the blocks
 * are decoded from their wire shape, a 400 when it is wrong.
 */
export const toInput = (
  body: Partial<Static<ReturnType<typeof Type.Object<typeof fields>>>>,
): Partial<WorkflowInput> => ({
  name: body.name,
  description: body.description,
  triggerType: body.trigger_type,
  triggerConfiguration: body.trigger_configuration,
  triggerConstraints: body.trigger_constraints,
  blocks: body.workflow_blocks === undefined ? undefined : parseBlocks(body.workflow_blocks),
  editorState: body.workflow_editor_state,
});

/** A create's input: name and trigger type are required there, and a workflow given no blocks has none. */
export const creation = (
  input: Partial<WorkflowInput>,
  body: { name: string; trigger_type: WorkflowInput['triggerType'] },
): WorkflowInput => ({
  ...input,
  name: body.name,
  triggerType: body.trigger_type,
  blocks: input.blocks ?? [],
});

export const workflowRoutes: FastifyPluginAsyncTypebox<{ workflows: WorkflowService }> = async (
  app,
  { workflows },
) => {
  app.post(
    '/workflows',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'createWorkflow',
        tags,
        summary: 'Create a workflow (its version 1, active)',
        body: Type.Object(fields, { additionalProperties: false }),
        response: { 201: WorkflowView },
      },
    },
    async (request, reply) => {
      const input = toInput(request.body);
      const version = await inWireTerms(
        workflows.create(principalOf(request), creation(input, request.body)),
      );
      return reply.code(201).send(workflowView(version));
    },
  );

  app.get(
    '/workflows',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'listWorkflows',
        tags,
        summary: 'List workflows (their active versions), newest first',
        querystring: PageQuery,
        response: { 200: pageOf(WorkflowView) },
      },
    },
    async (request) =>
      toPageResponse(
        await workflows.list(principalOf(request).organizationId, toPageRequest(request.query)),
        workflowView,
      ),
  );

  app.get(
    '/workflows/:workflow_id',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'getWorkflow',
        tags,
        summary: 'Get a workflow’s active version by workflow_id',
        params: WorkflowIdParams,
        response: { 200: WorkflowDetailView },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const version = await workflows.active(organizationId, request.params.workflow_id);
      return {
        ...workflowView(version),
        next_runs: (await workflows.nextRuns(organizationId, version.workflowId)) ?? null,
      };
    },
  );

  app.patch(
    '/workflows/:workflow_id',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'updateWorkflow',
        tags,
        summary: 'Change a workflow: a new version, which becomes the active one',
        description: 'Runs already started finish on the version they started on.',
        params: WorkflowIdParams,
        body: Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 }),
        response: { 200: WorkflowView },
      },
    },
    async (request) =>
      workflowView(
        await inWireTerms(
          workflows.update(principalOf(request), request.params.workflow_id, toInput(request.body)),
        ),
      ),
  );

  app.delete(
    '/workflows/:workflow_id',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'deleteWorkflow',
        tags,
        summary: 'Delete a workflow (its versions stay readable through the runs that used them)',
        params: WorkflowIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await workflows.remove(principalOf(request).organizationId, request.params.workflow_id);
      return reply.code(204).send(null);
    },
  );
};
