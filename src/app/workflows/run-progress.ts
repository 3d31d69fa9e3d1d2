/**
 * How a run moves on between steps: the plan from its committed state, the records of the decisions on
 * the way and of its next step (each held by the job attempt that is to run it), the next step's job, and
 * the run's end. Also each organization's slots: a run holds one from its admission until it finishes,
 * except while asleep in a delay; runs over the cap (RunDeps.runsPerOrganization) wait `queued` and are
 * admitted, oldest first, as slots free up.
 */
import type { Clock } from '../../core/ports/clock.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Queue } from '../../core/ports/queue.ts';
import type { Repositories } from '../../core/ports/store.ts';
import type { RunPatch } from '../../core/ports/workflow-store.ts';
import {
  FINISHED_RUN,
  WORKFLOW_STEP_DEAD_JOB,
  WORKFLOW_STEP_JOB,
  stepKey,
  type RunStep,
  type StepBlock,
  type StepOwner,
  type WorkflowRun,
  type WorkflowStepJob,
  type WorkflowVersion,
} from '../../core/workflows/model.ts';
import { nextStep } from '../../core/workflows/plan.ts';
import type { RunScope } from '../../core/workflows/references.ts';

export type ProgressStore = Repositories<'workflows' | 'workflowRuns' | 'workflowRunSlots'>;

export interface ProgressDeps {
  store: ProgressStore;
  queue: Queue;
  clock: Clock;
  logger: Logger;
  /** Runs of one organization that may be under way at once (0: no cap). */
  runsPerOrganization: number;
}

export type RunProgress = ReturnType<typeof createRunProgress>;

export const scopeOf = (run: WorkflowRun, steps: readonly RunStep[]): RunScope => ({
  trigger: run.input,
  outputs: new Map(
    steps.filter((s) => s.status === 'succeeded' && s.type !== 'if-else').map((s) => [s.stepId, s.output]),
  ),
  errors: new Map(
    steps
      .filter((s) => s.status === 'failed')
      .map((s) => [s.stepId, { category: s.error?.category ?? null, message: s.error?.message ?? null }]),
  ),
});

/** What a step's job is enqueued with: keyed per step, and followed up by a dead letter if it dies. */
export const stepJobOptions = (run: WorkflowRun, key: string, runAt?: number) => ({
  key,
  organizationId: run.organizationId,
  deadLetter: WORKFLOW_STEP_DEAD_JOB,
  ...(runAt === undefined ? {} : { runAt: new Date(runAt) }),
});

export function createRunProgress(deps: ProgressDeps) {
  const { store, queue, clock, logger } = deps;
  const cap = deps.runsPerOrganization;
  const now = () => new Date(clock.now()).toISOString();

  /** Where the run goes next from its committed state (if-else decisions on the way, the next step). */
  async function planOf(run: WorkflowRun, version: WorkflowVersion) {
    const steps = await store.workflowRuns.steps(run.organizationId, run.id);
    // a failed step is only ever passed over when its on_error blocks take over (otherwise the run failed)
    const finished = new Set(
      steps.filter((s) => s.status === 'succeeded' || s.status === 'failed').map((s) => s.stepId),
    );
    return { steps, ...nextStep(version.blocks, scopeOf(run, steps), finished) };
  }
  type Plan = Awaited<ReturnType<typeof planOf>>;

  /**
   * Records the plan's decisions and its next step as queued, held by `owner`; each record is inserted
   * once. A delay's record says when it wakes (`wake_at`), so a lost job can be replaced on time.
   */
  async function recordPlan(
    run: WorkflowRun,
    plan: Plan,
    owner: StepOwner | null,
    wakeAt?: number,
  ): Promise<void> {
    let position = plan.steps.length;
    const at = now();
    const base = { runId: run.id, organizationId: run.organizationId, error: null, executionId: null };
    for (const d of plan.decisions) {
      await store.workflowRuns.insertStep({
        ...base,
        stepId: d.block.id,
        position: position++,
        type: 'if-else',
        name: d.block.name ?? null,
        status: 'succeeded',
        input: { operatorName: d.block.condition.operator, left: d.left, right: d.right },
        output: { result: d.result, branch: d.result ? 'then' : 'else' },
        attempts: 1,
        startedAt: at,
        finishedAt: at,
      });
    }
    const { step } = plan;
    if (step && !plan.steps.some((s) => s.stepId === step.id))
      await store.workflowRuns.insertStep({
        ...base,
        stepId: step.id,
        position,
        type: step.type,
        name: step.name ?? null,
        status: 'queued',
        input: wakeAt === undefined ? null : { ...step.input, wake_at: new Date(wakeAt).toISOString() },
        output: null,
        attempts: 0,
        startedAt: null,
        finishedAt: null,
        owner,
      });
  }

  /**
   * Enqueues the job of the next unfinished step, then records the decisions on the way and that step
   * as queued, held by that job (a job that runs before the record exists records it itself); with no
   * step left, the run has succeeded. Safe to repeat: records and jobs are keyed by step id. Because the
   * job comes first, a run with no step record has no job either: that is what the sweep looks for.
   * `inline`: the job attempt that is to run the step itself, when it is due now: it gets the step back
   * recorded as queued and held by it, and nothing is enqueued. A delay puts the run to sleep.
   */
  async function advance(
    run: WorkflowRun,
    version: WorkflowVersion,
    inline?: StepOwner,
  ): Promise<StepBlock | undefined> {
    const plan = await planOf(run, version);
    const { step } = plan;
    if (!step) {
      await recordPlan(run, plan, null);
      await finishRun(run, { status: 'succeeded', finishedAt: now() });
      return undefined;
    }
    const seconds = step.type === 'delay' ? Number(step.input.seconds) : 0;
    if (inline && !(seconds > 0)) {
      await recordPlan(run, plan, inline);
      return step;
    }
    const wakeAt = seconds > 0 ? clock.now() + seconds * 1000 : undefined;
    const payload: WorkflowStepJob = { organizationId: run.organizationId, runId: run.id, stepId: step.id };
    const job = await queue.enqueue(
      WORKFLOW_STEP_JOB,
      payload,
      stepJobOptions(run, stepKey(run.id, step.id), wakeAt),
    );
    await recordPlan(run, plan, { jobId: job.id, attempt: 0 }, wakeAt);
    if (wakeAt !== undefined) await sleep(run);
    return undefined;
  }

  /** Sends admitted runs on to their first job; one that fails now is sent on by the sweep. */
  async function send(organizationId: string, runIds: readonly string[]): Promise<void> {
    for (const id of runIds) {
      try {
        const run = await store.workflowRuns.get(organizationId, id);
        if (!run || FINISHED_RUN.has(run.status)) continue;
        const version = await store.workflows.getVersion(organizationId, run.versionId);
        if (version) await advance(run, version);
      } catch (error) {
        logger.warn({ err: error, runId: id }, 'an admitted run was not yet sent on; the sweep will');
      }
    }
  }

  /** Admits the organization's runs waiting for a slot, as far as its cap allows, and sends them on. */
  async function admit(organizationId: string): Promise<number> {
    const admitted = await store.transaction((tx) => tx.workflowRunSlots.admit(organizationId, cap, now()));
    await send(organizationId, admitted);
    return admitted.length;
  }

  /** Frees the run's slot (it finished, or sleeps) and admits whoever waits for it, in one transaction. */
  async function release(tx: ProgressStore, run: WorkflowRun): Promise<string[]> {
    await tx.workflowRunSlots.release(run.organizationId, run.id);
    return tx.workflowRunSlots.admit(run.organizationId, cap, now());
  }

  /** A run asleep in a delay holds no slot: another run of its organization may go meanwhile. */
  async function sleep(run: WorkflowRun): Promise<void> {
    const admitted = await store.transaction((tx) => release(tx, run));
    await send(run.organizationId, admitted);
  }

  /** A run woken from a delay takes a slot again at once, even past the cap: it has started already. */
  async function wake(run: WorkflowRun): Promise<void> {
    await store.workflowRunSlots.occupy(run.organizationId, run.id);
  }

  /** Ends the run (from queued or running; false if it had ended) and gives its slot to the next. */
  async function finishRun(run: WorkflowRun, patch: RunPatch): Promise<boolean> {
    const { organizationId, id } = run;
    const outcome = await store.transaction(async (tx) => {
      if (!(await tx.workflowRuns.update(organizationId, id, patch, ['queued', 'running'])))
        return { finished: false, admitted: [] };
      return { finished: true, admitted: await release(tx, run) };
    });
    await send(organizationId, outcome.admitted);
    return outcome.finished;
  }

  async function failRun(
    run: WorkflowRun,
    stepId: string | null,
    error: { category: string; message: string },
  ): Promise<boolean> {
    return finishRun(run, { status: 'failed', error: { stepId, ...error }, finishedAt: now() });
  }

  return { planOf, recordPlan, advance, send, admit, sleep, wake, finishRun, failRun };
}
