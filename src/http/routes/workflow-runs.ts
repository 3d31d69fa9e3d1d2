import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { RunService, RunWithSteps } from '../../app/workflows/runs.ts';
import {
  RUN_STATUSES,
  STEP_STATUSES,
  type RunError,
  type RunStep,
  type WorkflowRun,
} from '../../core/workflows/model.ts';
import { principalOf } from '../plugins/auth.ts';
import {
  IdParams,
  PageQuery,
  Timestamp,
  WorkflowIdParams,
  pageOf,
  toPageRequest,
  toPageResponse,
} from '../schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const ErrorView = Nullable(
  Type.Object({ step_id: Nullable(Type.String()), category: Type.String(), message: Type.String() }),
);
const errorView = (e: RunError | null) =>
  e && { step_id: e.stepId, category: e.category, message: e.message };

const StepView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  name: Nullable(Type.String()),
  status: Type.Enum(STEP_STATUSES),
  input: Type.Unknown({ description: 'As rendered for this run' }),
  output: Type.Unknown(),
  error: ErrorView,
  attempts: Type.Integer({ description: 'Times the step began; above 1 when an attempt was interrupted' }),
  idempotency_key: Type.String({ description: 'Sent upstream on every attempt of the step' }),
  execution_id: Nullable(Type.String()),
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  duration_ms: Nullable(Type.Integer()),
});

const RunView = Type.Object({
  id: Type.String(),
  workflow_id: Type.String(),
  version_id: Type.String({ description: 'The version the run is pinned to' }),
  version_number: Type.Integer(),
  status: Type.Enum(RUN_STATUSES, {
    description:
      'queued: saved, its first step not begun (it may be waiting for one of its organization’s run slots); running; then succeeded, failed or cancelled',
  }),
  input: Type.Unknown({ description: 'The trigger data: {{trigger.*}}' }),
  parent_run_id: Nullable(
    Type.String({ description: "The run whose step started this one by calling this workflow's tool" }),
  ),
  error: ErrorView,
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
});
const RunWithStepsView = Type.Object({ ...RunView.properties, steps: Type.Array(StepView) });

const runView = (r: WorkflowRun): Static<typeof RunView> => ({
  id: r.id,
  workflow_id: r.workflowId,
  version_id: r.versionId,
  version_number: r.versionNumber,
  status: r.status,
  input: r.input,
  parent_run_id: r.parentRunId,
  error: errorView(r.error),
  created_at: r.createdAt,
  started_at: r.startedAt,
  finished_at: r.finishedAt,
});

const stepView = (s: RunStep): Static<typeof StepView> => ({
  id: s.stepId,
  type: s.type,
  name: s.name,
  status: s.status,
  input: s.input,
  output: s.output,
  error: errorView(s.error),
  attempts: s.attempts,
  idempotency_key: `run:${s.runId}:step:${s.stepId}`,
  execution_id: s.executionId,
  started_at: s.startedAt,
  finished_at: s.finishedAt,
  duration_ms: s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : null,
});

const withSteps = ({ run, steps }: RunWithSteps): Static<typeof RunWithStepsView> => ({
  ...runView(run),
  steps: steps.map(stepView),
});

const tags = ['workflows'];

export const workflowRunRoutes: FastifyPluginAsyncTypebox<{ runs: RunService }> = async (app, { runs }) => {
  app.post(
    '/workflows/:workflow_id/runs',
    {
      config: { scope: 'workflows:execute' },
      schema: {
        operationId: 'startWorkflowRun',
        tags,
        summary: 'Start a run of the workflow’s active version (manual trigger)',
        description:
          'Answers 202 at once; the run proceeds step by step on the job queue. Read it with GET /v1/runs/{id}. While the organization has SWITCHBOARD_WORKFLOW_RUNS_PER_ORG runs under way (a run asleep in a delay does not count), the run waits `queued` with no steps and starts, in order, when one of them finishes or falls asleep. With an `Idempotency-Key` header, repeating the request (same key and input, within 24 h) answers the first run and starts nothing; the same key with another input is a 422.',
        params: WorkflowIdParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
        body: Type.Optional(
          Type.Object(
            {
              input: Type.Optional(
                Type.Record(Type.String(), Type.Unknown(), { description: 'The trigger data' }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: { 202: RunView },
      },
    },
    async (request, reply) => {
      const run = await runs.start(
        principalOf(request),
        request.params.workflow_id,
        request.body?.input ?? {},
        request.headers['idempotency-key'],
      );
      return reply.code(202).send(runView(run));
    },
  );

  app.get(
    '/workflows/:workflow_id/runs',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'listWorkflowRuns',
        tags,
        summary: 'List a workflow’s runs, newest first',
        params: WorkflowIdParams,
        querystring: PageQuery,
        response: { 200: pageOf(RunView) },
      },
    },
    async (request) =>
      toPageResponse(
        await runs.list(
          principalOf(request).organizationId,
          request.params.workflow_id,
          toPageRequest(request.query),
        ),
        runView,
      ),
  );

  app.get(
    '/runs/:id',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'getRun',
        tags,
        summary: 'Get a run and its steps',
        params: IdParams,
        response: { 200: RunWithStepsView },
      },
    },
    async (request) => withSteps(await runs.get(principalOf(request).organizationId, request.params.id)),
  );

  app.post(
    '/runs/:id/cancel',
    {
      config: { scope: 'workflows:execute' },
      schema: {
        operationId: 'cancelRun',
        tags,
        summary: 'Cancel a run: no further step starts (a step already running finishes)',
        params: IdParams,
        response: { 200: RunWithStepsView },
      },
    },
    async (request) => withSteps(await runs.cancel(principalOf(request).organizationId, request.params.id)),
  );
};
