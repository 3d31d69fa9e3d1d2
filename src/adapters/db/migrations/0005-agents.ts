import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Agents, the actions each may use, and their published versions.
 *
 * - `agent_actions`: one row per action an agent lists, in `position` order. A table rather than a JSON
 *   column so that "every agent that lists this action" (the draft reset when an action changes) is an
 *   index lookup. Actions are soft-deleted, so the foreign key holds; deleting one removes its rows.
 * - `agent_versions`: what publishing froze, `actions` a JSON list of `{ action_id, version }` pairs
 *   (the action versions stay in action_versions, which are never deleted).
 */
export const agents: MigrationFactory = (t) => ({
  async up(db) {
    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('instructions', 'text', (c) => c.notNull())
      .addColumn('channels', sql.raw(t.json), (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('published_version', 'integer')
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('agents_organization')
      .on('agents')
      .columns(['organization_id', 'id'])
      .execute();

    await db.schema
      .createTable('agent_actions')
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('action_id', 'text', (c) => c.notNull().references('actions.id').onDelete('cascade'))
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('agent_actions_pk', ['agent_id', 'action_id'])
      .execute();
    await db.schema
      .createIndex('agent_actions_action')
      .on('agent_actions')
      .columns(['organization_id', 'action_id'])
      .execute();

    await db.schema
      .createTable('agent_versions')
      .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('instructions', 'text', (c) => c.notNull())
      .addColumn('channels', sql.raw(t.json), (c) => c.notNull())
      .addColumn('actions', sql.raw(t.json), (c) => c.notNull())
      .addColumn('published_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('published_by', 'text')
      .addPrimaryKeyConstraint('agent_versions_pk', ['agent_id', 'version'])
      .execute();
  },
});
