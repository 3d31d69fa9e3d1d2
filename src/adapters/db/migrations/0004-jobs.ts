import { sql } from 'kysely';
import { ACTIVITY_SCHEMA } from '../sqlite-pragmas.ts';
import type { MigrationFactory } from './types.ts';

/**
 * The embedded queue's jobs (src/adapters/queue/embedded): SQLite only, in the activity file, since
 * jobs churn like executions do. On PostgreSQL jobs live in pg-boss's own schema (created and migrated
 * by pg-boss), so this migration does nothing there.
 *
 * - `state`: queued (waiting, including a retry waiting out its backoff), running (leased to
 *   `lease_owner` until `lease_expires_at`), completed, dead (attempts used up). `status()` reports a
 *   queued job that has already had an attempt as `failed`.
 * - `organization_id`: '' when the job belongs to no organization, so the claim index orders it too.
 * - `attempt`: attempts started so far; each claim increments it, and with `lease_owner` it fences
 *   every later write of that attempt.
 * - Timestamps are ISO 8601 text in UTC, so they compare as strings.
 */
export const jobs: MigrationFactory = (t, dialect) => ({
  async up(db) {
    if (dialect !== 'sqlite') return;
    await db.schema
      .withSchema(ACTIVITY_SCHEMA)
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('payload', sql.raw(t.json), (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('key', 'text')
      .addColumn('organization_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('run_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('lease_expires_at', sql.raw(t.timestamp))
      .addColumn('last_error', 'text')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('completed_at', sql.raw(t.timestamp))
      .execute();
    const index = (name: string, columns: string[], options: { unique?: boolean; where?: string } = {}) =>
      sql`create ${sql.raw(options.unique ? 'unique ' : '')}index ${sql.id(ACTIVITY_SCHEMA, name)} on ${sql.id('jobs')} (${sql.join(columns.map((c) => sql.id(c)))})${sql.raw(options.where ? ` where ${options.where}` : '')}`.execute(
        db,
      );
    // Claiming: the next organization with a due job after the round-robin cursor, then its oldest due job.
    await index('jobs_claim', ['name', 'state', 'organization_id', 'run_at']);
    // Expired leases (the few running jobs) and retention of finished jobs (updated_at = when finished).
    await index('jobs_state', ['state', 'updated_at']);
    // At most one job per key and name, for as long as the job is kept.
    await index('jobs_key', ['name', 'key'], { unique: true, where: 'key is not null' });
  },
});
