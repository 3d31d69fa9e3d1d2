import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Workflows, their versions and runs.
 *
 * - `workflow_versions`: one row per version; `workflow_id` groups them, `active` (0/1) marks the one
 *   that new runs use; `deleted_at` soft-deletes a workflow, whose versions stay for the runs pinned to
 *   them. (workflow_id, version_number) is unique, so two concurrent edits cannot both be version n.
 * - `workflow_runs`: a run pinned to a version, with its trigger data and status.
 * - `workflow_run_steps`: one row per step (or if-else decision) a run reached, keyed (run_id, step_id):
 *   the step's checkpoint, committed before the next step is enqueued.
 */
export const workflows: MigrationFactory = (t) => ({
  async up(db) {
    await db.schema
      .createTable('workflow_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('workflow_id', 'text', (c) => c.notNull())
      .addColumn('version_number', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('trigger_type', 'text', (c) => c.notNull())
      .addColumn('trigger_configuration', sql.raw(t.json))
      .addColumn('trigger_constraints', sql.raw(t.json))
      .addColumn('blocks', sql.raw(t.json), (c) => c.notNull())
      .addColumn('editor_state', sql.raw(t.json))
      .addColumn('active', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('deleted_at', sql.raw(t.timestamp))
      .addUniqueConstraint('workflow_versions_number', ['workflow_id', 'version_number'])
      .execute();
    await db.schema
      .createIndex('workflow_versions_active')
      .on('workflow_versions')
      .columns(['organization_id', 'active', 'id'])
      .execute();

    await db.schema
      .createTable('workflow_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('workflow_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull().references('workflow_versions.id'))
      .addColumn('version_number', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('input', sql.raw(t.json), (c) => c.notNull())
      .addColumn('error', sql.raw(t.json))
      .addColumn('caller_key_id', 'text')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('started_at', sql.raw(t.timestamp))
      .addColumn('finished_at', sql.raw(t.timestamp))
      .execute();
    await db.schema
      .createIndex('workflow_runs_by_workflow')
      .on('workflow_runs')
      .columns(['organization_id', 'workflow_id', 'id'])
      .execute();

    await db.schema
      .createTable('workflow_run_steps')
      .addColumn('run_id', 'text', (c) => c.notNull().references('workflow_runs.id').onDelete('cascade'))
      .addColumn('step_id', 'text', (c) => c.notNull())
      .addColumn('organization_id', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('input', sql.raw(t.json))
      .addColumn('output', sql.raw(t.json))
      .addColumn('error', sql.raw(t.json))
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('execution_id', 'text')
      .addColumn('started_at', sql.raw(t.timestamp))
      .addColumn('finished_at', sql.raw(t.timestamp))
      .addPrimaryKeyConstraint('workflow_run_steps_pk', ['run_id', 'step_id'])
      .execute();
  },
});
