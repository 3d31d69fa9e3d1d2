/**
 * Persistence of workflows and their runs (part of the Store port; kept apart so store.ts stays short).
 * Every method takes the organization id; another organization's record answers like a missing one.
 */
import type { Page, PageRequest } from '../pagination.ts';
import type {
  RunError,
  RunStatus,
  RunStep,
  StepOwner,
  StepStatus,
  WorkflowRun,
  WorkflowVersion,
} from '../workflows/model.ts';
import type { WorkflowSchedule } from '../workflows/schedule.ts';

export interface WorkflowRepository {
  /**
   * Inserts a version and makes it the only active one of its workflow. A version number taken by a
   * concurrent save violates the (workflow_id, version_number) unique key: the caller answers 409.
   */
  insertVersion(version: WorkflowVersion): Promise<void>;
  /** The active version of a live workflow. */
  active(organizationId: string, workflowId: string): Promise<WorkflowVersion | undefined>;
  /** Any version by its id, archived or deleted included: a run finishes on the version it started on. */
  getVersion(organizationId: string, versionId: string): Promise<WorkflowVersion | undefined>;
  /** Active versions of live workflows, newest version first. */
  list(organizationId: string, page: PageRequest): Promise<Page<WorkflowVersion>>;
  /** The active webhook-triggered version holding this token, in any organization (the token says which). */
  byWebhookToken(token: string): Promise<WorkflowVersion | undefined>;
  /** Active versions of live workflows of this trigger type (at most 100), for events. */
  activeByTrigger(organizationId: string, triggerType: string): Promise<WorkflowVersion[]>;
  /** Soft delete: no version is active any more, and the versions stay for the runs that use them. */
  delete(organizationId: string, workflowId: string, at: string): Promise<boolean>;
}

/** Which action an ai-trigger workflow is offered to agents as (app/workflows/trigger-kinds/ai.ts). */
export interface WorkflowToolRepository {
  /** The id of the workflow's tool, if it has one. */
  get(organizationId: string, workflowId: string): Promise<string | undefined>;
  put(organizationId: string, workflowId: string, actionId: string): Promise<void>;
  delete(organizationId: string, workflowId: string): Promise<void>;
}

/** The schedule of a cron-trigger workflow (app/workflows/trigger-kinds/cron.ts, scheduler.ts). */
export interface WorkflowScheduleRepository {
  get(organizationId: string, workflowId: string): Promise<WorkflowSchedule | undefined>;
  /** Inserts or replaces the workflow's schedule. */
  put(schedule: WorkflowSchedule): Promise<void>;
  delete(organizationId: string, workflowId: string): Promise<void>;
  /** Schedules of any organization whose `next_at` is at or before `at`, earliest first. */
  due(at: string, limit: number): Promise<WorkflowSchedule[]>;
  /**
   * Moves `next_at` from `from` to `to` if the schedule is still at `from` on `versionId`: true for the one
   * caller that moved it (the claim of the occurrences between), false for every other.
   */
  claim(workflowId: string, versionId: string, from: string, to: string): Promise<boolean>;
}

export interface RunPatch {
  status?: RunStatus;
  error?: RunError | null;
  startedAt?: string;
  finishedAt?: string;
}

export interface StepPatch {
  status?: StepStatus;
  input?: unknown;
  output?: unknown;
  error?: RunError | null;
  attempts?: number;
  executionId?: string | null;
  startedAt?: string;
  finishedAt?: string | null;
}

export interface WorkflowRunRepository {
  insert(run: WorkflowRun): Promise<void>;
  get(organizationId: string, id: string): Promise<WorkflowRun | undefined>;
  /**
   * The run, read inside a transaction and held until it ends: a concurrent update of the run (a cancel)
   * waits for this transaction, and then sees what it wrote.
   */
  lock(organizationId: string, id: string): Promise<WorkflowRun | undefined>;
  list(organizationId: string, workflowId: string, page: PageRequest): Promise<Page<WorkflowRun>>;
  /** Applies the patch if the run's status is one of `from`; false otherwise (a fence against races). */
  update(organizationId: string, id: string, patch: RunPatch, from: readonly RunStatus[]): Promise<boolean>;
  /** Inserts the step record unless it exists (a step is recorded once per run); true when inserted. */
  insertStep(step: RunStep): Promise<boolean>;
  /**
   * insertStep for several records in one statement; answers the ids of those inserted. Not `durable`:
   * its commit may return before it is on disk, for records whose loss to a crash of the database server
   * is repaired by the job or the sweep (the job of a step records it when it finds no record).
   */
  insertSteps(steps: readonly RunStep[], durable?: boolean): Promise<Set<string>>;
  getStep(organizationId: string, runId: string, stepId: string): Promise<RunStep | undefined>;
  /**
   * Begins an attempt of an unfinished step for `owner` if the step is free for it: held by no job, or by
   * an attempt of owner's job no later than owner's. The step is then owner's, and writes of earlier
   * attempts are refused. False when the step is finished or cancelled, or another job's or attempt's.
   * Its commit may return before it is on disk (the step's result, committed durably after it, puts it
   * there): a crash of the database server in between loses at most the count of that attempt.
   */
  claimStep(
    organizationId: string,
    runId: string,
    stepId: string,
    owner: StepOwner,
    patch: StepPatch,
  ): Promise<boolean>;
  /**
   * Applies the patch if the step's status is one of `from` and, given `owner`, the step is still that
   * attempt's (the fence of a step's commit); false otherwise.
   */
  updateStep(
    organizationId: string,
    runId: string,
    stepId: string,
    patch: StepPatch,
    from: readonly StepStatus[],
    owner?: StepOwner,
  ): Promise<boolean>;
  /**
   * updateStep fenced to `owner`, answering the step as written: undefined when the step is not in one
   * of `from` or no longer owner's (nothing written).
   */
  finishStep(
    organizationId: string,
    runId: string,
    stepId: string,
    patch: StepPatch,
    from: readonly StepStatus[],
    owner: StepOwner,
  ): Promise<RunStep | undefined>;
  /** Gives an unfinished step held by job `from`, which is lost, to `to`; false if it is no longer `from`'s. */
  handOver(
    organizationId: string,
    runId: string,
    stepId: string,
    from: string,
    to: StepOwner,
  ): Promise<boolean>;
  /** In the order the run reached them. */
  steps(organizationId: string, runId: string): Promise<RunStep[]>;
  /**
   * Runs of any organization still `queued`, saved before `before`, given a slot and with no step recorded
   * (so with no job: the process that saved or admitted them died first); oldest first.
   */
  unstarted(before: string, limit: number): Promise<WorkflowRun[]>;
  /** Organizations with runs waiting for a slot (queued, not yet admitted), at most `limit`. */
  waitingOrganizations(limit: number): Promise<string[]>;
  /** Runs of any organization not finished, the first `limit` after `after` in id order. */
  unfinished(after: string, limit: number): Promise<WorkflowRun[]>;
  /** The steps of these runs (of any organization) that a job holds, in each run's order. */
  heldSteps(runIds: readonly string[]): Promise<RunStep[]>;
}

/**
 * Each organization's slots for running workflow runs (its concurrency cap): a run holds one from its
 * admission until it finishes, except while asleep in a delay.
 */
export interface WorkflowRunSlotRepository {
  /**
   * Gives the organization's oldest runs waiting for a slot (queued and not yet admitted) the slots free
   * under `cap` (0: no cap), at most ADMIT_BATCH at once, admitted `at`; answers their ids. Serialized
   * per organization across processes: call it inside a transaction.
   */
  admit(organizationId: string, cap: number, at: string): Promise<string[]>;
  /** The run no longer holds a slot (it finished, or sleeps in a delay). */
  release(organizationId: string, runId: string): Promise<void>;
  /** The run holds a slot again (it woke from a delay), whatever the cap. */
  occupy(organizationId: string, runId: string): Promise<void>;
}
