/**
 * The embedded Queue: a `jobs` table in SQLite (the activity file, migration 0004-jobs) worked in
 * process. Several Queue instances, in one process or several on the same data directory, can work the
 * same table: every transition is one atomic statement, fenced to the attempt that claimed the job.
 *
 * - Claim: one `UPDATE … RETURNING` picks a due queued job and leases it (owner, expiry), incrementing
 *   `attempt`. Start-up reads nothing ahead: each poll claims at most the free slots.
 * - Leases: extended every heartbeatMs while the handler runs. A sweep (every leaseMs / 4, at most 5 s)
 *   puts jobs whose lease expired (their worker died or hung) back in the queue at once, or marks them
 *   dead at their last attempt, so a job that kills its process every attempt is dead-lettered.
 * - Fencing: complete, fail, release and heartbeat all say `where id = ? and lease_owner = ? and
 *   attempt = ? and state = 'running'`: once the lease passed to another worker (or another attempt of
 *   this one) the late write changes nothing and is reported as refused.
 * - Fairness: organizations take turns. Per job name a round-robin cursor remembers the last
 *   organization served; each claim takes the oldest due job of the next organization (in id order)
 *   that has one, wrapping around. Both steps are seeks on the (name, state, organization_id, run_at)
 *   index, so a tenant with 1 job waits for at most one claim per other busy tenant, however deep their
 *   backlog. Jobs without an organization form one more turn ('').
 * - Keys: a unique index on (name, key); a second enqueue finds the first job (`created: false`) for as
 *   long as the job is kept (retentionMs after it finished).
 * - Dead letters: the statement that makes a job dead (its last attempt failed, or its lease lapsed at
 *   its last attempt) runs in one transaction with the insert of its `dead_letter` job, which carries the
 *   payload and, in `died`, what died (keyed `died:<id>`, so once).
 *
 * SQLite only: the embedded store's Kysely (KyselyStore.db). Do not enqueue inside a store transaction
 * on SQLite: the store has one connection, which the transaction holds, and jobs live in another file,
 * so the two could not commit atomically anyway.
 */
import { randomUUID } from 'node:crypto';
import { SqliteAdapter, sql, type Kysely } from 'kysely';
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
  resolveTimings,
  type QueueBackend,
  type QueueTimingOptions,
} from '../runner.ts';

/** The `jobs` table of migration 0004-jobs (in the activity file, found by its unqualified name). */
type JobsTable = {
  id: string;
  name: string;
  payload: string;
  state: string;
  key: string | null;
  organization_id: string;
  attempt: number;
  max_attempts: number;
  run_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  dead_letter: string | null;
  died: string | null;
};
type JobsDatabase = { jobs: JobsTable };
type JobRow = JobsTable;

export const LEASE_EXPIRED =
  'The job lease expired before the attempt finished (worker stopped, crashed or hung)';

export interface EmbeddedQueueOptions<DB> extends QueueTimingOptions {
  /** The embedded store's Kysely instance (KyselyStore.db), migrated to 0004-jobs or later. */
  db: Kysely<DB>;
  /** This worker's lease owner name; unique per Queue instance (default: a random UUID). */
  workerId?: string | undefined;
  /** Job ids (default: random UUIDs; pass the store's UUIDv7 generator for time-ordered ids). */
  newId?: (() => string) | undefined;
}

interface EmbeddedClaim {
  readonly job: Job<unknown>;
  readonly owner: string;
}

const toJob = (row: JobRow): Job<unknown> => ({
  id: row.id,
  name: row.name,
  payload: JSON.parse(row.payload) as unknown,
  attempt: row.attempt,
  maxAttempts: row.max_attempts,
  key: row.key,
  organizationId: row.organization_id === '' ? null : row.organization_id,
  createdAt: row.created_at,
  ...(row.died ? { died: JSON.parse(row.died) as DeadJob } : {}),
});

/** What a job that has just died leaves for its dead letter. */
type Dying = Pick<JobRow, 'id' | 'payload' | 'organization_id' | 'attempt' | 'last_error' | 'dead_letter'>;
const DYING = ['id', 'payload', 'organization_id', 'attempt', 'last_error', 'dead_letter'] as const;

const toStatus = (row: Pick<JobRow, 'id' | 'name' | 'state' | 'attempt' | 'last_error'>): JobStatus => ({
  id: row.id,
  name: row.name,
  state: toState(row),
  attempt: row.attempt,
  lastError: row.last_error,
  ...(row.state !== 'completed' && row.last_error === LEASE_EXPIRED ? { leaseLost: true } : {}),
});

function toState(row: Pick<JobRow, 'state' | 'attempt'>): JobState {
  if (row.state === 'queued') return row.attempt > 0 ? 'failed' : 'queued';
  return row.state as JobState;
}

export function createEmbeddedQueue<DB>(options: EmbeddedQueueOptions<DB>): Queue {
  if (!(options.db.getExecutor().adapter instanceof SqliteAdapter))
    throw new Error('The embedded queue runs on the SQLite store; use the pg-boss queue with PostgreSQL');
  const timings = resolveTimings(options);
  const db = options.db.withTables<JobsDatabase>() as unknown as Kysely<JobsDatabase>;
  const owner = options.workerId ?? randomUUID();
  const newId = options.newId ?? randomUUID;
  const { clock } = timings;
  const iso = (ms = clock.now()) => new Date(ms).toISOString();
  /** Per job name, the organization served last (the round-robin cursor). */
  const cursors = new Map<string, string>();
  let lastRetention = 0;

  async function claimOne(name: string, now: string, after: string | undefined): Promise<JobRow | undefined> {
    const organization = db
      .selectFrom('jobs')
      .select('organization_id')
      .where('name', '=', name)
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .where('organization_id', after === undefined ? '>=' : '>', after ?? '')
      .orderBy('organization_id')
      .limit(1);
    const oldest = db
      .selectFrom('jobs')
      .select('id')
      .where('name', '=', name)
      .where('state', '=', 'queued')
      .where('run_at', '<=', now)
      .where('organization_id', '=', organization)
      .orderBy('run_at')
      .limit(1);
    return db
      .updateTable('jobs')
      .set((eb) => ({
        state: 'running',
        attempt: eb('attempt', '+', 1),
        lease_owner: owner,
        lease_expires_at: iso(clock.now() + timings.leaseMs),
        updated_at: now,
      }))
      .where('id', '=', oldest)
      .where('state', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
  }

  const fenced = (claim: EmbeddedClaim, executor: Kysely<JobsDatabase> = db) =>
    executor
      .updateTable('jobs')
      .where('id', '=', claim.job.id)
      .where('lease_owner', '=', claim.owner)
      .where('attempt', '=', claim.job.attempt)
      .where('state', '=', 'running');

  const changed = (result: { numUpdatedRows: bigint }) => result.numUpdatedRows > 0n;

  /** Inserts the dead-letter jobs of jobs that have just died, in the transaction that killed them. */
  async function deadLetters(tx: Kysely<JobsDatabase>, dying: readonly Dying[], leaseLost: boolean) {
    const now = iso();
    const letters = dying.filter((row) => row.dead_letter !== null);
    for (const row of letters) {
      const died: DeadJob = { id: row.id, attempts: row.attempt, error: row.last_error, leaseLost };
      await tx
        .insertInto('jobs')
        .values({
          id: newId(),
          name: row.dead_letter ?? '',
          payload: row.payload,
          state: 'queued',
          key: `died:${row.id}`,
          organization_id: row.organization_id,
          attempt: 0,
          max_attempts: timings.defaultMaxAttempts,
          run_at: now,
          created_at: now,
          updated_at: now,
          died: JSON.stringify(died),
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return letters.map((row) => row.dead_letter ?? '');
  }

  /**
   * Puts a claimed job back in the queue, due in `retryInMs`: a failed attempt (`counted`; dead at its
   * last attempt, and then followed by its dead letter) or one given back (one more attempt allowed, so
   * it never makes the job dead).
   */
  async function giveBack(claim: EmbeddedClaim, error: string, retryInMs: number, counted: boolean) {
    const now = clock.now();
    const dead = counted && claim.job.attempt >= claim.job.maxAttempts;
    const update = (executor: Kysely<JobsDatabase>) =>
      fenced(claim, executor)
        .set({
          state: dead ? 'dead' : 'queued',
          ...(counted ? {} : { max_attempts: sql<number>`max_attempts + 1` }),
          run_at: iso(now + retryInMs),
          completed_at: dead ? iso(now) : null,
          updated_at: iso(now),
          lease_owner: null,
          lease_expires_at: null,
          last_error: error,
        })
        .returning(DYING);
    if (!dead) return (await update(db).execute()).length > 0;
    const { died, letters } = await db.transaction().execute(async (tx) => {
      const rows = await update(tx).execute();
      return { died: rows.length > 0, letters: await deadLetters(tx, rows, false) };
    });
    for (const name of letters) runner.wake(name);
    return died;
  }

  /**
   * Leases that lapsed (the worker died, hung or lost its store): the attempt counts, and a job at its
   * last attempt is dead and followed by its dead letter. A read first, so that a tick with nothing to
   * do takes no write lock. INDEXED BY: with table statistics SQLite may prefer a scan, not knowing how
   * few jobs run.
   */
  async function expireLeases(now: string) {
    const lapsed = await sql`select 1 from jobs indexed by jobs_state
                              where state = 'running' and lease_expires_at <= ${now} limit 1`.execute(db);
    if (lapsed.rows.length === 0) return { expired: [], letters: [] };
    return db.transaction().execute(async (tx) => {
      const { rows } = await sql<Dying & Pick<JobRow, 'name' | 'state'>>`
        update jobs indexed by jobs_state
           set state = case when attempt >= max_attempts then 'dead' else 'queued' end,
               completed_at = case when attempt >= max_attempts then ${now} else null end,
               run_at = ${now},
               updated_at = ${now},
               lease_owner = null,
               lease_expires_at = null,
               last_error = ${LEASE_EXPIRED}
         where state = 'running' and lease_expires_at <= ${now}
        returning ${sql.join(['name', 'state', ...DYING].map((c) => sql.id(c)))}`.execute(tx);
      const dead = rows.filter((row) => row.state === 'dead');
      return { expired: rows, letters: await deadLetters(tx, dead, true) };
    });
  }

  const backend: QueueBackend<EmbeddedClaim> = {
    maintenanceMs: Math.min(5_000, Math.max(25, timings.leaseMs / 4)),

    async claim(name, limit) {
      const claims: EmbeddedClaim[] = [];
      const now = iso();
      let cursor = cursors.get(name);
      while (claims.length < limit) {
        let row = await claimOne(name, now, cursor);
        if (!row && cursor !== undefined) row = await claimOne(name, now, undefined);
        if (!row) break;
        cursor = row.organization_id;
        cursors.set(name, cursor);
        claims.push({ job: toJob(row), owner });
      }
      return claims;
    },

    async heartbeat(_name, claims) {
      const rows = await db
        .updateTable('jobs')
        .set({ lease_expires_at: iso(clock.now() + timings.leaseMs), updated_at: iso() })
        .where('lease_owner', '=', owner)
        .where('state', '=', 'running')
        .where(
          'id',
          'in',
          claims.map((c) => c.job.id),
        )
        .returning(['id', 'attempt'])
        .execute();
      const held = new Set(rows.map((r) => `${r.id}:${r.attempt}`));
      return new Set(claims.filter((c) => held.has(`${c.job.id}:${c.job.attempt}`)));
    },

    async complete(claim) {
      const now = iso();
      return changed(
        await fenced(claim)
          .set({
            state: 'completed',
            completed_at: now,
            updated_at: now,
            lease_owner: null,
            lease_expires_at: null,
            last_error: null,
          })
          .executeTakeFirst(),
      );
    },

    fail: (claim, error, retryInMs) => giveBack(claim, error, retryInMs, true),

    release: (claim, reason, retryInMs) => giveBack(claim, reason, retryInMs, false),

    async maintain() {
      const { expired, letters } = await expireLeases(iso());
      for (const row of expired) {
        timings.logger.warn(
          { jobId: row.id, job: row.name, attempt: row.attempt, state: row.state },
          'job lease expired; the job runs again unless this was its last attempt',
        );
        if (row.state === 'queued') runner.wake(row.name);
      }
      for (const name of letters) runner.wake(name);
      if (clock.now() - lastRetention >= 60_000) {
        lastRetention = clock.now();
        const before = iso(clock.now() - timings.retentionMs);
        const old = db
          .selectFrom('jobs')
          .select('id')
          .where('state', 'in', ['completed', 'dead'])
          .where('updated_at', '<', before)
          .limit(1_000);
        await db.deleteFrom('jobs').where('id', 'in', old).execute();
      }
    },
  };

  const runner = new JobRunner(backend, timings);

  async function statuses(ids: readonly string[]): Promise<JobStatus[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .selectFrom('jobs')
      .select(['id', 'name', 'state', 'attempt', 'last_error'])
      .where('id', 'in', ids)
      .execute();
    return rows.map(toStatus);
  }

  return {
    async enqueue<P>(name: string, payload: P, enqueueOptions: EnqueueOptions = {}) {
      const { key, runAt, maxAttempts, organizationId, deadLetter } = checkEnqueue(
        name,
        enqueueOptions,
        timings,
      );
      const now = clock.now();
      const runAtMs = runAt ? runAt.getTime() : now;
      for (let tries = 0; ; tries++) {
        if (tries === 3) throw new Error('Could not insert the job: its id kept colliding');
        const id = newId();
        const inserted = await db
          .insertInto('jobs')
          .values({
            id,
            name,
            payload: JSON.stringify(payload) ?? 'null',
            state: 'queued',
            key,
            organization_id: organizationId ?? '',
            attempt: 0,
            max_attempts: maxAttempts,
            run_at: iso(runAtMs),
            created_at: iso(now),
            updated_at: iso(now),
            dead_letter: deadLetter,
          })
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .executeTakeFirst();
        if (inserted) {
          runner.wake(name, runAtMs - now);
          return { id, created: true };
        }
        if (key === null) continue; // an id collision: draw another
        const existing = await db
          .selectFrom('jobs')
          .select('id')
          .where('name', '=', name)
          .where('key', '=', key)
          .executeTakeFirst();
        if (existing) return { id: existing.id, created: false };
        // the keyed job was deleted by retention in between: insert again
      }
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
      runner.start();
    },

    stop(timeoutMs?: number) {
      return runner.stop(timeoutMs);
    },
  };
}
