import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Runs stay exactly-once under faults (docs/security.md G-15, G-16).
 *
 * - `workflow_run_steps.job_id`, `job_attempt`: the queue job, and its attempt, that hold the step. An
 *   attempt begins only if the step is its job's (a later attempt of that job takes it over) and commits
 *   only while it still holds it, so a worker paused past its lease cannot overwrite its successor's
 *   result. Rows written before have none: the first attempt that begins such a step takes it.
 * - `workflow_runs.admitted_at`: when the run was given a slot under its organization's cap; until then
 *   it waits `queued` (and has no job). Runs saved before were all admitted at once.
 * - `workflow_run_slots`: one row per run holding one of its organization's slots (admitted, not
 *   finished, not asleep in a delay). Runs already under way hold one.
 * - `workflow_runs_by_status_id`: the sweep's walk, in id order, through the runs not finished.
 * - `workflow_runs_waiting`: the runs waiting for a slot, per organization in order, admitted as slots
 *   free up.
 */
export const durableRuns: MigrationFactory = (t) => ({
  async up(db) {
    // one column per statement: SQLite adds no more
    await db.schema.alterTable('workflow_run_steps').addColumn('job_id', 'text').execute();
    await db.schema.alterTable('workflow_run_steps').addColumn('job_attempt', 'integer').execute();

    await db.schema.alterTable('workflow_runs').addColumn('admitted_at', sql.raw(t.timestamp)).execute();
    await sql`update workflow_runs set admitted_at = created_at`.execute(db);
    await db.schema
      .createTable('workflow_run_slots')
      .addColumn('run_id', 'text', (c) => c.primaryKey().references('workflow_runs.id').onDelete('cascade'))
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('workflow_run_slots_by_organization')
      .on('workflow_run_slots')
      .column('organization_id')
      .execute();
    await sql`
      insert into workflow_run_slots (run_id, organization_id)
      select id, organization_id from workflow_runs where status in ('queued', 'running')`.execute(db);

    await db.schema
      .createIndex('workflow_runs_by_status_id')
      .on('workflow_runs')
      .columns(['status', 'id'])
      .execute();
    await db.schema
      .createIndex('workflow_runs_waiting')
      .on('workflow_runs')
      .columns(['status', 'admitted_at', 'organization_id', 'id'])
      .execute();
  },
});
