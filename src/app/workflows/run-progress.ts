/**
 * How a run moves on between steps: the plan from its committed state, the records of the decisions on
 * the way and of its next step (each held by the job attempt that is to run it), the next step's job, and
 * the run's end. A step's result, the records of where the run goes from there and the run's end when
 * it ends commit in one transaction. Also each organization's slots: a run holds one from its admission
 * until it finishes, except while asleep in a delay; runs over the cap (RunDeps.runsPerOrganization)
 * wait `queued` and are admitted, oldest first, as slots free up.
 */
import type { Clock } from '../../core/ports/clock.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Queue } from '../../core/ports/queue.ts';
import type { Repositories } from '../../core/ports/store.ts';
import type { RunPatch, StepPatch } from '../../core/ports/workflow-store.ts';
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
import { planFrom, planRecords, settledRecord, type Plan } from './run-plan.ts';
import type { StepResult } from './steps.ts';

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

/** After a step's commit: go on to `next` in this job, hand the run to a new job, or stop. */
export type AfterCommit =
  | { go: 'next'; run: WorkflowRun; steps: RunStep[]; next: RunStep }
  | { go: 'handoff'; run: WorkflowRun; plan: Plan }
  | { go: 'stop' };

/**
 * Steps a job may run while committing the step before them (commitStep): steps with no effect outside
 * the run, whose result depends only on the run's committed state.
 */
export interface Settle {
  runs(step: StepBlock): boolean;
  run(step: StepBlock, steps: readonly RunStep[]): Promise<StepResult>;
}

/** Versions read by id: a version's blocks never change once saved, so runs read each once. */
const VERSION_CACHE_SIZE = 256;

/**
 * What a step's job is enqueued with: keyed per step, and followed up by a dead letter if it dies. Not
 * durably: a job lost to a crash of the database server leaves its run without a step record or with a
 * step held by a job gone from the queue, which the sweep finds and sends on.
 */
export const stepJobOptions = (run: WorkflowRun, key: string, runAt?: number) => ({
  key,
  organizationId: run.organizationId,
  deadLetter: WORKFLOW_STEP_DEAD_JOB,
  durable: false,
  ...(runAt === undefined ? {} : { runAt: new Date(runAt) }),
});

export function createRunProgress(deps: ProgressDeps) {
  const { store, queue, clock, logger } = deps;
  const cap = deps.runsPerOrganization;
  const now = () => new Date(clock.now()).toISOString();
  const versions = new Map<string, WorkflowVersion>();

  /** The version a run is pinned to (read once per process; only its blocks are used). */
  async function versionOf(run: WorkflowRun): Promise<WorkflowVersion | undefined> {
    const cached = versions.get(run.versionId);
    if (cached && cached.organizationId === run.organizationId) return cached;
    const version = await store.workflows.getVersion(run.organizationId, run.versionId);
    if (version) {
      if (versions.size >= VERSION_CACHE_SIZE) versions.delete(versions.keys().next().value as string);
      versions.set(version.id, version);
    }
    return version;
  }

  /** Where the run goes next from its committed state (if-else decisions on the way, the next step). */
  async function planOf(run: WorkflowRun, version: WorkflowVersion): Promise<Plan> {
    return planFrom(run, version, await store.workflowRuns.steps(run.organizationId, run.id));
  }

  /**
   * Records the plan's decisions and its next step (planRecords), each inserted once. Not durably: a
   * job that finds no record of its step records it itself, and what it decides is decided again.
   */
  async function recordPlan(
    run: WorkflowRun,
    plan: Plan,
    owner: StepOwner | null,
    wakeAt?: number,
  ): Promise<void> {
    await store.workflowRuns.insertSteps(planRecords(run, plan, owner, now(), wakeAt), false);
  }

  /**
   * Enqueues the job of the next unfinished step, then records the decisions on the way and that step
   * as queued, held by that job (a job that runs before the record exists records it itself); with no
   * step left, the run has succeeded. Safe to repeat: records and jobs are keyed by step id. Because the
   * job comes first, a run with no step record has no job either: that is what the sweep looks for.
   * `inline`: the job attempt that is to run the step itself, when it is due now: it gets the step back
   * recorded as queued and held by it, and nothing is enqueued. A delay puts the run to sleep. `plan`:
   * the run's plan when the caller has it (its steps are the run's committed ones).
   */
  async function advance(
    run: WorkflowRun,
    version: WorkflowVersion,
    inline?: StepOwner,
    plan?: Plan,
  ): Promise<StepBlock | undefined> {
    plan ??= await planOf(run, version);
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

  /**
   * Commits the result of `step`, which `owner` holds, and in the same transaction moves the run on as
   * far as no job has to be enqueued: the decisions on the way, the steps `settle` computes (steps with
   * no effect outside the run, run here rather than claimed and committed one by one, when `inline`),
   * and either the next step, recorded as queued and held by `owner` when `inline` and due now, or the
   * run's end (a step failed with no on_error, or none is left), its slot given to whoever waits. The
   * run is locked first, so a cancel either comes before (the next step is not recorded) or after (and
   * sees the record to cancel). `steps`: the run's committed steps, this one's claimed record among them.
   */
  async function commitStep(
    run: WorkflowRun,
    version: WorkflowVersion,
    steps: readonly RunStep[],
    step: StepBlock,
    result: StepResult,
    owner: StepOwner,
    inline: boolean,
    settle?: Settle,
  ): Promise<AfterCommit | undefined> {
    const { organizationId, id } = run;
    const at = now();
    const patch: StepPatch = {
      status: result.status,
      input: result.input,
      output: result.output ?? null,
      error: result.error ? { stepId: step.id, ...result.error } : null,
      executionId: result.executionId ?? null,
      finishedAt: at,
    };
    let done: RunStep[] = steps.map((s) => (s.stepId === step.id ? { ...s, ...patch } : s));
    let failed = result.status === 'failed' && !step.onError ? patch.error : undefined;
    let plan = failed ? undefined : planFrom(run, version, done);
    /** Records of decisions and settled steps, in the order the run reached them. */
    const settled: RunStep[] = [];
    for (let pure = plan?.step; inline && settle && plan && pure && settle.runs(pure); pure = plan?.step) {
      // one that throws is left to run as the next step, where its failure is handled as any step's
      const outcome = await settle.run(pure, done).catch(() => undefined);
      if (!outcome) break;
      const records = planRecords(run, plan, null, now()).slice(0, plan.decisions.length);
      records.push(settledRecord(run, pure, done.length + records.length, outcome, now()));
      settled.push(...records);
      done = [...done, ...records];
      const error = records.at(-1)?.error;
      failed = outcome.status === 'failed' && !pure.onError ? error : undefined;
      plan = failed ? undefined : planFrom(run, version, done);
    }
    const delayed = plan?.step?.type === 'delay' && Number(plan.step.input.seconds) > 0;
    const here = inline && plan?.step !== undefined && !delayed;
    const records = [
      ...settled,
      ...(plan && (here || !plan.step) ? planRecords(run, plan, owner, now()) : []),
    ];

    const outcome = await store.transaction(async (tx) => {
      const current = await tx.workflowRuns.lock(organizationId, id);
      const written = await tx.workflowRuns.finishStep(
        organizationId,
        id,
        step.id,
        patch,
        ['running'],
        owner,
      );
      const admitted: string[] = [];
      if (!written || !current || FINISHED_RUN.has(current.status)) return { written, current, admitted };
      const inserted = await tx.workflowRuns.insertSteps(records);
      if (!plan?.step) {
        const end: RunPatch = plan
          ? { status: 'succeeded', finishedAt: at }
          : {
              status: 'failed',
              error: failed ?? { stepId: step.id, category: 'internal', message: 'The step failed' },
              finishedAt: at,
            };
        await tx.workflowRuns.update(organizationId, id, end, ['queued', 'running']);
        admitted.push(...(await release(tx, current)));
        return { written, current: { ...current, ...end }, admitted };
      }
      // recorded already only if another attempt got past this step, which the fence rules out
      if (here && !inserted.has(plan.step.id)) throw new Error(`step "${plan.step.id}" was recorded twice`);
      return { written, current, admitted };
    });
    const { written, current } = outcome;
    if (!written) {
      logger.warn(
        { runId: id, stepId: step.id, jobId: owner.jobId, attempt: owner.attempt },
        'step result discarded: the step passed to another attempt while this one ran (its lease lapsed)',
      );
      return undefined;
    }
    await send(organizationId, outcome.admitted);
    if (!current || FINISHED_RUN.has(current.status) || !plan?.step) return { go: 'stop' };
    const committed = done.map((s) => (s.stepId === step.id ? written : s));
    if (!here) return { go: 'handoff', run: current, plan: planFrom(current, version, committed) };
    const next = records.at(-1) as RunStep;
    return { go: 'next', run: current, steps: [...committed, ...records.slice(settled.length)], next };
  }

  /** Sends admitted runs on to their first job; one that fails now is sent on by the sweep. */
  async function send(organizationId: string, runIds: readonly string[]): Promise<void> {
    for (const id of runIds) {
      try {
        const run = await store.workflowRuns.get(organizationId, id);
        if (!run || FINISHED_RUN.has(run.status)) continue;
        const version = await versionOf(run);
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

  return {
    versionOf,
    recordPlan,
    advance,
    commitStep,
    send,
    admit,
    sleep,
    wake,
    finishRun,
    failRun,
  };
}
