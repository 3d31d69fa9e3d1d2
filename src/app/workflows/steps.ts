/**
 * How each step type runs: a table from type to executor (STYLE.md: a registry, not a growing switch).
 * An executor renders the step's input against the run's committed state and returns what to record;
 * it never throws for a failure of the step itself (that fails the run), only for infrastructure.
 */
import type { CodeConfig } from '../../core/actions/kinds/code.ts';
import type { ExecutionRecord } from '../../core/executions.ts';
import { AppError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/clock.ts';
import { redactorFor } from '../../core/redaction.ts';
import type { Principal } from '../../core/tenancy.ts';
import { TemplateError, renderJson } from '../../core/templates/index.ts';
import type { StepBlock, StepType, WorkflowRun } from '../../core/workflows/model.ts';
import { runLookup, type RunScope } from '../../core/workflows/references.ts';
import type { ExecuteRequest } from '../executions/service.ts';
import { SecretAccess, type RevealSecret } from '../executions/secret-access.ts';
import type { KindRegistry } from '../kinds/registry.ts';
import { flattenHttpStep, transientAction, transientHttpAction } from './http-step.ts';

export interface StepContext {
  run: WorkflowRun;
  step: StepBlock;
  scope: RunScope;
  /** `run:<run_id>:step:<step_id>`: the same on every attempt of the step. */
  idempotencyKey: string;
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
  kinds: KindRegistry;
  reveal: RevealSecret;
  execute(principal: Principal, actionId: string, request: ExecuteRequest): Promise<unknown>;
}

type Executor = (context: StepContext) => Promise<StepResult>;

const render = (value: unknown, scope: RunScope, location: string): unknown =>
  renderJson(value ?? null, runLookup(scope, true), location);

const failed = (input: unknown, error: { category: string; message: string }): StepResult => ({
  status: 'failed',
  input,
  error: { category: error.category, message: error.message },
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

    async action({ run, step, scope, idempotencyKey }) {
      const actionId = String(step.input.action_id);
      const inputs = render(step.input.inputs ?? {}, scope, `${step.id}.inputs`) as Record<string, unknown>;
      const input = { action_id: actionId, inputs };
      const principal: Principal = {
        organizationId: run.organizationId,
        keyId: run.callerKeyId ?? '',
        scopes: [],
      };
      let record: ExecutionRecord;
      try {
        record = (await deps.execute(principal, actionId, {
          inputs,
          context: { workflow_run_id: run.id, workflow_step_id: step.id },
          dryRun: false,
          idempotencyKey,
        })) as ExecutionRecord;
      } catch (error) {
        if (error instanceof AppError && error.status < 500)
          return failed(input, { category: error.code.toLowerCase(), message: error.message });
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
      const outcome = await deps.kinds.get('code').run(config, {
        action: transientAction(run.organizationId, step.id, 'code', config, [], now),
        integration: null,
        inputs: { trigger: scope.trigger, steps: Object.fromEntries(scope.outputs) },
        context: {},
        secrets: new SecretAccess(deps.reveal, run.organizationId, {}),
        idempotencyKey,
        dryRun: false,
        executionId: idempotencyKey,
        signal,
      });
      const input = { source: config.source };
      if (outcome.status === 'succeeded')
        return { status: 'succeeded', input, output: outcome.output ?? null };
      const error = outcome.error;
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
      const action = transientHttpAction(run.organizationId, step.id, flat, now);
      const secrets = new SecretAccess(deps.reveal, run.organizationId, {});
      const outcome = await deps.kinds.get('http').run(flat.config, {
        action,
        integration: null,
        inputs,
        context: {},
        secrets,
        idempotencyKey,
        dryRun: false,
        executionId: idempotencyKey,
        signal,
      });
      const redactor = redactorFor(secrets.values());
      const rendered = redactor.value({
        method: outcome.request?.method ?? flat.config.method,
        url: outcome.request?.url ?? null,
      });
      if (outcome.status !== 'succeeded')
        return failed(
          rendered,
          redactor.value(outcome.error ?? { category: 'upstream_error', message: 'The request failed' }),
        );
      return { status: 'succeeded', input: rendered, output: redactor.value(outcome.output ?? null) };
    },
  };
}

/** Runs one step; a reference that names nothing in this run fails the step (never an empty string). */
export async function runStep(
  executors: Readonly<Record<StepType, Executor>>,
  context: StepContext,
): Promise<StepResult> {
  try {
    return await executors[context.step.type](context);
  } catch (error) {
    if (error instanceof TemplateError)
      return failed(context.step.input, { category: 'invalid_input', message: error.message });
    if (error instanceof AppError && error.status < 500)
      return failed(context.step.input, { category: error.code.toLowerCase(), message: error.message });
    throw error;
  }
}
