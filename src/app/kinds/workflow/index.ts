/**
 * The workflow kind: an agent's call of an ai-trigger workflow's tool starts a run of the workflow's
 * active version with the inputs as `{{trigger.*}}` (its trigger constraints apply), then waits up to the
 * trigger's wait_seconds for the run to finish. A finished run answers its output; one still going
 * answers its run id, which GET /v1/runs/{id} follows. The run itself is the durable part: it goes on
 * whatever happens to the call.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WAIT_SECONDS,
  WorkflowConfigSchema,
  readAiTrigger,
  type WorkflowConfig,
} from '../../../core/actions/kinds/workflow.ts';
import { ERROR_CATEGORIES, type ErrorCategory } from '../../../core/actions/outcomes.ts';
import type { ExecutionError } from '../../../core/executions.ts';
import type { Store } from '../../../core/ports/store.ts';
import type { WorkflowStarter } from '../../../core/ports/workflow-starter.ts';
import { constraintsPass } from '../../../core/workflows/json-logic.ts';
import { FINISHED_RUN, type WorkflowRun } from '../../../core/workflows/model.ts';
import type { ActionKind, RunContext, RunOutcome } from '../kind.ts';

export interface WorkflowKindDeps {
  store: Pick<Store, 'workflows' | 'workflowRuns'>;
  runs: WorkflowStarter;
  /** The longest pause between two reads of the run while waiting for it (default 250 ms). */
  maxPollMs?: number;
}

const CATEGORIES: ReadonlySet<string> = new Set(ERROR_CATEGORIES);
/** How deep workflows started through each other's tools may nest. */
export const MAX_NESTING = 8;

const failed = (error: ExecutionError, extra?: Record<string, unknown>): RunOutcome => ({
  status: 'failed',
  error,
  attempts: 0,
  ...(extra ? { extra } : {}),
});

export function createWorkflowKind(deps: WorkflowKindDeps): ActionKind<WorkflowConfig> {
  const { store } = deps;
  const maxPollMs = deps.maxPollMs ?? 250;

  /** Reads the run until it finishes or `stop` aborts; polls fast first, so a quick run answers quickly. */
  async function settle(run: WorkflowRun, stop: AbortSignal): Promise<WorkflowRun> {
    let current = run;
    for (
      let pause = 10;
      !FINISHED_RUN.has(current.status) && !stop.aborted;
      pause = Math.min(pause * 2, maxPollMs)
    ) {
      await sleep(pause, undefined, { signal: stop }).catch(() => undefined);
      current = (await store.workflowRuns.get(run.organizationId, run.id)) ?? current;
    }
    return current;
  }

  /** What the call answers for the run as it stands. */
  async function outcomeOf(run: WorkflowRun): Promise<RunOutcome> {
    const extra = { run_id: run.id, workflow_id: run.workflowId, workflow_version: run.versionNumber };
    if (run.status === 'succeeded') {
      const ran = (await store.workflowRuns.steps(run.organizationId, run.id)).filter(
        (step) => step.type !== 'if-else' && step.status === 'succeeded',
      );
      return {
        status: 'succeeded',
        output: {
          run_id: run.id,
          status: 'succeeded',
          output: ran.at(-1)?.output ?? null,
          steps: Object.fromEntries(ran.map((step) => [step.stepId, step.output])),
        },
        attempts: 1,
        extra,
      };
    }
    if (run.status === 'failed' || run.status === 'cancelled') {
      const category = run.error?.category ?? '';
      const where = run.error?.stepId ? ` at step "${run.error.stepId}"` : '';
      return {
        status: 'failed',
        output: { run_id: run.id, status: run.status },
        error: {
          category: CATEGORIES.has(category) ? (category as ErrorCategory) : 'upstream_error',
          message:
            run.status === 'cancelled'
              ? 'The workflow run was cancelled.'
              : (run.error?.message ?? 'The workflow run failed.'),
          detail: `Run ${run.id} of workflow ${run.workflowId} ${run.status}${where}; GET /v1/runs/${run.id} shows its steps`,
        },
        attempts: 1,
        extra,
      };
    }
    // still going: the agent is told where to look, and the run carries on
    return { status: 'succeeded', output: { run_id: run.id, status: 'running' }, attempts: 1, extra };
  }

  /**
   * The runs whose steps led to this call, nearest first: the run of the calling step, the run whose
   * step started that one, and so on (none for a call from outside a run). At most MAX_NESTING + 1.
   */
  async function ancestry(context: RunContext): Promise<WorkflowRun[]> {
    const chain: WorkflowRun[] = [];
    const parentId = context.context.workflow_run_id;
    for (let id = typeof parentId === 'string' ? parentId : null; id && chain.length <= MAX_NESTING;) {
      const run = await store.workflowRuns.get(context.action.organizationId, id);
      if (!run) break;
      chain.push(run);
      id = run.parentRunId;
    }
    return chain;
  }

  /**
   * Refuses a call that would start a workflow from a run of itself, directly or through other
   * workflows' tools (it would start itself again and again), and chains nested too deep.
   */
  function recursion(
    config: WorkflowConfig,
    context: RunContext,
    chain: WorkflowRun[],
  ): RunOutcome | undefined {
    const step = `Step "${String(context.context.workflow_step_id)}" of run ${chain[0]?.id}`;
    const loop = chain.findIndex((run) => run.workflowId === config.workflow_id);
    if (loop === 0)
      return failed({
        category: 'blocked',
        message: 'A workflow cannot call itself as a tool.',
        detail: `${step} calls the tool of its own workflow ${config.workflow_id}`,
      });
    if (loop > 0)
      return failed({
        category: 'blocked',
        message: 'A workflow cannot call itself as a tool, even through other workflows.',
        detail: `${step} would start workflow ${config.workflow_id} again: ${[config.workflow_id, ...chain.slice(0, loop + 1).map((run) => run.workflowId)].reverse().join(' → ')}`,
      });
    if (chain.length > MAX_NESTING)
      return failed({
        category: 'blocked',
        message: `Workflows calling each other's tools nest at most ${MAX_NESTING} deep.`,
        detail: `${step} would start a workflow ${chain.length + 1} levels deep`,
      });
    return undefined;
  }

  async function run(config: WorkflowConfig, context: RunContext): Promise<RunOutcome> {
    const version = await store.workflows.active(context.action.organizationId, config.workflow_id);
    if (version?.triggerType !== 'ai-trigger')
      return failed({
        category: 'not_found',
        message: 'This workflow is no longer available as a tool.',
        detail: `Workflow ${config.workflow_id} has no active version with trigger_type ai-trigger`,
      });
    const chain = await ancestry(context);
    const refused = recursion(config, context, chain);
    if (refused) return refused;
    if (!constraintsPass(version, context.inputs))
      return failed({
        category: 'invalid_input',
        message: "These details don't meet the workflow's conditions, so it was not started.",
        detail: 'No run started: the trigger constraints are not met by the inputs',
      });
    if (context.dryRun)
      return {
        status: 'dry_run',
        request: {
          method: 'POST',
          url: `/v1/workflows/${version.workflowId}/runs`,
          headers: {},
          body: JSON.stringify({ input: context.inputs, version_number: version.versionNumber }),
        },
        attempts: 0,
      };
    const started = await deps.runs.startVersion(
      version,
      context.inputs,
      context.callerKeyId ?? null,
      chain[0]?.id ?? null,
    );
    const read = readAiTrigger(version.triggerConfiguration);
    const waitMs = (read.ok ? read.tool.waitSeconds : WAIT_SECONDS.default) * 1000;
    const stop = AbortSignal.any([context.signal, AbortSignal.timeout(Math.max(waitMs, 1))]);
    return outcomeOf(waitMs > 0 ? await settle(started, stop) : started);
  }

  return {
    kind: 'workflow',
    configSchema: WorkflowConfigSchema,
    normalize: (input) => ({ workflow_id: (input as WorkflowConfig).workflow_id }),
    check: () => [],
    secretIds: () => [],
    urls: () => [],
    managedBy: (config) =>
      `This action is the tool of workflow ${config.workflow_id}: change the workflow instead (PATCH /v1/workflows/${config.workflow_id}: its name, description and trigger_configuration make the tool); deleting the workflow or changing its trigger_type removes the tool`,
    run,
  };
}
