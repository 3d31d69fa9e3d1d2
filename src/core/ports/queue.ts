/**
 * Durable background jobs: post-call actions, workflow steps, schedules. At least once: a job whose
 * worker dies is run again once its lease lapses; handlers make their effects idempotent (each job has a
 * stable id and key to pass on as an Idempotency-Key). Embedded: a jobs table in SQLite worked in
 * process. At scale: pg-boss on PostgreSQL, any number of worker processes.
 */

export interface EnqueueOptions {
  /**
   * At most one job with this key per queue name, ever (within the retention of finished jobs): a second
   * enqueue with the key returns the first job's id with `created: false`. For exactly-once scheduling
   * (`schedule:<id>:<occurrence>`) and deduplicated events.
   */
  key?: string | undefined;
  /** Not before this time (a delay, a retry, a scheduled occurrence). */
  runAt?: Date | undefined;
  /** Attempts before the job is dead (default 4: the first and 3 retries; docs/security.md, "Limits"). */
  maxAttempts?: number | undefined;
  /** The tenant, so one organization's backlog cannot starve another's (best effort). */
  organizationId?: string | undefined;
  /**
   * When the job is dead (its last attempt failed, or its worker died or hung on it), a job of this name
   * is enqueued with the same payload and organization and `died` set, in the same transaction: a dead
   * job is always followed up, whichever process noticed its death.
   */
  deadLetter?: string | undefined;
  /**
   * False: the enqueue may return before the job is on disk, where that costs a wait (PostgreSQL), so a
   * crash of the database server just after can lose it. Only for jobs whose enqueuer finds them missing
   * and enqueues them again (the workflow sweep does for step jobs). Default true.
   */
  durable?: boolean | undefined;
}

/** On a dead-letter job: the job that died. */
export interface DeadJob {
  id: string;
  /** Attempts it had in all. */
  attempts: number;
  /** Its last attempt's error. */
  error: string | null;
  /** Its last attempt ended with its lease lapsing (the worker died, hung or was paused), not by failing. */
  leaseLost: boolean;
}

export interface Job<P = unknown> {
  id: string;
  name: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  key: string | null;
  organizationId: string | null;
  createdAt: string;
  /** Set on a job enqueued because another died (EnqueueOptions.deadLetter). */
  died?: DeadJob | undefined;
}

export interface JobContext {
  /** Aborted when the worker stops or the lease is lost: stop soon, the job will run again. */
  signal: AbortSignal;
  /**
   * Aborted when the worker begins a graceful stop: a handler that goes on to more work of its own accord
   * (a workflow job running the run's next steps) hands it over to new jobs instead. `signal` still says
   * when the job itself must stop.
   */
  stopping: AbortSignal;
}

/**
 * Runs one job. Resolving completes it; throwing fails this attempt, retried with exponential backoff
 * and full jitter (capped at 60 s) until maxAttempts, then the job is dead (kept, not retried).
 */
export type JobHandler<P = unknown> = (job: Job<P>, context: JobContext) => Promise<void>;

export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'dead';

export interface JobStatus {
  id: string;
  name: string;
  state: JobState;
  attempt: number;
  lastError: string | null;
  /** Present (true) when the last attempt ended with its lease lapsing (its worker died, hung or paused). */
  leaseLost?: true | undefined;
}

export interface WorkOptions {
  /** Jobs of this name run at once in this process. */
  concurrency?: number | undefined;
}

export interface Queue {
  enqueue<P>(name: string, payload: P, options?: EnqueueOptions): Promise<{ id: string; created: boolean }>;
  /** Starts working jobs of `name` in this process (call before start, or after). */
  work<P>(name: string, handler: JobHandler<P>, options?: WorkOptions): void;
  status(id: string): Promise<JobStatus | undefined>;
  /** The status of each of these jobs that exists, in no particular order (one query, for sweeps). */
  statuses(ids: readonly string[]): Promise<JobStatus[]>;
  start(): Promise<void>;
  /** Stops fetching, lets running handlers finish within the timeout (their leases lapse otherwise). */
  stop(timeoutMs?: number): Promise<void>;
}
