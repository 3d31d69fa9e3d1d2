import { sql } from 'kysely';
import { activityTables } from './activity.ts';
import type { MigrationFactory } from './types.ts';

/**
 * Post-call requests: an action with execution mode `post_call`, called during a conversation, waits here
 * until the conversation ends, then runs from the queue. The row is written (and committed) before the
 * caller is answered, so a request survives a crash; it holds what the run needs (the inputs as given,
 * the context, the action version), and its id is the execution's id.
 *
 * - `state`: waiting (the conversation goes on), enqueued (its job exists: `job_id`).
 * Activity, like executions: on SQLite it lives in the attached activity file.
 */
export const postCall: MigrationFactory = (t, dialect) => ({
  async up(db) {
    const { schema, organization, index } = activityTables(db, dialect);
    await schema
      .createTable('post_call_requests')
      .addColumn('execution_id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', organization)
      .addColumn('conversation_id', 'text', (c) => c.notNull())
      .addColumn('action_id', 'text', (c) => c.notNull())
      .addColumn('action_version', 'integer', (c) => c.notNull())
      .addColumn('inputs', sql.raw(t.json), (c) => c.notNull())
      .addColumn('context', sql.raw(t.json), (c) => c.notNull())
      .addColumn('caller_key_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('enqueued_at', sql.raw(t.timestamp))
      .execute();
    await index('post_call_conversation', 'post_call_requests', [
      'organization_id',
      'conversation_id',
      'state',
    ]);
  },
});
