import { sql } from 'kysely';
import { activityTables } from './activity.ts';
import type { MigrationFactory } from './types.ts';

/**
 * Confirmation requests: an action that requires confirmation, called, waits here for the user's answer
 * (core/confirmations.ts). The row is committed before the caller is answered and holds what the run needs
 * (the inputs as validated, the context, the action version); its id is the execution's id.
 *
 * - `state`: pending, then confirmed, declined or expired; a decision is taken once (`where state =
 *   'pending'`), so two confirmations run the action once.
 * Activity, like executions: on SQLite it lives in the attached activity file.
 */
export const confirmations: MigrationFactory = (t, dialect) => ({
  async up(db) {
    const { schema, organization } = activityTables(db, dialect);
    await schema
      .createTable('confirmation_requests')
      .addColumn('execution_id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', organization)
      .addColumn('action_id', 'text', (c) => c.notNull())
      .addColumn('action_version', 'integer', (c) => c.notNull())
      .addColumn('inputs', sql.raw(t.json), (c) => c.notNull())
      .addColumn('context', sql.raw(t.json), (c) => c.notNull())
      .addColumn('conversation_id', 'text')
      .addColumn('caller_key_id', 'text')
      .addColumn('idempotency_key', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('expires_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('decided_at', sql.raw(t.timestamp))
      .execute();
  },
});
