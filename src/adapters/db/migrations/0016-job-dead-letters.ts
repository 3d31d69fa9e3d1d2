import { sql } from 'kysely';
import { ACTIVITY_SCHEMA } from '../sqlite-pragmas.ts';
import type { MigrationFactory } from './types.ts';

/**
 * Dead letters of the embedded queue's jobs (SQLite only; on PostgreSQL pg-boss has its own):
 * `dead_letter`, the job name enqueued when the job is dead, and `died`, on such a job, what the dead one
 * was (JSON: its id, attempts, last error, and whether its lease lapsed).
 */
export const jobDeadLetters: MigrationFactory = (t, dialect) => ({
  async up(db) {
    if (dialect !== 'sqlite') return;
    // one column per statement: SQLite adds no more
    const jobs = () => db.schema.withSchema(ACTIVITY_SCHEMA).alterTable('jobs');
    await jobs().addColumn('dead_letter', 'text').execute();
    await jobs().addColumn('died', sql.raw(t.json)).execute();
  },
});
