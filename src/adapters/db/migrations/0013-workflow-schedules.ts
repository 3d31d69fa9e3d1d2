import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Workflow schedules (cron-trigger): one row per live cron workflow, kept in step with its active
 * version. `next_at` is the next occurrence to fire; a scheduler claims an occurrence by moving `next_at`
 * on from the value it read (compare-and-set), so with several processes each occurrence fires once.
 */
export const workflowSchedules: MigrationFactory = (t) => ({
  async up(db) {
    await db.schema
      .createTable('workflow_schedules')
      .addColumn('workflow_id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('version_id', 'text', (c) => c.notNull().references('workflow_versions.id'))
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('missed', 'text', (c) => c.notNull())
      .addColumn('next_at', sql.raw(t.timestamp), (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('workflow_schedules_next_at')
      .on('workflow_schedules')
      .column('next_at')
      .execute();
  },
});
