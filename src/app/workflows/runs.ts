/**
 * Durable workflow runs on the Queue port. A run advances one step per job: the job of a step runs it,
 * commits its record (status, output, attempts), and only then enqueues the next step's job, keyed
 * `run:<run_id>:step:<step_id>` so that no step is ever enqueued twice. A job that runs again (its worker
 * died) finds the step finished and only advances, or finds it unfinished and runs it once more with the
 * same idempotency key, counting the attempt. Delays are a job's runAt, never a sleep.
 */
import { AppError, notFound } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Faults } from '../../core/ports/faults.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Queue } from '../../core/ports/queue.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Principal } from '../../core/tenancy.ts';
import {
  FINISHED_RUN,
  WORKFLOW_STEP_JOB,
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
import { createStepExecutors, runStep, type StepDeps } from './steps.ts';

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

function findStep(blocks: readonly Block[], id: string): StepBlock | undefined {
  for (const block of blocks) {
    if (block.$kind === 'Action') {
      if (block.id === id) return block;
    } else {
      const found = findStep(block.branches.then, id) ?? findStep(block.branches.else, id);
      if (found) return found;
    }
  }
  return undefined;
}

const scopeOf = (run: WorkflowRun, steps: readonly RunStep[]): RunScope => ({
  trigger: run.input,
  outputs: new Map(
    steps.filter((s) => s.status === 'succeeded' && s.type !== 'if-else').map((s) => [s.stepId, s.output]),
  ),
});

export function createRunService(deps: RunDeps) {
  const { store, queue, clock } = deps;
  const executors = createStepExecutors(deps);
  const now = () => new Date(clock.now()).toISOString();

  /**
   * Records the if-else decisions on the way to the next unfinished step, records that step queued and
   * enqueues its job; with no step left, the run has succeeded. Safe to repeat: records and jobs are
   * keyed by step id.
   */
  async function advance(run: WorkflowRun, version: WorkflowVersion): Promise<void> {
    const steps = await store.workflowRuns.steps(run.organizationId, run.id);
    const finished = new Set(steps.filter((s) => s.status === 'succeeded').map((s) => s.stepId));
    const { decisions, step } = nextStep(version.blocks, scopeOf(run, steps), finished);
    let position = steps.length;
    const at = now();
    for (const d of decisions) {
      await store.workflowRuns.insertStep({
        runId: run.id,
        organizationId: run.organizationId,
        stepId: d.block.id,
        position: position++,
        type: 'if-else',
        name: d.block.name ?? null,
        status: 'succeeded',
        input: { operatorName: d.block.inputs.condition.operatorName, left: d.left, right: d.right },
        output: { result: d.result, branch: d.result ? 'then' : 'else' },
        error: null,
        attempts: 1,
        executionId: null,
        startedAt: at,
        finishedAt: at,
      });
    }
    if (!step) {
      await store.workflowRuns.update(run.organizationId, run.id, { status: 'succeeded', finishedAt: at }, [
        'queued',
        'running',
      ]);
      return;
    }
    const existing = steps.find((s) => s.stepId === step.id);
    if (!existing) {
      await store.workflowRuns.insertStep({
        runId: run.id,
        organizationId: run.organizationId,
        stepId: step.id,
        position,
        type: step.type,
        name: step.name ?? null,
        status: 'queued',
        input: null,
        output: null,
        error: null,
        attempts: 0,
        executionId: null,
        startedAt: null,
        finishedAt: null,
      });
    }
    const seconds = step.type === 'delay' ? Number(step.input.seconds) : 0;
    const payload: WorkflowStepJob = { organizationId: run.organizationId, runId: run.id, stepId: step.id };
    await queue.enqueue(WORKFLOW_STEP_JOB, payload, {
      key: stepKey(run.id, step.id),
      organizationId: run.organizationId,
      ...(seconds > 0 ? { runAt: new Date(clock.now() + seconds * 1000) } : {}),
    });
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

  /** One job: one step of one run. */
  async function work(job: WorkflowStepJob, signal: AbortSignal): Promise<void> {
    const { organizationId, runId, stepId } = job;
    const run = await store.workflowRuns.get(organizationId, runId);
    if (!run || FINISHED_RUN.has(run.status)) return; // cancelled, or finished by an earlier attempt
    const version = await store.workflows.getVersion(organizationId, run.versionId);
    const step = version && findStep(version.blocks, stepId);
    if (!version || !step) {
      await failRun(run, stepId, {
        category: 'internal',
        message: `step "${stepId}" is not in version ${run.versionNumber}`,
      });
      return;
    }
    const record = await store.workflowRuns.getStep(organizationId, runId, stepId);
    if (record?.status !== 'succeeded') {
      if (run.status === 'queued')
        await store.workflowRuns.update(organizationId, runId, { status: 'running', startedAt: now() }, [
          'queued',
        ]);
      // counted and committed before the step runs, so an interrupted attempt shows in `attempts`
      const began = await store.workflowRuns.updateStep(
        organizationId,
        runId,
        stepId,
        { status: 'running', attempts: (record?.attempts ?? 0) + 1, startedAt: now(), finishedAt: null },
        ['queued', 'running'],
      );
      if (!began) return; // cancelled meanwhile
      deps.faults('step-started');
      const steps = await store.workflowRuns.steps(organizationId, runId);
      const result = await runStep(executors, {
        run,
        step,
        scope: scopeOf(run, steps),
        idempotencyKey: stepKey(runId, stepId),
        signal,
      });
      deps.faults('step-finished');
      await store.workflowRuns.updateStep(
        organizationId,
        runId,
        stepId,
        {
          status: result.status,
          input: result.input,
          output: result.output ?? null,
          error: result.error ? { stepId, ...result.error } : null,
          executionId: result.executionId ?? null,
          finishedAt: now(),
        },
        ['running'],
      );
      deps.faults('step-committed');
      if (result.status === 'failed') {
        await failRun(run, stepId, result.error ?? { category: 'internal', message: 'The step failed' });
        return;
      }
    }
    const current = await store.workflowRuns.get(organizationId, runId);
    if (!current || FINISHED_RUN.has(current.status)) return;
    await advance(current, version);
  }

  /** Starts a run pinned to this version with the trigger's data (a webhook or event has no key). */
  async function startVersion(
    version: WorkflowVersion,
    input: Record<string, unknown>,
    callerKeyId: string | null,
  ): Promise<WorkflowRun> {
    const run: WorkflowRun = {
      id: deps.crypto.newId(),
      organizationId: version.organizationId,
      workflowId: version.workflowId,
      versionId: version.id,
      versionNumber: version.versionNumber,
      status: 'queued',
      input,
      error: null,
      callerKeyId,
      createdAt: now(),
      startedAt: null,
      finishedAt: null,
    };
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
    /** Starts a run of the workflow's active version with the trigger's data; answers it queued. */
    async start(
      principal: Principal,
      workflowId: string,
      input: Record<string, unknown>,
    ): Promise<WorkflowRun> {
      const version = await store.workflows.active(principal.organizationId, workflowId);
      if (!version) throw notFound('Workflow');
      if (!constraintsPass(version.triggerConstraints, input))
        throw new AppError(
          'UNPROCESSABLE',
          'No run started: the trigger constraints are not met by the input',
        );
      return startVersion(version, input, principal.keyId);
    },

    startVersion,

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
      queue.work<WorkflowStepJob>(WORKFLOW_STEP_JOB, (job, context) => work(job.payload, context.signal), {
        concurrency,
      });
    },
  };
}
