import type { MigrationFactory } from './types.ts';

/** The sweep looks for runs still `queued` long after they were saved: runs by (status, created_at). */
export const workflowRunsUnstarted: MigrationFactory = () => ({
  async up(db) {
    await db.schema
      .createIndex('workflow_runs_by_status')
      .on('workflow_runs')
      .columns(['status', 'created_at'])
      .execute();
  },
});
