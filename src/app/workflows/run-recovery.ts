/**
 * No run is left `queued` or `running` for ever. Two ways in:
 * - A step job the queue gave up on (dead: its worker died, hung or was paused past its lease on every
 *   attempt, or its attempts failed) is followed by its dead letter, which fails the step it held and
 *   the run with an error saying so.
 * - The sweep, which every process that works the queue runs every half lease: it sends on runs saved or
 *   admitted whose first job was never enqueued (their process died in between), admits runs waiting for
 *   a slot that was freed by a process that died before admitting them, and walks through the unfinished
 *   runs (a page per sweep) checking that the job holding each is alive: a dead one fails the run as its
 *   dead letter would, a lost one (gone from the queue, or completed while the run still needed it) is
 *   replaced by a new job that the step is handed over to.
 */
import type { Clock } from '../../core/ports/clock.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { DeadJob, Job, JobState, Queue } from '../../core/ports/queue.ts';
import type { Store } from '../../core/ports/store.ts';
import {
  FINISHED_RUN,
  WORKFLOW_STEP_JOB,
  stepKey,
  type RunStep,
  type WorkflowRun,
  type WorkflowStepJob,
} from '../../core/workflows/model.ts';
import { stepJobOptions, type RunProgress } from './run-progress.ts';

export interface RecoveryDeps {
  store: Pick<Store, 'workflows' | 'workflowRuns'>;
  queue: Queue;
  clock: Clock;
  logger: Logger;
  progress: RunProgress;
}

/** How old a run must be before the sweep takes it for stranded. */
export const SWEEP_GRACE_MS = 30_000;
/** Runs whose jobs one sweep checks; the next sweep goes on after the last of them. */
export const SWEEP_PAGE = 100;

/** Job states in which a job will still run (a failed attempt waits out its backoff). */
const LIVE: ReadonlySet<JobState> = new Set(['queued', 'running', 'failed']);

/** What a dead step job leaves on its step and run. */
export function deadStepError(died: Omit<DeadJob, 'id'>): { category: string; message: string } {
  if (died.leaseLost)
    return {
      category: 'worker_died',
      message: `The step's worker died ${died.attempts} times (its process crashed, was killed, or hung or paused past its lease on every attempt), so the step is not tried again`,
    };
  return {
    category: 'internal',
    message: `The step's job failed ${died.attempts} times and is not tried again${died.error ? `: ${died.error}` : ''}`,
  };
}

/**
 * The step record a run's progress hangs on: its first unfinished step, else its last step, among those
 * a job holds. Undefined for a run with none (waiting for its first job, or recorded before owners were).
 */
function holderOf(steps: readonly RunStep[]): RunStep | undefined {
  return steps.find((s) => s.status === 'queued' || s.status === 'running') ?? steps.at(-1);
}

export function createRunRecovery(deps: RecoveryDeps) {
  const { store, queue, clock, logger, progress } = deps;
  const iso = (at: number) => new Date(at).toISOString();
  /** Where the walk through unfinished runs goes on from ('' to start over). */
  let cursor = '';

  /**
   * Fails the run whose progress hung on job `jobId`, which is dead: the unfinished steps it held (or that
   * no job holds) and the run itself. Nothing when another job holds the run by now.
   */
  async function failHeld(run: WorkflowRun, jobId: string, error: { category: string; message: string }) {
    const steps = await store.workflowRuns.steps(run.organizationId, run.id);
    const unfinished = steps.filter((s) => s.status === 'queued' || s.status === 'running');
    if (unfinished.some((s) => s.owner && s.owner.jobId !== jobId)) return false;
    const at = iso(clock.now());
    for (const step of unfinished)
      await store.workflowRuns.updateStep(
        run.organizationId,
        run.id,
        step.stepId,
        { status: 'failed', error: { stepId: step.stepId, ...error }, finishedAt: at },
        ['queued', 'running'],
      );
    const stepId = unfinished[0]?.stepId ?? null;
    const failed = await progress.failRun(run, stepId, error);
    if (failed)
      logger.warn({ runId: run.id, jobId, stepId, ...error }, 'workflow run failed: its job is dead');
    return failed;
  }

  /** A step job's dead letter: fails what the dead job held. */
  async function dead(job: Job<WorkflowStepJob>): Promise<void> {
    const { organizationId, runId } = job.payload;
    const run = await store.workflowRuns.get(organizationId, runId);
    if (!run || FINISHED_RUN.has(run.status) || !job.died) return;
    await failHeld(run, job.died.id, deadStepError(job.died));
  }

  /**
   * Replaces the lost job `lost` that `holder` hangs on: its step (or, when the holder has finished, the
   * run's next one) gets a new job, keyed by the lost one so that replacing it twice enqueues once.
   */
  async function replace(run: WorkflowRun, holder: RunStep, lost: string): Promise<void> {
    if (holder.status === 'succeeded' || holder.status === 'failed') {
      const version = await store.workflows.getVersion(run.organizationId, run.versionId);
      if (version) await progress.advance(run, version);
      return;
    }
    const wake = (holder.input as { wake_at?: unknown } | null)?.wake_at;
    const wakeAt = typeof wake === 'string' ? Date.parse(wake) : Number.NaN;
    const payload: WorkflowStepJob = {
      organizationId: run.organizationId,
      runId: run.id,
      stepId: holder.stepId,
    };
    const key = `${stepKey(run.id, holder.stepId)}:after:${lost}`;
    const job = await queue.enqueue(
      WORKFLOW_STEP_JOB,
      payload,
      stepJobOptions(run, key, Number.isNaN(wakeAt) ? undefined : wakeAt),
    );
    await store.workflowRuns.handOver(run.organizationId, run.id, holder.stepId, lost, {
      jobId: job.id,
      attempt: 0,
    });
  }

  /**
   * One page of the walk through unfinished runs: each one's holding job must be alive. A run that has
   * just started is no exception: a step is recorded only once its job exists.
   */
  async function checkHolders(): Promise<number> {
    const runs = await store.workflowRuns.unfinished(cursor, SWEEP_PAGE);
    cursor = runs.length < SWEEP_PAGE ? '' : (runs.at(-1)?.id ?? '');
    const held = await store.workflowRuns.heldSteps(runs.map((r) => r.id));
    const holders = new Map<string, RunStep>();
    for (const run of runs) {
      const holder = holderOf(held.filter((s) => s.runId === run.id));
      if (holder) holders.set(run.id, holder);
    }
    const jobIds = [...new Set([...holders.values()].map((s) => s.owner?.jobId ?? ''))];
    const statuses = new Map((await queue.statuses(jobIds)).map((s) => [s.id, s]));
    let acted = 0;
    for (const run of runs) {
      const holder = holders.get(run.id);
      const jobId = holder?.owner?.jobId;
      if (!holder || !jobId) continue;
      const status = statuses.get(jobId);
      if (status && LIVE.has(status.state)) continue;
      // read again: the job may have moved the run on, or finished it, since the page was read
      const fresh = holderOf(await store.workflowRuns.heldSteps([run.id]));
      const current = await store.workflowRuns.get(run.organizationId, run.id);
      if (!current || FINISHED_RUN.has(current.status) || fresh?.stepId !== holder.stepId) continue;
      if (fresh.owner?.jobId !== jobId || fresh.status !== holder.status) continue;
      acted++;
      if (status?.state === 'dead') {
        const died = {
          attempts: status.attempt,
          error: status.lastError,
          leaseLost: status.leaseLost === true,
        };
        await failHeld(current, jobId, deadStepError(died));
      } else {
        logger.warn(
          { runId: run.id, stepId: holder.stepId, jobId, state: status?.state ?? 'gone' },
          'workflow run lost its job; a new one takes its step over',
        );
        await replace(current, fresh, jobId);
      }
    }
    return acted;
  }

  /**
   * Sends on or fails the runs a process that died left stranded (see the header), those saved or
   * admitted with no job only once they are older than `graceMs`; answers how many it acted on. The
   * server and workers call it every half lease.
   */
  async function sweep(graceMs = SWEEP_GRACE_MS): Promise<number> {
    const before = iso(clock.now() - graceMs);
    const unstarted = await store.workflowRuns.unstarted(before, SWEEP_PAGE);
    for (const run of unstarted) await progress.send(run.organizationId, [run.id]);
    if (unstarted.length > 0)
      logger.warn({ runs: unstarted.length }, 'workflow runs saved without a job sent on');
    let admitted = 0;
    // a freed slot whose admission was lost (its process died): nothing else would admit the next run
    for (const organizationId of await store.workflowRuns.waitingOrganizations(SWEEP_PAGE))
      admitted += await progress.admit(organizationId);
    return unstarted.length + admitted + (await checkHolders());
  }

  return { dead, sweep };
}
