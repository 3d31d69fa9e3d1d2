import type { MigrationFactory } from './types.ts';

/**
 * Workflow triggers: a webhook workflow's opaque token, carried from version to version so its
 * `webhook_url` stays the same across edits, and looked up by the public hook route. Indexed on its own
 * (no organization: the token is what identifies the tenant) and by trigger type for `POST /v1/events`.
 */
export const workflowTriggers: MigrationFactory = () => ({
  async up(db) {
    await db.schema.alterTable('workflow_versions').addColumn('webhook_token', 'text').execute();
    await db.schema
      .createIndex('workflow_versions_webhook_token')
      .on('workflow_versions')
      .column('webhook_token')
      .execute();
    await db.schema
      .createIndex('workflow_versions_trigger')
      .on('workflow_versions')
      .columns(['organization_id', 'trigger_type', 'active'])
      .execute();
  },
});
