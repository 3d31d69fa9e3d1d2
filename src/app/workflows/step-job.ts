/**
 * The job of a workflow step. It runs its step, commits the step's record (status, output, attempts), and
 * only then goes on: to the next step in the same job while it is due now and the job's budget lasts
 * (recorded in the same transaction as the commit), otherwise by enqueueing the next step's job. The run
 * and its steps are read once per job; after that the job knows them from what it committed. Each step
 * is held by one job attempt at a time (its fencing token, StepOwner): an attempt begins only on a step
 * that is its own or was its job's earlier attempt's, and its result commits only while it still holds
 * the step, in the same statement. So a worker that was paused past its lease and wakes up finds its
 * commit refused and stops; the attempt that took over stands, and the run advances once.
 */
import { setTimeout } from 'node:timers/promises';
import type { Clock } from '../../core/ports/clock.ts';
import type { Faults } from '../../core/ports/faults.ts';
import type { Job, JobContext } from '../../core/ports/queue.ts';
import type { Repositories } from '../../core/ports/store.ts';
import {
  FINISHED_RUN,
  RETRYABLE_CATEGORIES,
  stepsIn,
  stepKey,
  type Block,
  type RunStep,
  type StepBlock,
  type StepOwner,
  type StepType,
  type WorkflowRun,
  type WorkflowStepJob,
  type WorkflowVersion,
} from '../../core/workflows/model.ts';
import { planFrom, scopeOf } from './run-plan.ts';
import type { RunProgress, Settle } from './run-progress.ts';
import { runStep, type createStepExecutors, type StepResult } from './steps.ts';

export interface StepJobDeps {
  store: Repositories<'workflowRuns'>;
  clock: Clock;
  faults: Faults;
  executors: ReturnType<typeof createStepExecutors>;
  progress: RunProgress;
}

/**
 * How long one job goes on to its run's next steps itself (saving an enqueue, a claim and the reads
 * around them per step) before it hands the rest to a new job, so that long runs take turns.
 */
export const INLINE_BUDGET_MS = 1_000;

/**
 * Steps with no effect outside the run (their result depends only on its committed state): a job runs
 * them while committing the step before them, in the same transaction, instead of one by one.
 */
const SETTLED_IN_COMMIT: ReadonlySet<StepType> = new Set(['set']);

function findStep(blocks: readonly Block[], id: string): StepBlock | undefined {
  for (const { step } of stepsIn(blocks)) if (step.id === id) return step;
  return undefined;
}

export function createStepJob(deps: StepJobDeps) {
  const { store, clock, executors, progress } = deps;
  const now = () => new Date(clock.now()).toISOString();

  /** One attempt, within the step's timeout_seconds when it has one. */
  async function attempt(
    run: WorkflowRun,
    steps: readonly RunStep[],
    step: StepBlock,
    signal: AbortSignal,
  ): Promise<StepResult> {
    const context = {
      run,
      step,
      scope: scopeOf(run, steps),
      idempotencyKey: stepKey(run.id, step.id),
    };
    if (step.timeoutSeconds === undefined) return runStep(executors, { ...context, signal });
    const timeoutMs = step.timeoutSeconds * 1000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const timedOut = new Promise<StepResult>((resolve) =>
      deadline.addEventListener('abort', () =>
        resolve({
          status: 'failed',
          input: step.input,
          error: { category: 'timeout', message: `The step took longer than ${step.timeoutSeconds} s` },
        }),
      ),
    );
    return Promise.race([
      runStep(executors, { ...context, signal: AbortSignal.any([signal, deadline]), timeoutMs }),
      timedOut,
    ]);
  }

  /** Claims attempt `n` of the step for `owner`; the run's first step also marks the run running. */
  async function claim(run: WorkflowRun, stepId: string, owner: StepOwner, n: number): Promise<boolean> {
    const { organizationId, id } = run;
    const patch = { status: 'running', attempts: n, startedAt: now(), finishedAt: null } as const;
    if (run.status !== 'queued')
      return store.workflowRuns.claimStep(organizationId, id, stepId, owner, patch);
    return store.transaction(async (tx) => {
      await tx.workflowRuns.update(organizationId, id, { status: 'running', startedAt: patch.startedAt }, [
        'queued',
      ]);
      return tx.workflowRuns.claimStep(organizationId, id, stepId, owner, patch);
    });
  }

  /**
   * Attempts the step until it succeeds, fails for good, or its retry policy is spent; each attempt is
   * claimed for `owner`, counted and committed before it begins, so an interrupted one shows in
   * `attempts`. Undefined when the step was cancelled, or is no longer this attempt's, meanwhile.
   */
  async function attempts(
    run: WorkflowRun,
    steps: readonly RunStep[],
    step: StepBlock,
    done: number,
    owner: StepOwner,
    signal: AbortSignal,
  ): Promise<StepResult | undefined> {
    const maxAttempts = step.retry?.maxAttempts ?? 1;
    const { organizationId, id: runId } = run;
    for (let n = done + 1; ; n++) {
      if (!(await claim(run, step.id, owner, n))) return undefined;
      deps.faults('step-started');
      const result = await attempt(run, steps, step, signal);
      deps.faults('step-finished');
      const category = result.error?.category ?? '';
      if (result.status === 'succeeded' || n >= maxAttempts || !RETRYABLE_CATEGORIES.has(category))
        return result;
      const error = { stepId: step.id, category, message: result.error?.message ?? '' };
      if (
        !(await store.workflowRuns.updateStep(organizationId, runId, step.id, { error }, ['running'], owner))
      )
        return undefined;
      const backoffMs = Math.min((step.retry?.backoffSeconds ?? 1) * 1000 * 2 ** (n - done - 1), 60_000);
      await setTimeout(backoffMs, undefined, { signal });
    }
  }

  /**
   * Where a job that finds its step finished already goes on (an earlier attempt committed it and died
   * before moving the run on): as the run's plan says, the next step held by `owner` when due now.
   * Answers the run and its steps as committed, and the step to run here, if any.
   */
  async function resume(
    run: WorkflowRun,
    version: WorkflowVersion,
    record: RunStep,
    owner: StepOwner | undefined,
  ): Promise<{ run: WorkflowRun; steps: RunStep[]; next: RunStep } | undefined> {
    const { organizationId, id: runId } = run;
    if (record.status === 'failed' && !findStep(version.blocks, record.stepId)?.onError) {
      const error = record.error ?? { category: 'internal', message: 'The step failed' };
      await progress.failRun(run, record.stepId, error);
      return undefined;
    }
    const here = await progress.advance(run, version, owner);
    if (!here) return undefined;
    // read after the record was written: a cancel either sees that record or is seen here
    const latest = await store.workflowRuns.get(organizationId, runId);
    if (!latest || FINISHED_RUN.has(latest.status)) return undefined;
    const steps = await store.workflowRuns.steps(organizationId, runId);
    const next = steps.find((s) => s.stepId === here.id);
    return next && { run: latest, steps, next };
  }

  /**
   * One job: its step, then the run's next steps as long as they are due now, the worker is not stopping
   * and the job has run for less than INLINE_BUDGET_MS; what is left goes to the next step's job. Each
   * step's record is committed before the next begins, so a job that runs again after a crash picks the
   * run up at its first unfinished step whichever step it was enqueued for.
   */
  return async function work(job: Job<WorkflowStepJob>, context: JobContext): Promise<void> {
    const { organizationId, runId } = job.payload;
    const owner: StepOwner = { jobId: job.id, attempt: job.attempt };
    const found = await store.workflowRuns.get(organizationId, runId);
    if (!found || FINISHED_RUN.has(found.status)) return; // cancelled, or finished by an earlier attempt
    let run: WorkflowRun = found;
    const version = await progress.versionOf(run);
    const budgetEnds = clock.now() + INLINE_BUDGET_MS;
    const inline = () => !context.stopping.aborted && !context.signal.aborted && clock.now() < budgetEnds;
    const settle: Settle = {
      runs: (next) => SETTLED_IN_COMMIT.has(next.type),
      run: (next, committed) => attempt(run, committed, next, context.signal),
    };
    let stepId = job.payload.stepId;
    let steps = await store.workflowRuns.steps(organizationId, runId);
    let record = steps.find((s) => s.stepId === stepId);
    if (!record && version) {
      // enqueued, and the process died (or is still busy) before recording it
      const plan = planFrom(run, version, steps);
      if (plan.step?.id !== stepId) return; // not this run's next step: a stale job
      await progress.recordPlan(run, plan, owner);
      steps = await store.workflowRuns.steps(organizationId, runId);
      record = steps.find((s) => s.stepId === stepId);
    }
    for (;;) {
      const step = version && findStep(version.blocks, stepId);
      if (!version || !step || !record) {
        await progress.failRun(run, stepId, {
          category: 'internal',
          message: `step "${stepId}" is not in version ${run.versionNumber}`,
        });
        return;
      }
      let after: { run: WorkflowRun; steps: RunStep[]; next: RunStep } | undefined;
      if (record.status === 'succeeded' || record.status === 'failed') {
        after = await resume(run, version, record, inline() ? owner : undefined);
      } else {
        if (record.type === 'delay') await progress.wake(run);
        const result = await attempts(run, steps, step, record.attempts, owner, context.signal);
        if (!result) return; // cancelled, or taken over, meanwhile
        const committed = await progress.commitStep(
          run,
          version,
          steps,
          step,
          result,
          owner,
          inline(),
          settle,
        );
        if (!committed) return; // taken over meanwhile
        deps.faults('step-committed');
        if (committed.go === 'handoff')
          await progress.advance(committed.run, version, undefined, committed.plan);
        if (committed.go !== 'next') return;
        after = committed;
      }
      if (!after) return;
      ({ run, steps, next: record } = after);
      stepId = record.stepId;
    }
  };
}
