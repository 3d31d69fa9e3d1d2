import { sql } from 'kysely';
import { activityTables } from './activity.ts';
import type { MigrationFactory } from './types.ts';

/** Integrations, actions with every version kept, executions and idempotency keys. */
export const actions: MigrationFactory = (t, dialect) => ({
  async up(db) {
    await db.schema
      .createTable('integrations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('base_url', 'text')
      .addColumn('secrets', sql.raw(t.json), (c) => c.notNull())
      .addColumn('auth', sql.raw(t.json))
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addUniqueConstraint('integrations_organization_name', ['organization_id', 'name'])
      .execute();
    await db.schema
      .createIndex('integrations_organization')
      .on('integrations')
      .columns(['organization_id', 'id'])
      .execute();

    await db.schema
      .createTable('actions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('integration_id', 'text', (c) => c.references('integrations.id').onDelete('set null'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('tool_name', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('definition', sql.raw(t.json), (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('deleted_at', sql.raw(t.timestamp))
      .execute();
    await db.schema
      .createIndex('actions_organization')
      .on('actions')
      .columns(['organization_id', 'id'])
      .execute();
    await db.schema
      .createIndex('actions_tool_name')
      .on('actions')
      .columns(['organization_id', 'tool_name'])
      .unique()
      .where(sql.ref('deleted_at'), 'is', null)
      .execute();
    await db.schema.createIndex('actions_integration').on('actions').columns(['integration_id']).execute();

    await db.schema
      .createTable('action_versions')
      .addColumn('action_id', 'text', (c) => c.notNull().references('actions.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('definition', sql.raw(t.json), (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('created_by', 'text')
      .addPrimaryKeyConstraint('action_versions_pk', ['action_id', 'version'])
      .execute();

    // Execution records and idempotency keys are activity (see activity.ts).
    const { schema, organization, index } = activityTables(db, dialect);

    await schema
      .createTable('executions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', organization)
      .addColumn('action_id', 'text', (c) => c.notNull())
      .addColumn('action_version', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('category', 'text')
      .addColumn('started_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('record', sql.raw(t.json), (c) => c.notNull())
      .execute();
    await index('executions_organization', 'executions', ['organization_id', 'id']);
    await index('executions_action', 'executions', ['organization_id', 'action_id', 'id']);
    // no index on status or started_at: ids are time-ordered (UUIDv7), so time ranges and retention use
    // the primary key, and each index is one more page written per record

    await schema
      .createTable('idempotency_keys')
      .addColumn('organization_id', 'text', organization)
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      // text, not jsonb: a replayed response must be byte-identical, and jsonb reorders keys
      .addColumn('response', 'text')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('expires_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['organization_id', 'scope', 'key'])
      .execute();
    await index('idempotency_keys_expiry', 'idempotency_keys', ['expires_at']);
  },
});
