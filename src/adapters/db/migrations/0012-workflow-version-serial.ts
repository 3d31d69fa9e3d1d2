import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * A numeric serial per workflow version, assigned by the database when the row is inserted: OpenCX's
 * workflows API answers a version's `id` as a number (OpenCX's "Version serial ID"), while versions keep
 * their text ids everywhere else. Existing rows get one too.
 *
 * PostgreSQL: an identity column. SQLite cannot add one to a table with rows, so the column is filled from
 * the rowid once and then, on each insert, by a trigger from the largest serial (unique-indexed, so that
 * is one index seek; the single writer makes it race-free).
 */
export const workflowVersionSerial: MigrationFactory = (_t, dialect) => ({
  async up(db) {
    if (dialect === 'postgres') {
      await db.schema
        .alterTable('workflow_versions')
        .addColumn('serial', 'bigint', (c) => c.generatedByDefaultAsIdentity())
        .execute();
    } else {
      await db.schema.alterTable('workflow_versions').addColumn('serial', 'integer').execute();
      await sql`update workflow_versions set serial = rowid`.execute(db);
      await sql`
        create trigger workflow_versions_serial after insert on workflow_versions
        for each row when new.serial is null
        begin
          update workflow_versions
             set serial = (select coalesce(max(serial), 0) + 1 from workflow_versions)
           where rowid = new.rowid;
        end`.execute(db);
    }
    await db.schema
      .createIndex('workflow_versions_serial')
      .on('workflow_versions')
      .column('serial')
      .unique()
      .execute();
  },
});
