/**
 * The worker side shared by both Queue adapters: per job name a claim loop with `concurrency` slots,
 * adaptive polling (at once while there is work, backing off to `maxPollMs` when idle, woken at once by
 * an enqueue or a scheduled retry in this process), a heartbeat that extends the leases of running jobs,
 * a deadline per attempt, retries with exponential backoff and full jitter, and a graceful stop.
 *
 * What a claim, a heartbeat and a settle mean in storage is the backend's (embedded SQLite or pg-boss).
 * Every settle is fenced by the backend to the attempt that was claimed: it reports false, and changes
 * nothing, when the lease has passed to another worker meanwhile.
 */
import { systemClock, type Clock } from '../../core/ports/clock.ts';
import { silentLogger, type Logger } from '../../core/ports/logger.ts';
import type { EnqueueOptions, Job, JobHandler, WorkOptions } from '../../core/ports/queue.ts';

/** Timings shared by both adapters. Defaults follow docs/security.md, "Limits". */
export interface QueueTimingOptions {
  /** How long a claim lasts without a heartbeat (default 30 s). */
  leaseMs?: number | undefined;
  /**
   * How often a running job's lease is extended (default 10 s). 0 turns heartbeats off: the lease is then
   * a hard limit on each attempt.
   */
  heartbeatMs?: number | undefined;
  /**
   * With heartbeats, the longest one attempt may run (default 15 min). Past it (or past the lease without
   * heartbeats) the handler's signal is aborted, its lease is no longer extended, and the job runs again
   * once the lease lapses.
   */
  timeoutMs?: number | undefined;
  /** Retry backoff: a delay drawn uniformly from [0, min(retryMaxMs, retryBaseMs × 2^(attempt−1))). */
  retryBaseMs?: number | undefined;
  /** The backoff cap (default 60 s). */
  retryMaxMs?: number | undefined;
  /** The shortest wait between polls of an idle job name (default 50 ms); it doubles up to maxPollMs. */
  pollMs?: number | undefined;
  /** The longest wait between polls of an idle job name (default 1 s). */
  maxPollMs?: number | undefined;
  /** Attempts for jobs enqueued without maxAttempts (default 4: the first and 3 retries). */
  defaultMaxAttempts?: number | undefined;
  /** How long completed and dead jobs are kept, and so how long a key stays taken (default 7 days). */
  retentionMs?: number | undefined;
  /**
   * Errors that say the job's own store or network is down rather than the job failing (the container
   * passes the store's "unavailable" test): such a failure is retried within TRANSIENT_MAX_MS without
   * using up an attempt, so an outage of any length loses no job (docs/security.md H05).
   */
  transient?: ((error: unknown) => boolean) | undefined;
  /** Uniform random numbers in [0, 1) for the backoff jitter; tests fix it. */
  random?: (() => number) | undefined;
  /** The time the embedded queue writes and compares in its table (pg-boss uses the database's clock). */
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

export interface QueueTimings {
  leaseMs: number;
  heartbeatMs: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  pollMs: number;
  maxPollMs: number;
  defaultMaxAttempts: number;
  retentionMs: number;
  random: () => number;
  transient: (error: unknown) => boolean;
  clock: Clock;
  logger: Logger;
}

const positive = (name: string, value: number | undefined, fallback: number, min = 1): number => {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`Queue option ${name} must be a number ≥ ${min}`);
  return v;
};

export function resolveTimings(options: QueueTimingOptions): QueueTimings {
  const leaseMs = positive('leaseMs', options.leaseMs, 30_000, 10);
  const heartbeatMs = positive('heartbeatMs', options.heartbeatMs, 10_000, 0);
  if (heartbeatMs > 0 && heartbeatMs >= leaseMs)
    throw new RangeError('Queue option heartbeatMs must be shorter than leaseMs (or 0 for no heartbeat)');
  const pollMs = positive('pollMs', options.pollMs, 50);
  const defaultMaxAttempts = positive('defaultMaxAttempts', options.defaultMaxAttempts, 4);
  if (!Number.isInteger(defaultMaxAttempts))
    throw new RangeError('Queue option defaultMaxAttempts must be an integer');
  return {
    leaseMs,
    heartbeatMs,
    timeoutMs: positive('timeoutMs', options.timeoutMs, 15 * 60_000, 10),
    retryBaseMs: positive('retryBaseMs', options.retryBaseMs, 1_000, 0),
    retryMaxMs: positive('retryMaxMs', options.retryMaxMs, 60_000, 0),
    pollMs,
    maxPollMs: Math.max(pollMs, positive('maxPollMs', options.maxPollMs, 1_000)),
    defaultMaxAttempts,
    retentionMs: positive('retentionMs', options.retentionMs, 7 * 24 * 3600_000),
    random: options.random ?? Math.random,
    transient: options.transient ?? (() => false),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  };
}

/** Exponential backoff with full jitter (AWS): uniform in [0, min(max, base × 2^(attempt−1))). */
export function retryDelayMs(attempt: number, timings: QueueTimings): number {
  const ceiling = Math.min(
    timings.retryMaxMs,
    timings.retryBaseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)),
  );
  return Math.floor(timings.random() * ceiling);
}

/** The longest pause before a job that failed for an outage tries again: recovery within seconds. */
export const TRANSIENT_MAX_MS = 5_000;

/** After a transient failure: half a second, doubling, capped at TRANSIENT_MAX_MS, with half jitter. */
export function transientDelayMs(attempt: number, timings: QueueTimings): number {
  const ceiling = Math.min(TRANSIENT_MAX_MS, 500 * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.floor(ceiling / 2 + timings.random() * (ceiling / 2));
}

/** Job names are shared with pg-boss, which allows these characters only; both adapters enforce them. */
const NAME = /^[\w.\-/]{1,200}$/;

export interface CheckedEnqueue {
  key: string | null;
  runAt: Date | null;
  maxAttempts: number;
  organizationId: string | null;
  deadLetter: string | null;
}

/** Validates enqueue arguments the same way in both adapters. */
export function checkEnqueue(name: string, options: EnqueueOptions, timings: QueueTimings): CheckedEnqueue {
  checkName(name);
  const { key, runAt, maxAttempts = timings.defaultMaxAttempts, organizationId, deadLetter } = options;
  if (key != null && (typeof key !== 'string' || key.length === 0 || key.length > 1_000))
    throw new TypeError('Job key must be a non-empty string of at most 1000 characters');
  if (runAt != null && (!(runAt instanceof Date) || Number.isNaN(runAt.getTime())))
    throw new TypeError('Job runAt must be a valid Date');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1_000)
    throw new RangeError('Job maxAttempts must be an integer from 1 to 1000');
  if (organizationId != null && (typeof organizationId !== 'string' || organizationId.length === 0))
    throw new TypeError('Job organizationId must be a non-empty string');
  if (deadLetter != null) {
    checkName(deadLetter);
    if (deadLetter === name) throw new TypeError('A job cannot be its own dead letter');
  }
  return {
    key: key ?? null,
    runAt: runAt ?? null,
    maxAttempts,
    organizationId: organizationId ?? null,
    deadLetter: deadLetter ?? null,
  };
}

export function checkName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new TypeError(`Job name ${JSON.stringify(name)} must be 1–200 of [A-Za-z0-9_.-/]`);
}

/** Messages stored for a failed attempt are capped. */
export const errorMessage = (error: unknown): string =>
  (error instanceof Error ? error.message || error.name : String(error)).slice(0, 2_000);

/** What a backend hands out for one claimed attempt; the rest (its fencing token) is the backend's. */
export interface Claim {
  readonly job: Job<unknown>;
}

export interface QueueBackend<C extends Claim> {
  /**
   * Claims up to `limit` due jobs of `name`, each leased to this worker. `running` counts this worker's
   * running jobs of that name per organization ('' for none), for the backend's fairness.
   */
  claim(name: string, limit: number, running: ReadonlyMap<string, number>): Promise<C[]>;
  /** Extends the leases; returns the claims still held (the others were lost to an expiry). */
  heartbeat(name: string, claims: readonly C[]): Promise<ReadonlySet<C>>;
  /** Fenced: false when this attempt no longer holds the job. */
  complete(claim: C): Promise<boolean>;
  /** Fenced. Schedules the retry `retryInMs` from now, or marks the job dead at its last attempt. */
  fail(claim: C, error: string, retryInMs: number): Promise<boolean>;
  /**
   * Fenced. Gives a job back without bringing it nearer to dead (at stop, or after a transient failure):
   * it runs again in `retryInMs`; its attempt number still grows, and it is allowed one attempt more.
   */
  release(claim: C, reason: string, retryInMs: number): Promise<boolean>;
  /** Periodic housekeeping while started, every `maintenanceMs`. */
  maintain?(): Promise<void>;
  readonly maintenanceMs?: number;
  /** After stop(): release what the backend holds (connections). */
  close?(): Promise<void>;
}

interface Running<C extends Claim> {
  claim: C;
  controller: AbortController;
  /** The deadline passed or a heartbeat found the lease gone: no more heartbeats for it. */
  lost: boolean;
  /** Given back by stop(): its outcome is discarded. */
  released: boolean;
  /** The handler has returned; its outcome is being recorded. */
  finishing: boolean;
  settled: Promise<void>;
}

interface Worker<C extends Claim> {
  name: string;
  handler: JobHandler<unknown>;
  concurrency: number;
  running: Map<string, Running<C>>;
  /** Running jobs per organization ('' for none). */
  organizations: Map<string, number>;
  timer: ReturnType<typeof setTimeout> | undefined;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  beating: boolean;
  idleMs: number;
  polling: Promise<void> | undefined;
  again: boolean;
}

type State = 'created' | 'started' | 'stopping' | 'stopped';

export class JobRunner<C extends Claim> {
  readonly #backend: QueueBackend<C>;
  readonly #t: QueueTimings;
  readonly #workers = new Map<string, Worker<C>>();
  readonly #wakeTimers = new Set<ReturnType<typeof setTimeout>>();
  #state: State = 'created';
  /** Aborted when stop() begins (JobContext.stopping). */
  readonly #stopping = new AbortController();
  #maintenance: ReturnType<typeof setInterval> | undefined;
  #maintaining = false;
  #stopped: Promise<void> | undefined;

  constructor(backend: QueueBackend<C>, timings: QueueTimings) {
    this.#backend = backend;
    this.#t = timings;
  }

  get started(): boolean {
    return this.#state === 'started';
  }

  work(name: string, handler: JobHandler<unknown>, options: WorkOptions = {}): void {
    checkName(name);
    if (this.#state === 'stopping' || this.#state === 'stopped') throw new Error('The queue is stopped');
    if (this.#workers.has(name)) throw new Error(`Jobs named ${name} already have a handler`);
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError('WorkOptions.concurrency must be a positive integer');
    const worker: Worker<C> = {
      name,
      handler,
      concurrency,
      running: new Map(),
      organizations: new Map(),
      timer: undefined,
      heartbeat: undefined,
      beating: false,
      idleMs: this.#t.pollMs,
      polling: undefined,
      again: false,
    };
    this.#workers.set(name, worker);
    if (this.#state === 'started') this.#startWorker(worker);
  }

  start(): void {
    if (this.#state !== 'created') {
      if (this.#state === 'started') return;
      throw new Error('The queue is stopped; create a new one');
    }
    this.#state = 'started';
    for (const worker of this.#workers.values()) this.#startWorker(worker);
    const backend = this.#backend;
    if (backend.maintain) {
      const run = () => {
        if (this.#maintaining || this.#state !== 'started' || !backend.maintain) return;
        this.#maintaining = true;
        backend
          .maintain()
          .catch((error: unknown) =>
            this.#t.logger.warn({ err: errorMessage(error) }, 'queue maintenance failed; retrying'),
          )
          .finally(() => (this.#maintaining = false));
      };
      this.#maintenance = setInterval(run, this.#backend.maintenanceMs ?? 60_000);
      run();
    }
  }

  /** A job of `name` became due in this process: poll for it now (or in `delayMs`). */
  wake(name: string, delayMs = 0): void {
    const worker = this.#workers.get(name);
    if (!worker || this.#state === 'stopping' || this.#state === 'stopped') return;
    if (delayMs <= 0) {
      worker.idleMs = this.#t.pollMs;
      if (this.#state === 'started') void this.#poll(worker);
      return;
    }
    // a later wake-up only ever shortens an idle wait; the regular poll still runs meanwhile
    if (delayMs > this.#t.maxPollMs * 60) return;
    const timer = setTimeout(() => {
      this.#wakeTimers.delete(timer);
      this.wake(name);
    }, delayMs);
    timer.unref();
    this.#wakeTimers.add(timer);
  }

  stop(timeoutMs = 30_000): Promise<void> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const wasStarted = this.#state === 'started';
    this.#state = 'stopping';
    this.#stopping.abort(new Error('The worker is stopping'));
    clearInterval(this.#maintenance);
    for (const timer of this.#wakeTimers) clearTimeout(timer);
    this.#wakeTimers.clear();
    for (const worker of this.#workers.values()) clearTimeout(worker.timer);
    if (wasStarted) {
      // claims already on their way still start (and are waited for like the others)
      await Promise.allSettled([...this.#workers.values()].map((w) => w.polling ?? Promise.resolve()));
      const running = () => [...this.#workers.values()].flatMap((w) => [...w.running.values()]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
      const finished = await Promise.race([
        Promise.allSettled(running().map((r) => r.settled)).then(() => false as const),
        timedOut,
      ]);
      clearTimeout(timer);
      if (finished) {
        // past the timeout: abort the handlers and give their jobs back at once rather than leave them
        // "running" until their leases lapse (docs/security.md H15)
        await Promise.allSettled(
          running().map(async (r) => {
            r.released = true;
            r.lost = true;
            r.controller.abort(new Error('The worker is stopping'));
            try {
              await this.#backend.release(r.claim, 'The worker stopped before the job finished', 0);
            } catch (error) {
              this.#t.logger.warn(
                { jobId: r.claim.job.id, err: errorMessage(error) },
                'could not release a job at stop; it runs again when its lease lapses',
              );
            }
          }),
        );
      }
    }
    for (const worker of this.#workers.values()) clearInterval(worker.heartbeat);
    this.#state = 'stopped';
    await this.#backend.close?.();
  }

  #startWorker(worker: Worker<C>): void {
    if (this.#t.heartbeatMs > 0) {
      worker.heartbeat = setInterval(() => void this.#beat(worker), this.#t.heartbeatMs);
    }
    void this.#poll(worker);
  }

  #poll(worker: Worker<C>): Promise<void> {
    if (this.#state !== 'started') return Promise.resolve();
    if (worker.polling) {
      worker.again = true;
      return worker.polling;
    }
    clearTimeout(worker.timer);
    worker.timer = undefined;
    worker.polling = this.#pollOnce(worker).finally(() => {
      worker.polling = undefined;
      if (worker.again) {
        worker.again = false;
        void this.#poll(worker);
      }
    });
    return worker.polling;
  }

  async #pollOnce(worker: Worker<C>): Promise<void> {
    const free = worker.concurrency - worker.running.size;
    if (free <= 0) return; // a finishing job polls again
    let claimed: C[];
    try {
      claimed = await this.#backend.claim(worker.name, free, worker.organizations);
    } catch (error) {
      this.#t.logger.warn({ job: worker.name, err: errorMessage(error) }, 'claiming jobs failed; retrying');
      // back off with jitter while the store is unavailable (docs/security.md H05)
      worker.idleMs = Math.min(this.#t.maxPollMs * 5, worker.idleMs * 2);
      this.#schedule(worker, worker.idleMs / 2 + this.#t.random() * (worker.idleMs / 2));
      return;
    }
    for (const claim of claimed) this.#run(worker, claim);
    if (claimed.length > 0) worker.idleMs = this.#t.pollMs;
    // every slot taken: the next finishing job polls again
    if (claimed.length >= free) return;
    this.#schedule(worker, worker.idleMs);
    worker.idleMs = Math.min(this.#t.maxPollMs, worker.idleMs * 2);
  }

  #schedule(worker: Worker<C>, delayMs: number): void {
    if (this.#state !== 'started') return;
    clearTimeout(worker.timer);
    worker.timer = setTimeout(() => void this.#poll(worker), delayMs);
  }

  #run(worker: Worker<C>, claim: C): void {
    const { job } = claim;
    const organization = job.organizationId ?? '';
    const controller = new AbortController();
    const running: Running<C> = {
      claim,
      controller,
      lost: false,
      released: false,
      finishing: false,
      settled: Promise.resolve(),
    };
    worker.running.set(job.id, running);
    worker.organizations.set(organization, (worker.organizations.get(organization) ?? 0) + 1);
    const limitMs = this.#t.heartbeatMs > 0 ? this.#t.timeoutMs : this.#t.leaseMs;
    const deadline = setTimeout(() => {
      running.lost = true;
      controller.abort(new Error(`The job ran past its ${limitMs} ms limit; its lease is lapsing`));
    }, limitMs);
    const log = { jobId: job.id, job: job.name, attempt: job.attempt };
    running.settled = (async () => {
      let failure: { error: unknown } | undefined;
      try {
        await worker.handler(job, { signal: controller.signal, stopping: this.#stopping.signal });
      } catch (error) {
        failure = { error };
      } finally {
        clearTimeout(deadline);
        running.finishing = true;
      }
      if (running.released) {
        this.#t.logger.info(log, 'a job given back at stop finished late; its outcome is discarded');
        return;
      }
      try {
        if (!failure) {
          if (!(await this.#backend.complete(claim)))
            this.#t.logger.warn(
              log,
              'job lease lost: completion refused, the job belongs to another attempt',
            );
          return;
        }
        const message = errorMessage(failure.error);
        if (this.#t.transient(failure.error)) {
          // the job did nothing wrong (its store is down): no attempt is used up, whatever the outage's length
          const delay = transientDelayMs(job.attempt, this.#t);
          if (await this.#backend.release(claim, message, delay)) {
            this.#t.logger.warn(
              { ...log, err: message, retryInMs: delay },
              'job paused by an outage; retrying',
            );
            this.wake(job.name, delay);
          }
          return;
        }
        const last = job.attempt >= job.maxAttempts;
        const delay = last ? 0 : retryDelayMs(job.attempt, this.#t);
        if (!(await this.#backend.fail(claim, message, delay))) {
          this.#t.logger.warn(log, 'job lease lost: failure refused, the job belongs to another attempt');
        } else if (last) {
          this.#t.logger.warn({ ...log, err: message }, 'job failed its last attempt and is dead');
        } else {
          this.#t.logger.info({ ...log, err: message, retryInMs: delay }, 'job attempt failed; retrying');
          this.wake(job.name, delay);
        }
      } catch (error) {
        this.#t.logger.error(
          { ...log, err: errorMessage(error) },
          'could not record a job outcome; the job runs again when its lease lapses',
        );
      }
    })().finally(() => {
      worker.running.delete(job.id);
      const left = (worker.organizations.get(organization) ?? 1) - 1;
      if (left > 0) worker.organizations.set(organization, left);
      else worker.organizations.delete(organization);
      void this.#poll(worker);
    });
  }

  async #beat(worker: Worker<C>): Promise<void> {
    if (worker.beating) return;
    const held = [...worker.running.values()].filter((r) => !r.lost && !r.finishing);
    if (held.length === 0) return;
    worker.beating = true;
    try {
      const kept = await this.#backend.heartbeat(
        worker.name,
        held.map((r) => r.claim),
      );
      for (const r of held) {
        if (kept.has(r.claim) || r.lost || r.finishing) continue;
        r.lost = true;
        r.controller.abort(new Error('The job lease was lost to another worker'));
        this.#t.logger.warn(
          { jobId: r.claim.job.id, job: worker.name, attempt: r.claim.job.attempt },
          'job lease lost: its handler was told to stop',
        );
      }
    } catch (error) {
      // says nothing about the leases: try again at the next beat
      this.#t.logger.warn({ job: worker.name, err: errorMessage(error) }, 'job heartbeat failed');
    } finally {
      worker.beating = false;
    }
  }
}
