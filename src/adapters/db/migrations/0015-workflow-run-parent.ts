import type { MigrationFactory } from './types.ts';

/**
 * A run started by a step of another run (a call of an ai-trigger workflow's tool) records that run, so
 * a chain of such calls can be followed up to refuse a workflow that would start itself again.
 */
export const workflowRunParent: MigrationFactory = () => ({
  async up(db) {
    await db.schema.alterTable('workflow_runs').addColumn('parent_run_id', 'text').execute();
  },
});
