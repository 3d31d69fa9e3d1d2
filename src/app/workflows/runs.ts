/**
 * Durable workflow runs on the Queue port. The job of a step runs it, commits its record (status, output,
 * attempts), and only then goes on: to the next step in the same job while it is due now and the job's
 * budget lasts, otherwise by enqueueing the next step's job, keyed `run:<run_id>:step:<step_id>` so that
 * no step is ever enqueued twice. A job that runs again (its worker died) finds its steps finished and
 * only advances, or finds the run's first unfinished step and runs it once more with the same
 * idempotency key, counting the attempt. Delays are a job's runAt, never a sleep.
 */
import { setTimeout } from 'node:timers/promises';
import { AppError, notFound } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Faults } from '../../core/ports/faults.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { JobContext, Queue } from '../../core/ports/queue.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Principal } from '../../core/tenancy.ts';
import {
  FINISHED_RUN,
  RETRYABLE_CATEGORIES,
  queuedRun,
  WORKFLOW_STEP_JOB,
  stepsIn,
  stepKey,
  type Block,
  type RunStep,
  type StepBlock,
  type WorkflowRun,
  type WorkflowStepJob,
  type WorkflowVersion,
} from '../../core/workflows/model.ts';
import { constraintsPass } from '../../core/workflows/json-logic.ts';
import { nextStep } from '../../core/workflows/plan.ts';
import type { RunScope } from '../../core/workflows/references.ts';
import { createIdempotency } from '../executions/idempotency.ts';
import { createStepExecutors, runStep, type StepDeps, type StepResult } from './steps.ts';

export interface RunDeps extends StepDeps {
  store: Store;
  queue: Queue;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  /** Crash-test hooks (SWITCHBOARD_FAULT_AT); nothing in production. */
  faults: Faults;
}

export interface RunWithSteps {
  run: WorkflowRun;
  steps: RunStep[];
}

export type RunService = ReturnType<typeof createRunService>;

/** How old a run with no step recorded must be before the sweep takes it for orphaned. */
export const SWEEP_GRACE_MS = 30_000;

/**
 * How long one job goes on to its run's next steps itself (saving an enqueue, a claim and the reads
 * around them per step) before it hands the rest to a new job, so that long runs take turns.
 */
export const INLINE_BUDGET_MS = 1_000;

function findStep(blocks: readonly Block[], id: string): StepBlock | undefined {
  for (const { step } of stepsIn(blocks)) if (step.id === id) return step;
  return undefined;
}

const scopeOf = (run: WorkflowRun, steps: readonly RunStep[]): RunScope => ({
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

export function createRunService(deps: RunDeps) {
  const { store, queue, clock } = deps;
  const executors = createStepExecutors(deps);
  const idempotency = createIdempotency(store, deps.crypto, clock);
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

  /** Records the plan's decisions and its next step as queued; each record is inserted once. */
  async function recordPlan(run: WorkflowRun, plan: Awaited<ReturnType<typeof planOf>>): Promise<void> {
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
        input: { operatorName: d.block.inputs.condition.operatorName, left: d.left, right: d.right },
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
        input: null,
        output: null,
        attempts: 0,
        startedAt: null,
        finishedAt: null,
      });
  }

  /**
   * Enqueues the job of the next unfinished step, then records the decisions on the way and that step
   * as queued (a job that runs before the record exists records it itself); with no step left, the run
   * has succeeded. Safe to repeat: records and jobs are keyed by step id. Because the job comes first, a
   * run with no step record has no job either: that is what the sweep looks for. `inline`: a job that
   * is to run the step itself, when it is due now, gets it back recorded as queued and nothing enqueued.
   */
  async function advance(
    run: WorkflowRun,
    version: WorkflowVersion,
    inline = false,
  ): Promise<StepBlock | undefined> {
    const plan = await planOf(run, version);
    const { step } = plan;
    if (!step) {
      await recordPlan(run, plan);
      await store.workflowRuns.update(
        run.organizationId,
        run.id,
        { status: 'succeeded', finishedAt: now() },
        ['queued', 'running'],
      );
      return undefined;
    }
    const seconds = step.type === 'delay' ? Number(step.input.seconds) : 0;
    if (inline && !(seconds > 0)) {
      await recordPlan(run, plan);
      return step;
    }
    const payload: WorkflowStepJob = { organizationId: run.organizationId, runId: run.id, stepId: step.id };
    await queue.enqueue(WORKFLOW_STEP_JOB, payload, {
      key: stepKey(run.id, step.id),
      organizationId: run.organizationId,
      ...(seconds > 0 ? { runAt: new Date(clock.now() + seconds * 1000) } : {}),
    });
    await recordPlan(run, plan);
    return undefined;
  }

  async function failRun(
    run: WorkflowRun,
    stepId: string | null,
    error: { category: string; message: string },
  ) {
    await store.workflowRuns.update(
      run.organizationId,
      run.id,
      { status: 'failed', error: { stepId, ...error }, finishedAt: now() },
      ['queued', 'running'],
    );
  }

  /** One attempt, within the step's timeout_seconds when it has one. */
  async function attempt(run: WorkflowRun, step: StepBlock, signal: AbortSignal): Promise<StepResult> {
    const steps = await store.workflowRuns.steps(run.organizationId, run.id);
    const context = {
      run,
      step,
      scope: scopeOf(run, steps),
      idempotencyKey: stepKey(run.id, step.id),
    };
    if (step.timeout_seconds === undefined) return runStep(executors, { ...context, signal });
    const timeoutMs = step.timeout_seconds * 1000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const timedOut = new Promise<StepResult>((resolve) =>
      deadline.addEventListener('abort', () =>
        resolve({
          status: 'failed',
          input: step.input,
          error: { category: 'timeout', message: `The step took longer than ${step.timeout_seconds} s` },
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
   * counted and committed before it begins, so an interrupted one shows in `attempts`. Undefined when
   * the step was cancelled meanwhile.
   */
  async function attempts(
    run: WorkflowRun,
    step: StepBlock,
    done: number,
    signal: AbortSignal,
  ): Promise<StepResult | undefined> {
    const maxAttempts = step.retry?.max_attempts ?? 1;
    for (let n = done + 1; ; n++) {
      const began = await store.workflowRuns.updateStep(
        run.organizationId,
        run.id,
        step.id,
        { status: 'running', attempts: n, startedAt: now(), finishedAt: null },
        ['queued', 'running'],
      );
      if (!began) return undefined;
      deps.faults('step-started');
      const result = await attempt(run, step, signal);
      deps.faults('step-finished');
      const category = result.error?.category ?? '';
      if (result.status === 'succeeded' || n >= maxAttempts || !RETRYABLE_CATEGORIES.has(category))
        return result;
      await store.workflowRuns.updateStep(
        run.organizationId,
        run.id,
        step.id,
        { error: { stepId: step.id, category, message: result.error?.message ?? '' } },
        ['running'],
      );
      const backoffMs = Math.min((step.retry?.backoff_seconds ?? 1) * 1000 * 2 ** (n - done - 1), 60_000);
      await setTimeout(backoffMs, undefined, { signal });
    }
  }

  /**
   * Makes sure the step has finished: runs it (again) unless its record says it did, and commits the
   * outcome. Answers the finished record, or undefined when the run was cancelled meanwhile.
   */
  async function finish(
    run: WorkflowRun,
    step: StepBlock,
    record: RunStep,
    signal: AbortSignal,
  ): Promise<RunStep | undefined> {
    if (record.status === 'succeeded' || record.status === 'failed') return record;
    const { organizationId, id: runId } = run;
    if (run.status === 'queued')
      await store.workflowRuns.update(organizationId, runId, { status: 'running', startedAt: now() }, [
        'queued',
      ]);
    const result = await attempts(run, step, record.attempts, signal);
    if (!result) return undefined;
    await store.workflowRuns.updateStep(
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
    );
    deps.faults('step-committed');
    return store.workflowRuns.getStep(organizationId, runId, step.id);
  }

  /**
   * One job: its step, then the run's next steps as long as they are due now, the worker is not stopping
   * and the job has run for less than INLINE_BUDGET_MS; what is left goes to the next step's job. Each
   * step's record is committed before the next begins, so a job that runs again after a crash picks the
   * run up at its first unfinished step whichever step it was enqueued for.
   */
  async function work(job: WorkflowStepJob, context: JobContext): Promise<void> {
    const { organizationId, runId } = job;
    let run = await store.workflowRuns.get(organizationId, runId);
    if (!run || FINISHED_RUN.has(run.status)) return; // cancelled, or finished by an earlier attempt
    const version = await store.workflows.getVersion(organizationId, run.versionId);
    const budgetEnds = clock.now() + INLINE_BUDGET_MS;
    let stepId = job.stepId;
    let record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    if (!record && version) {
      // enqueued, and the process died (or is still busy) before recording it
      const plan = await planOf(run, version);
      if (plan.step?.id !== stepId) return; // not this run's next step: a stale job
      await recordPlan(run, plan);
      record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    }
    for (;;) {
      const step = version && findStep(version.blocks, stepId);
      if (!version || !step || !record) {
        await failRun(run, stepId, {
          category: 'internal',
          message: `step "${stepId}" is not in version ${run.versionNumber}`,
        });
        return;
      }
      const finished = await finish(run, step, record, context.signal);
      if (!finished) return; // cancelled meanwhile
      if (finished.status === 'failed' && !step.on_error) {
        await failRun(run, stepId, finished.error ?? { category: 'internal', message: 'The step failed' });
        return;
      }
      const current = await store.workflowRuns.get(organizationId, runId);
      if (!current || FINISHED_RUN.has(current.status)) return;
      const here =
        !context.stopping.aborted && !context.signal.aborted && clock.now() < budgetEnds
          ? await advance(current, version, true)
          : await advance(current, version);
      if (!here) return;
      // read after the record was written: a cancel either sees that record or is seen here
      const latest = await store.workflowRuns.get(organizationId, runId);
      if (!latest || FINISHED_RUN.has(latest.status)) return;
      run = latest;
      stepId = here.id;
      record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    }
  }

  /**
   * Starts a run pinned to this version with the trigger's data (a webhook or event has no key);
   * `parentRunId` when a step of that run started it.
   */
  async function startVersion(
    version: WorkflowVersion,
    input: Record<string, unknown>,
    callerKeyId: string | null,
    parentRunId: string | null = null,
  ): Promise<WorkflowRun> {
    const run = queuedRun(deps.crypto.newId(), version, input, callerKeyId, now(), parentRunId);
    await store.workflowRuns.insert(run);
    deps.faults('run-saved');
    try {
      await advance(run, version);
    } catch (error) {
      // not left queued with no job behind it: the caller sees the error and may start it again
      await failRun(run, null, { category: 'internal', message: 'The run could not be queued' }).catch(
        () => undefined,
      );
      throw error;
    }
    return (await store.workflowRuns.get(run.organizationId, run.id)) ?? run;
  }

  return {
    /**
     * Starts a run of the workflow's active version with the trigger's data; answers it queued. With an
     * Idempotency-Key, the same key and input answer the first run again and start nothing (G07).
     */
    async start(
      principal: Principal,
      workflowId: string,
      input: Record<string, unknown>,
      idempotencyKey?: string,
    ): Promise<WorkflowRun> {
      const begin = async () => {
        const version = await store.workflows.active(principal.organizationId, workflowId);
        if (!version) throw notFound('Workflow');
        if (!constraintsPass(version, input))
          throw new AppError(
            'UNPROCESSABLE',
            'No run started: the trigger constraints are not met by the input',
          );
        return startVersion(version, input, principal.keyId);
      };
      if (idempotencyKey === undefined) return begin();
      return idempotency.run(
        principal.organizationId,
        `workflow-run:${workflowId}`,
        idempotencyKey,
        input,
        10_000,
        begin,
      );
    },

    startVersion,

    /** Advances a saved run that may have no job yet (idempotent: jobs and records are keyed). */
    async resume(organizationId: string, runId: string): Promise<void> {
      const run = await store.workflowRuns.get(organizationId, runId);
      if (!run || FINISHED_RUN.has(run.status)) return;
      const version = await store.workflows.getVersion(organizationId, run.versionId);
      if (version) await advance(run, version);
    },

    /**
     * Sends on the runs whose first job was never enqueued (their process died between saving and
     * enqueueing), once they are older than `graceMs`. The server and workers call it every minute.
     */
    async sweep(graceMs = SWEEP_GRACE_MS): Promise<number> {
      const before = new Date(clock.now() - graceMs).toISOString();
      const runs = await store.workflowRuns.unstarted(before, 100);
      for (const run of runs) {
        const version = await store.workflows.getVersion(run.organizationId, run.versionId);
        if (version) await advance(run, version);
      }
      if (runs.length > 0)
        deps.logger.warn({ runs: runs.length }, 'workflow runs saved without a job sent on');
      return runs.length;
    },

    async get(organizationId: string, id: string): Promise<RunWithSteps> {
      const run = await store.workflowRuns.get(organizationId, id);
      if (!run) throw notFound('Run');
      return { run, steps: await store.workflowRuns.steps(organizationId, id) };
    },

    async list(organizationId: string, workflowId: string, page: PageRequest): Promise<Page<WorkflowRun>> {
      return store.workflowRuns.list(organizationId, workflowId, page);
    },

    /** Stops a run: no further step starts; a step already running finishes and is recorded. */
    async cancel(organizationId: string, id: string): Promise<RunWithSteps> {
      const run = await store.workflowRuns.get(organizationId, id);
      if (!run) throw notFound('Run');
      const at = now();
      if (
        !(await store.workflowRuns.update(organizationId, id, { status: 'cancelled', finishedAt: at }, [
          'queued',
          'running',
        ]))
      )
        throw new AppError(
          'CONFLICT',
          `The run has already ${run.status === 'cancelled' ? 'been cancelled' : run.status}`,
        );
      for (const step of await store.workflowRuns.steps(organizationId, id)) {
        if (step.status === 'queued')
          await store.workflowRuns.updateStep(
            organizationId,
            id,
            step.stepId,
            { status: 'cancelled', finishedAt: at },
            ['queued'],
          );
      }
      return {
        run: (await store.workflowRuns.get(organizationId, id)) ?? run,
        steps: await store.workflowRuns.steps(organizationId, id),
      };
    },

    /** Starts working step jobs in this process (the server and `npm run worker` do). */
    work(concurrency = 4): void {
      queue.work<WorkflowStepJob>(WORKFLOW_STEP_JOB, (job, context) => work(job.payload, context), {
        concurrency,
      });
    },
  };
}
