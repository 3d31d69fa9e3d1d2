import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/** Organizations, API keys, master key versions, secrets and settings. */
export const foundation: MigrationFactory = (t) => ({
  async up(db) {
    await db.schema
      .createTable('organizations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scopes', sql.raw(t.json), (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('last_used_at', sql.raw(t.timestamp))
      .addColumn('revoked_at', sql.raw(t.timestamp))
      .execute();
    await db.schema
      .createIndex('api_keys_organization')
      .on('api_keys')
      .columns(['organization_id', 'id'])
      .execute();

    await db.schema
      .createTable('master_keys')
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('secrets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('ciphertext', sql.raw(t.blob), (c) => c.notNull())
      .addColumn('nonce', sql.raw(t.blob), (c) => c.notNull())
      .addColumn('key_version', 'integer', (c) => c.notNull().references('master_keys.version'))
      .addColumn('allowed_hosts', sql.raw(t.json), (c) => c.notNull())
      .addColumn('created_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addUniqueConstraint('secrets_organization_name', ['organization_id', 'name'])
      .execute();
    await db.schema
      .createIndex('secrets_organization')
      .on('secrets')
      .columns(['organization_id', 'id'])
      .execute();
  },
});
