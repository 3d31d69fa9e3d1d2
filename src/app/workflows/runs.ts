/**
 * Durable workflow runs on the Queue port: starting a run (admitted at once, or queued behind the
 * organization's cap), reading and cancelling runs, and the workers' side: step jobs (step-job.ts), how a
 * run moves on (run-progress.ts), and how stranded runs are found and sent on or failed
 * (run-recovery.ts). Delays are a job's runAt, never a sleep.
 */
import { AppError, notFound } from '../../core/errors.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Principal } from '../../core/tenancy.ts';
import {
  FINISHED_RUN,
  WORKFLOW_STEP_DEAD_JOB,
  WORKFLOW_STEP_JOB,
  type RunStep,
  type WorkflowRun,
  type WorkflowStepJob,
} from '../../core/workflows/model.ts';
import { constraintsPass } from '../../core/workflows/json-logic.ts';
import type { Idempotency } from '../executions/idempotency.ts';
import { createRunProgress } from './run-progress.ts';
import { createRunRecovery, SWEEP_GRACE_MS } from './run-recovery.ts';
import { createRunStarter, type RunStarterDeps } from './run-starter.ts';
import { createStepJob } from './step-job.ts';
import { createStepExecutors, type StepDeps } from './steps.ts';

/** What starting a run needs, plus what working its steps needs. */
export interface RunDeps extends StepDeps, Omit<RunStarterDeps, 'progress'> {
  /** Keeps a start with an Idempotency-Key to one run. */
  idempotency: Idempotency;
}

export interface RunWithSteps {
  run: WorkflowRun;
  steps: RunStep[];
}

export type RunService = ReturnType<typeof createRunService>;

export function createRunService(deps: RunDeps) {
  const { store, queue, clock, idempotency } = deps;
  const now = () => new Date(clock.now()).toISOString();
  const progress = createRunProgress(deps);
  const recovery = createRunRecovery({ ...deps, progress });
  const stepJob = createStepJob({ ...deps, executors: createStepExecutors(deps), progress });

  const starter = createRunStarter({ ...deps, progress });

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
        return starter.startVersion(version, input, principal.keyId);
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

    startVersion: starter.startVersion.bind(starter),

    /**
     * Sends on a run saved by someone else (the scheduler) with no slot or job yet: admits its
     * organization's waiting runs as far as the cap allows (idempotent: jobs and records are keyed).
     */
    async resume(organizationId: string, runId: string): Promise<void> {
      const run = await store.workflowRuns.get(organizationId, runId);
      if (!run || FINISHED_RUN.has(run.status)) return;
      await progress.admit(organizationId);
    },

    /**
     * Sends on or fails the runs a process left stranded (run-recovery.ts), once they are older than
     * `graceMs`. The server and workers call it every half lease.
     */
    sweep: (graceMs = SWEEP_GRACE_MS) => recovery.sweep(graceMs),

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
      if (!(await progress.finishRun(run, { status: 'cancelled', finishedAt: at })))
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

    /** Starts working step jobs and their dead letters in this process (the server and `npm run worker` do). */
    work(concurrency = 4): void {
      queue.work<WorkflowStepJob>(WORKFLOW_STEP_JOB, stepJob, { concurrency });
      queue.work<WorkflowStepJob>(WORKFLOW_STEP_DEAD_JOB, recovery.dead);
    },
  };
}
