/**
 * The Queue on PostgreSQL through pg-boss: any number of worker processes share one pg-boss schema
 * (default `switchboard_jobs`, created and migrated by pg-boss at start). pg-boss claims with
 * `FOR UPDATE SKIP LOCKED`, so each attempt runs in one worker only.
 *
 * How the port maps onto pg-boss:
 * - Leases. With heartbeats (the default): pg-boss `heartbeatSeconds` = leaseMs (pg-boss requires ≥ 10 s),
 *   refreshed every heartbeatMs by `touch()`, and `expireInSeconds` = timeoutMs, the longest an attempt
 *   may run. Without (heartbeatMs: 0): `expireInSeconds` = leaseMs. pg-boss's supervisor (every
 *   superviseIntervalSeconds, default a third of the lease, at most 10 s) fails a job whose heartbeat or
 *   expiry lapsed; that counts as an attempt, and the job is retried at once or, at its last attempt,
 *   is dead.
 * - Release (at stop, or after a failure the store caused): raises the job's retryLimit by one in the
 *   transaction of its fail(), so the attempt given back never makes the job dead.
 * - Fencing: complete, fail, touch and release pass `{ id, retryCount }` as fetched, and pg-boss applies
 *   them only while the job is still active in that attempt; a worker whose lease passed on is refused.
 * - Retries: pg-boss's own backoff is whole seconds with half jitter, so jobs carry `retryDelay: 0` and a
 *   failure runs `fail()` and `update({ startAfter })` in one transaction, which sets the full-jitter
 *   delay (milliseconds, capped at retryMaxMs) before any worker can see the retry. `retryLimit` =
 *   maxAttempts − 1.
 * - Keys: pg-boss's singletonKey only dedupes queued or active jobs (policies short, singleton,
 *   stately, exclusive), never a completed one, and the port promises one job per key for as long as jobs
 *   are kept. So a small table `<schema>.switchboard_keys (name, key) → job_id` is inserted in the same
 *   transaction as the job: the primary key admits one job per key, and a second enqueue reads the first
 *   job's id. Keys are dropped once their job has been deleted by pg-boss's retention. The key is also
 *   set as the job's singletonKey (on a standard queue that only labels it).
 * - Fairness: a job's organization is its pg-boss group. Fetches take the oldest due jobs, and every
 *   fairnessMs a worker first fetches one job while ignoring (`ignoreGroups`) the organizations it is
 *   running or has just served, so a tenant with 1 job is served within about fairnessMs of a free
 *   slot even behind another tenant's 100,000. That fetch reads past the ignored tenants' due jobs, hence
 *   the interval.
 * - Dead letters: pg-boss's own. A job sent with `deadLetter` is copied to that queue by the statement
 *   that fails it for good (its last attempt failed, or its supervisor expired it), with the dead job's
 *   id, retry count and output, which become the new job's `died`.
 * - status(): read from pg-boss's job table by id: created → queued, retry → failed, active → running,
 *   completed → completed, failed or cancelled → dead.
 */
import { randomUUID } from 'node:crypto';
import { PgBoss, type Db as IDatabase, type JobWithMetadata, type SendOptions } from 'pg-boss';
import type {
  DeadJob,
  EnqueueOptions,
  Job,
  JobHandler,
  JobState,
  JobStatus,
  Queue,
  WorkOptions,
} from '../../../core/ports/queue.ts';
import {
  JobRunner,
  checkEnqueue,
  errorMessage,
  resolveTimings,
  type QueueBackend,
  type QueueTimingOptions,
} from '../runner.ts';

export interface PgBossQueueOptions extends QueueTimingOptions {
  connectionString: string;
  /** pg-boss's schema, created at start (default `switchboard_jobs`). */
  schema?: string | undefined;
  /** Connections of this instance's pool (default 5). */
  poolSize?: number | undefined;
  /** How often pg-boss looks for lapsed leases (default: a third of the lease, 1 to 10 s). */
  superviseIntervalSeconds?: number | undefined;
  /** How often a worker looks past the tenants it is serving for another tenant's job (default 500 ms). */
  fairnessMs?: number | undefined;
  /** Job ids, which must be UUIDs (default: random UUIDs; pass a UUIDv7 generator for time order). */
  newId?: (() => string) | undefined;
}

interface BossClaim {
  readonly job: Job<unknown>;
  readonly attempt: { id: string; retryCount: number };
}

interface JobData {
  payload?: unknown;
}

/** The outputs pg-boss's supervisor gives a job whose lease lapsed (its expiry or its heartbeat). */
const LEASE_LAPSED = new Set(['job timed out', 'job heartbeat timeout']);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const STATES: Record<string, JobState> = {
  created: 'queued',
  retry: 'failed',
  active: 'running',
  completed: 'completed',
  failed: 'dead',
  cancelled: 'dead',
};

function outputMessage(output: unknown): string | null {
  if (output && typeof output === 'object') {
    const { message, value } = output as { message?: unknown; value?: unknown };
    if (typeof message === 'string') return message;
    if (value !== undefined) return outputMessage(value) ?? JSON.stringify(value);
  }
  return typeof output === 'string' ? output : null;
}

export function createPgBossQueue(options: PgBossQueueOptions): Queue {
  const timings = resolveTimings(options);
  const schema = options.schema ?? 'switchboard_jobs';
  if (!SCHEMA_NAME.test(schema))
    throw new TypeError('The pg-boss schema must be a lower-case SQL identifier');
  const heartbeat = timings.heartbeatMs > 0;
  if (heartbeat && timings.leaseMs < 10_000)
    throw new RangeError(
      'pg-boss needs a lease of at least 10 s with heartbeats; set heartbeatMs: 0 for shorter',
    );
  const leaseSeconds = Math.ceil(timings.leaseMs / 1000);
  const expireInSeconds = Math.ceil((heartbeat ? timings.timeoutMs : timings.leaseMs) / 1000);
  const supervise =
    options.superviseIntervalSeconds ?? Math.min(10, Math.max(1, Math.round(timings.leaseMs / 3000)));
  const fairnessMs = options.fairnessMs ?? 500;
  const newId = options.newId ?? randomUUID;
  const { logger } = timings;
  const keysTable = `${schema}.switchboard_keys`;

  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    max: options.poolSize ?? 5,
    application_name: 'switchboard-queue',
    schedule: false,
    supervise: true,
    superviseIntervalSeconds: supervise,
    // expiry runs in the monitor pass, which is gated by its own interval
    monitorIntervalSeconds: supervise,
    migrate: true,
  });
  boss.on('error', (error) => logger.error({ err: errorMessage(error) }, 'pg-boss error'));
  boss.on('warning', (warning) => logger.warn({ data: warning.data }, `pg-boss: ${warning.message}`));

  /** Options every job is sent with (the queue defaults only apply to queues this instance creates). */
  const jobDefaults: SendOptions = {
    retryDelay: 0,
    retryBackoff: false,
    expireInSeconds,
    deleteAfterSeconds: Math.ceil(timings.retentionMs / 1000),
    // how long a job may wait unclaimed before pg-boss drops it: long, for far-off runAt (30 days)
    retentionSeconds: Math.max(Math.ceil(timings.retentionMs / 1000), 90 * 24 * 3600),
    ...(heartbeat ? { heartbeatSeconds: leaseSeconds } : {}),
  };

  let ready: Promise<void> | undefined;
  const init = () =>
    (ready ??= (async () => {
      await boss.start();
      // One job per key, ever (see the header). Created under a lock: several processes start at once.
      await transaction(async (tx) => {
        await tx.executeSql(`select pg_advisory_xact_lock(hashtext($1))`, [keysTable]);
        await tx.executeSql(
          `create table if not exists ${keysTable} (
             name text not null,
             key text not null,
             job_id uuid not null,
             created_on timestamptz not null default now(),
             primary key (name, key)
           )`,
        );
      });
    })());

  async function transaction<T>(fn: (tx: IDatabase) => Promise<T>): Promise<T> {
    const db = boss.getDb();
    if (!db.beginTransaction) throw new Error('pg-boss was given a database without transactions');
    const tx = await db.beginTransaction();
    try {
      const result = await fn(tx.db);
      await tx.commit();
      return result;
    } catch (error) {
      await tx.rollback();
      throw error;
    }
  }

  /** Fails the attempt (fenced) and, for a retry, sets its delay before any worker can see it. */
  async function failIn(tx: IDatabase, claim: BossClaim, message: string, retryInMs: number) {
    const result = (await boss.fail(claim.job.name, claim.attempt, { message }, { db: tx })) as {
      affected?: number;
    };
    if (result.affected !== 1) return false;
    if (retryInMs > 0)
      // seconds from the database's now; pg-boss reads a number as an interval
      await boss.update(claim.job.name, undefined, {
        id: claim.job.id,
        startAfter: retryInMs / 1000,
        db: tx,
      });
    return true;
  }

  const queues = new Map<string, Promise<void>>();
  const ensureQueue = (name: string) => {
    let created = queues.get(name);
    if (!created) {
      created = init().then(() =>
        boss.createQueue(name, { ...jobDefaults, retryLimit: timings.defaultMaxAttempts - 1 }),
      );
      created.catch(() => queues.delete(name));
      queues.set(name, created);
    }
    return created;
  };

  /** Per job name: the organizations served since the last fairness fetch, and when that was. */
  const fairness = new Map<string, { served: Set<string>; at: number }>();

  const toClaim = (job: JobWithMetadata<JobData>): BossClaim => ({
    job: {
      id: job.id,
      name: job.name,
      payload: job.data?.payload ?? null,
      attempt: job.retryCount + 1,
      maxAttempts: job.retryLimit + 1,
      key: job.singletonKey,
      organizationId: job.groupId ?? null,
      createdAt: new Date(job.createdOn).toISOString(),
      ...(job.sourceId ? { died: diedOf(job) } : {}),
    },
    attempt: { id: job.id, retryCount: job.retryCount },
  });

  const diedOf = (job: JobWithMetadata<JobData>): DeadJob => {
    const error = outputMessage(job.sourceOutput);
    return {
      id: job.sourceId ?? '',
      attempts: (job.sourceRetryCount ?? 0) + 1,
      error,
      leaseLost: error !== null && LEASE_LAPSED.has(error),
    };
  };

  const fetch = (name: string, batchSize: number, ignoreGroups?: string[]) =>
    boss.fetch<JobData>(name, {
      batchSize,
      includeMetadata: true,
      ...(ignoreGroups?.length ? { ignoreGroups } : {}),
    });

  const backend: QueueBackend<BossClaim> = {
    maintenanceMs: 3600_000,

    async claim(name, limit, running) {
      await ensureQueue(name);
      let state = fairness.get(name);
      if (!state) fairness.set(name, (state = { served: new Set(), at: 0 }));
      const jobs: JobWithMetadata<JobData>[] = [];
      const now = Date.now();
      const busy = [...state.served, ...[...running.keys()].filter((o) => o !== '')];
      if (busy.length > 0 && now - state.at >= fairnessMs) {
        state.at = now;
        state.served.clear();
        jobs.push(...(await fetch(name, 1, [...new Set(busy)])));
      }
      if (jobs.length < limit) jobs.push(...(await fetch(name, limit - jobs.length)));
      for (const job of jobs) if (job.groupId) state.served.add(job.groupId);
      return jobs.map(toClaim);
    },

    async heartbeat(name, claims) {
      const result = (await boss.touch(
        name,
        claims.map((c) => c.attempt),
      )) as { settled?: string[] };
      // without the ids touched a heartbeat cannot tell which lease went missing: assume none did
      if (!result.settled) return new Set(claims);
      const touched = new Set(result.settled);
      return new Set(claims.filter((c) => touched.has(c.attempt.id)));
    },

    async complete(claim) {
      const result = (await boss.complete(claim.job.name, claim.attempt)) as { affected?: number };
      return result.affected === 1;
    },

    fail: (claim, error, retryInMs) =>
      transaction((tx) =>
        failIn(tx, claim, error, claim.job.attempt < claim.job.maxAttempts ? retryInMs : 0),
      ),

    release: (claim, reason, retryInMs) =>
      transaction(async (tx) => {
        // one more retry allowed, so that the attempt given back never makes the job dead
        await tx.executeSql(
          `update ${schema}.job set retry_limit = retry_limit + 1
            where name = $1 and id = $2 and state = 'active' and retry_count = $3`,
          [claim.job.name, claim.attempt.id, claim.attempt.retryCount],
        );
        return failIn(tx, claim, reason, retryInMs);
      }),

    async maintain() {
      await init();
      // keys whose job pg-boss has deleted (retention): the key may be used again
      await boss.getDb().executeSql(
        `delete from ${keysTable} k
            where k.created_on < now() - make_interval(secs => $1)
              and not exists (select 1 from ${schema}.job j where j.name = k.name and j.id = k.job_id)`,
        [timings.retentionMs / 1000],
      );
    },

    async close() {
      if (ready) await boss.stop({ graceful: true, close: true, timeout: 5_000 });
    },
  };

  const runner = new JobRunner(backend, timings);

  async function statuses(ids: readonly string[]): Promise<JobStatus[]> {
    const wanted = ids.filter((id) => UUID.test(id));
    if (wanted.length === 0) return [];
    await init();
    const { rows } = await boss.getDb().executeSql(
      `select id, name, state, retry_count, started_on, output
         from ${schema}.job
        where name = any(array(select name from ${schema}.queue)) and id = any($1::uuid[])`,
      [wanted],
    );
    return (
      rows as {
        id: string;
        name: string;
        state: string;
        retry_count: number;
        started_on: Date | null;
        output: unknown;
      }[]
    ).map((row) => {
      const state = STATES[row.state] ?? 'dead';
      const lastError = state === 'completed' ? null : outputMessage(row.output);
      return {
        id: row.id,
        name: row.name,
        state,
        attempt: row.started_on === null ? 0 : row.retry_count + 1,
        lastError,
        ...(lastError !== null && LEASE_LAPSED.has(lastError) ? { leaseLost: true as const } : {}),
      };
    });
  }

  return {
    async enqueue<P>(name: string, payload: P, enqueueOptions: EnqueueOptions = {}) {
      const { key, runAt, maxAttempts, organizationId, deadLetter } = checkEnqueue(
        name,
        enqueueOptions,
        timings,
      );
      await ensureQueue(name);
      // the dead-letter queue must exist before a job names it
      if (deadLetter !== null) await ensureQueue(deadLetter);
      const id = newId();
      if (!UUID.test(id)) throw new TypeError('pg-boss job ids must be UUIDs');
      const data: JobData = { payload };
      const send: SendOptions = {
        ...jobDefaults,
        id,
        retryLimit: maxAttempts - 1,
        ...(runAt ? { startAfter: runAt } : {}),
        ...(key !== null ? { singletonKey: key } : {}),
        ...(organizationId !== null ? { group: { id: organizationId } } : {}),
        ...(deadLetter !== null ? { deadLetter } : {}),
      };
      const delay = runAt ? runAt.getTime() - Date.now() : 0;
      if (key === null) {
        await boss.send(name, data, send);
        runner.wake(name, delay);
        return { id, created: true };
      }
      // not durable: the key's insert turns the transaction's wait for the disk off once it inserts
      const relaxed =
        enqueueOptions.durable === false ? `, set_config('synchronous_commit', 'off', true)` : '';
      const result = await transaction(async (tx) => {
        const { rows } = await tx.executeSql(
          `insert into ${keysTable} (name, key, job_id) values ($1, $2, $3)
           on conflict do nothing returning job_id${relaxed}`,
          [name, key, id],
        );
        if (rows.length === 0) {
          // another enqueue holds the key; conflicts wait for it to commit, so it is visible now
          const existing = await tx.executeSql(
            `select job_id from ${keysTable} where name = $1 and key = $2`,
            [name, key],
          );
          const row = existing.rows[0] as { job_id: string } | undefined;
          if (!row) throw new Error('The job key vanished during enqueue; try again');
          return { id: row.job_id, created: false };
        }
        await boss.send(name, data, { ...send, db: tx });
        return { id, created: true };
      });
      if (result.created) runner.wake(name, delay);
      return result;
    },

    work<P>(name: string, handler: JobHandler<P>, workOptions?: WorkOptions) {
      runner.work(name, handler as JobHandler<unknown>, workOptions);
    },

    async status(id: string): Promise<JobStatus | undefined> {
      const [row] = await statuses([id]);
      return row;
    },

    statuses,

    async start() {
      await init();
      runner.start();
    },

    stop(timeoutMs?: number) {
      return runner.stop(timeoutMs);
    },
  };
}
