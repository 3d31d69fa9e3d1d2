import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import { ACTIVITY_SCHEMA } from '../sqlite-pragmas.ts';
import type { DialectName } from './types.ts';

/**
 * Tables of activity (executions, idempotency keys, held requests): on SQLite they live in the attached
 * activity file (see sqlite-pragmas.ts), where no foreign key can reach the organizations table; on
 * PostgreSQL they are ordinary tables with one.
 */
export function activityTables(db: Kysely<unknown>, dialect: DialectName) {
  const activity = dialect === 'sqlite' ? ACTIVITY_SCHEMA : undefined;
  return {
    schema: activity ? db.schema.withSchema(activity) : db.schema,
    /** The organization_id column: not null, and on PostgreSQL a cascading foreign key. */
    organization: (c: ColumnDefinitionBuilder) =>
      activity ? c.notNull() : c.notNull().references('organizations.id').onDelete('cascade'),
    index: (name: string, table: string, columns: string[]) =>
      activity
        ? sql`create index ${sql.id(activity, name)} on ${sql.id(table)} (${sql.join(columns.map((c) => sql.id(c)))})`.execute(
            db,
          )
        : db.schema.createIndex(name).on(table).columns(columns).execute(),
  };
}
