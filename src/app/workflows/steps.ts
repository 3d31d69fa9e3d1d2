/**
 * How each step type runs: a table from type to executor, so a new type is a new row, never a new branch.
 * An executor renders the step's input against the run's committed state and returns what to record;
 * it never throws for a failure of the step itself (that fails the run), only for infrastructure.
 */
import type { CodeConfig } from '../../core/actions/kinds/code.ts';
import { AppError, CATEGORY_BY_CODE, isServerFault } from '../../core/errors.ts';
import type { ExecutionRecord, WorkflowRunCaller } from '../../core/executions.ts';
import type { Clock } from '../../core/ports/clock.ts';
import { TemplateError, renderJson } from '../../core/templates/index.ts';
import type { StepBlock, StepType, WorkflowRun } from '../../core/workflows/model.ts';
import { runLookup, type RunScope } from '../../core/workflows/references.ts';
import type { ExecutionService } from '../executions/service.ts';
import { flattenHttpStep, transientAction, transientHttpAction } from './http-step.ts';

export interface StepContext {
  run: WorkflowRun;
  step: StepBlock;
  scope: RunScope;
  /** `run:<run_id>:step:<step_id>`: the same on every attempt of the step. */
  idempotencyKey: string;
  /** The job's (aborted when its worker stops or its lease is lost), with the step's timeout when it has one. */
  signal: AbortSignal;
  /** This attempt's deadline (the step's timeout_seconds), when it has one. */
  timeoutMs?: number | undefined;
}

export interface StepResult {
  status: 'succeeded' | 'failed';
  /** The input as rendered for this run. */
  input: unknown;
  output?: unknown;
  error?: { category: string; message: string };
  executionId?: string;
}

export interface StepDeps {
  clock: Clock;
  /** Every step that runs something (an action, a request, code) runs it through the execution engine. */
  executions: Pick<ExecutionService, 'runStep'>;
}

type Executor = (context: StepContext) => Promise<StepResult>;

const render = (value: unknown, scope: RunScope, location: string): unknown =>
  renderJson(value ?? null, runLookup(scope, true), location);

const failed = (input: unknown, error: { category: string; message: string }): StepResult => ({
  status: 'failed',
  input,
  error: { category: error.category, message: error.message },
});

/** A step acts as its run, with the key that started the run (none for a webhook, an event, a schedule). */
const callerOf = (run: WorkflowRun, step: StepBlock): WorkflowRunCaller => ({
  kind: 'workflow_run',
  organizationId: run.organizationId,
  runId: run.id,
  stepId: step.id,
  keyId: run.callerKeyId,
});

export function createStepExecutors(deps: StepDeps): Readonly<Record<StepType, Executor>> {
  return {
    async set({ step, scope }) {
      const values = render(step.input.values, scope, `${step.id}.values`);
      return { status: 'succeeded', input: step.input, output: values };
    },

    // the wait itself is the queue job's runAt (see engine.ts), so nothing sleeps here
    async delay({ step }) {
      return { status: 'succeeded', input: step.input, output: { seconds: step.input.seconds } };
    },

    async action({ run, step, scope, idempotencyKey, signal }) {
      const actionId = String(step.input.action_id);
      const inputs = render(step.input.inputs ?? {}, scope, `${step.id}.inputs`) as Record<string, unknown>;
      const input = { action_id: actionId, inputs };
      let record: ExecutionRecord;
      try {
        record = await deps.executions.runStep(
          callerOf(run, step),
          { actionId, inputs },
          { idempotencyKey, signal, record: true },
        );
      } catch (error) {
        if (error instanceof AppError && !isServerFault(error))
          return failed(input, { category: CATEGORY_BY_CODE[error.code], message: error.message });
        throw error;
      }
      if (record.status === 'succeeded')
        return { status: 'succeeded', input, output: record.output, executionId: record.id };
      const error = record.error ?? {
        category: 'unsupported',
        message: `The action ended ${record.status}; a workflow step needs an action that runs at once`,
      };
      return { ...failed(input, error), executionId: record.id };
    },

    // the code sees `inputs.trigger` and `inputs.steps.<id>` (committed outputs); no secrets, guarded fetch
    async code({ run, step, scope, idempotencyKey, signal, timeoutMs }) {
      const config: CodeConfig = {
        source: String(step.input.source),
        ...(timeoutMs === undefined ? {} : { timeout_ms: timeoutMs }),
      };
      const now = new Date(deps.clock.now()).toISOString();
      const record = await deps.executions.runStep(
        callerOf(run, step),
        {
          action: transientAction(run.organizationId, step.id, 'code', config, [], now),
          inputs: { trigger: scope.trigger, steps: Object.fromEntries(scope.outputs) },
        },
        { idempotencyKey, signal, record: false },
      );
      const input = { source: config.source };
      if (record.status === 'succeeded') return { status: 'succeeded', input, output: record.output ?? null };
      const error = record.error;
      return failed(input, {
        category: error?.category ?? 'sandbox_error',
        message: error ? (error.detail ?? error.message) : 'The code failed',
      });
    },

    async http({ run, step, scope, idempotencyKey, signal }) {
      const flat = flattenHttpStep(step.input);
      const lookup = runLookup(scope, true);
      const inputs: Record<string, unknown> = {};
      for (const [name, ref] of flat.refs) {
        const found = lookup(ref);
        if (!found.found)
          return failed(step.input, {
            category: 'invalid_input',
            message: `{{${ref}}} has no value in this run`,
          });
        inputs[name] = found.value;
      }
      const now = new Date(deps.clock.now()).toISOString();
      const record = await deps.executions.runStep(
        callerOf(run, step),
        { action: transientHttpAction(run.organizationId, step.id, flat, now), inputs },
        { idempotencyKey, signal, record: false },
      );
      // the engine redacted the record of every secret the request carried
      const sent = { method: record.request?.method ?? flat.config.method, url: record.request?.url ?? null };
      if (record.status !== 'succeeded')
        return failed(sent, record.error ?? { category: 'upstream_error', message: 'The request failed' });
      return { status: 'succeeded', input: sent, output: record.output ?? null };
    },
  };
}

/**
 * Runs one step; a reference that names nothing in this run fails the step (never an empty string). A
 * step whose job was told to stop (its worker is stopping, its lease was lost) before it succeeded is not
 * over: it throws, nothing is committed, and the job runs it again.
 */
export async function runStep(
  executors: Readonly<Record<StepType, Executor>>,
  context: StepContext,
): Promise<StepResult> {
  let result: StepResult;
  try {
    result = await executors[context.step.type](context);
  } catch (error) {
    if (error instanceof TemplateError)
      return failed(context.step.input, { category: 'invalid_input', message: error.message });
    if (error instanceof AppError && !isServerFault(error))
      return failed(context.step.input, { category: CATEGORY_BY_CODE[error.code], message: error.message });
    throw error;
  }
  if (context.signal.aborted && result.status !== 'succeeded') throw stoppedBy(context.signal.reason);
  return result;
}

const stoppedBy = (reason: unknown): Error =>
  reason instanceof Error ? reason : new Error('The step was stopped before it finished');
