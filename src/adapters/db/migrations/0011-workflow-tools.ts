import type { MigrationFactory } from './types.ts';

/**
 * Workflow tools (ai-trigger): the action an ai-trigger workflow is offered to agents as, one per
 * live workflow. The link lets a new version update the same action (agents keep it) and a delete or a
 * change of trigger type find it to delete it; the row goes when the workflow leaves ai-trigger.
 */
export const workflowTools: MigrationFactory = () => ({
  async up(db) {
    await db.schema
      .createTable('workflow_tools')
      .addColumn('workflow_id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('action_id', 'text', (c) => c.notNull().references('actions.id').onDelete('cascade'))
      .execute();
  },
});
