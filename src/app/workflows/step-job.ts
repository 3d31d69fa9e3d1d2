/**
 * The job of a workflow step. It runs its step, commits the step's record (status, output, attempts), and
 * only then goes on: to the next step in the same job while it is due now and the job's budget lasts,
 * otherwise by enqueueing the next step's job. Each step is held by one job attempt at a time (its
 * fencing token, StepOwner): an attempt begins only on a step that is its own or was its job's earlier
 * attempt's, and its result commits only while it still holds the step, in the same statement. So a
 * worker that was paused past its lease and wakes up finds its commit refused and stops; the attempt
 * that took over stands, and the run advances once.
 */
import { setTimeout } from 'node:timers/promises';
import type { Clock } from '../../core/ports/clock.ts';
import type { Faults } from '../../core/ports/faults.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Job, JobContext } from '../../core/ports/queue.ts';
import type { Store } from '../../core/ports/store.ts';
import {
  FINISHED_RUN,
  RETRYABLE_CATEGORIES,
  stepsIn,
  stepKey,
  type Block,
  type RunStep,
  type StepBlock,
  type StepOwner,
  type WorkflowRun,
  type WorkflowStepJob,
} from '../../core/workflows/model.ts';
import { scopeOf, type RunProgress } from './run-progress.ts';
import { runStep, type createStepExecutors, type StepResult } from './steps.ts';

export interface StepJobDeps {
  store: Pick<Store, 'workflows' | 'workflowRuns'>;
  clock: Clock;
  logger: Logger;
  faults: Faults;
  executors: ReturnType<typeof createStepExecutors>;
  progress: RunProgress;
}

/**
 * How long one job goes on to its run's next steps itself (saving an enqueue, a claim and the reads
 * around them per step) before it hands the rest to a new job, so that long runs take turns.
 */
export const INLINE_BUDGET_MS = 1_000;

function findStep(blocks: readonly Block[], id: string): StepBlock | undefined {
  for (const { step } of stepsIn(blocks)) if (step.id === id) return step;
  return undefined;
}

export function createStepJob(deps: StepJobDeps) {
  const { store, clock, logger, executors, progress } = deps;
  const now = () => new Date(clock.now()).toISOString();

  /** One attempt, within the step's timeout_seconds when it has one. */
  async function attempt(run: WorkflowRun, step: StepBlock, signal: AbortSignal): Promise<StepResult> {
    const steps = await store.workflowRuns.steps(run.organizationId, run.id);
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

  /**
   * Attempts the step until it succeeds, fails for good, or its retry policy is spent; each attempt is
   * claimed for `owner`, counted and committed before it begins, so an interrupted one shows in
   * `attempts`. Undefined when the step was cancelled, or is no longer this attempt's, meanwhile.
   */
  async function attempts(
    run: WorkflowRun,
    step: StepBlock,
    done: number,
    owner: StepOwner,
    signal: AbortSignal,
  ): Promise<StepResult | undefined> {
    const maxAttempts = step.retry?.maxAttempts ?? 1;
    const { organizationId, id: runId } = run;
    for (let n = done + 1; ; n++) {
      const began = await store.workflowRuns.claimStep(organizationId, runId, step.id, owner, {
        status: 'running',
        attempts: n,
        startedAt: now(),
        finishedAt: null,
      });
      if (!began) return undefined;
      deps.faults('step-started');
      const result = await attempt(run, step, signal);
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
   * Makes sure the step has finished: runs it (again) unless its record says it did, and commits the
   * outcome while `owner` still holds the step. Answers the finished record, or undefined when the run was
   * cancelled or the step passed to another attempt meanwhile (this one then stops).
   */
  async function finish(
    run: WorkflowRun,
    step: StepBlock,
    record: RunStep,
    owner: StepOwner,
    signal: AbortSignal,
  ): Promise<RunStep | undefined> {
    if (record.status === 'succeeded' || record.status === 'failed') return record;
    const { organizationId, id: runId } = run;
    if (record.type === 'delay') await progress.wake(run);
    if (run.status === 'queued')
      await store.workflowRuns.update(organizationId, runId, { status: 'running', startedAt: now() }, [
        'queued',
      ]);
    const result = await attempts(run, step, record.attempts, owner, signal);
    if (!result) return undefined;
    const committed = await store.workflowRuns.updateStep(
      organizationId,
      runId,
      step.id,
      {
        status: result.status,
        input: result.input,
        output: result.output ?? null,
        error: result.error ? { stepId: step.id, ...result.error } : null,
        executionId: result.executionId ?? null,
        finishedAt: now(),
      },
      ['running'],
      owner,
    );
    if (!committed) {
      logger.warn(
        { runId, stepId: step.id, jobId: owner.jobId, attempt: owner.attempt },
        'step result discarded: the step passed to another attempt while this one ran (its lease lapsed)',
      );
      return undefined;
    }
    deps.faults('step-committed');
    return store.workflowRuns.getStep(organizationId, runId, step.id);
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
    let run = await store.workflowRuns.get(organizationId, runId);
    if (!run || FINISHED_RUN.has(run.status)) return; // cancelled, or finished by an earlier attempt
    const version = await store.workflows.getVersion(organizationId, run.versionId);
    const budgetEnds = clock.now() + INLINE_BUDGET_MS;
    let stepId = job.payload.stepId;
    let record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    if (!record && version) {
      // enqueued, and the process died (or is still busy) before recording it
      const plan = await progress.planOf(run, version);
      if (plan.step?.id !== stepId) return; // not this run's next step: a stale job
      await progress.recordPlan(run, plan, owner);
      record = await store.workflowRuns.getStep(organizationId, runId, stepId);
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
      const finished = await finish(run, step, record, owner, context.signal);
      if (!finished) return; // cancelled, or taken over, meanwhile
      if (finished.status === 'failed' && !step.onError) {
        const error = finished.error ?? { category: 'internal', message: 'The step failed' };
        await progress.failRun(run, stepId, error);
        return;
      }
      const current = await store.workflowRuns.get(organizationId, runId);
      if (!current || FINISHED_RUN.has(current.status)) return;
      const here =
        !context.stopping.aborted && !context.signal.aborted && clock.now() < budgetEnds
          ? await progress.advance(current, version, owner)
          : await progress.advance(current, version);
      if (!here) return;
      // read after the record was written: a cancel either sees that record or is seen here
      const latest = await store.workflowRuns.get(organizationId, runId);
      if (!latest || FINISHED_RUN.has(latest.status)) return;
      run = latest;
      stepId = here.id;
      record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    }
  };
}
