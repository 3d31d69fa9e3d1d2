import type { Migration } from 'kysely/migration';

export type DialectName = 'sqlite' | 'postgres';

/** The column type names that differ between the two stores; everything else is written once. */
export interface ColumnTypes {
  json: string;
  timestamp: string;
  blob: string;
  bigint: string;
}

export const columnTypes = (dialect: DialectName): ColumnTypes =>
  dialect === 'postgres'
    ? { json: 'jsonb', timestamp: 'timestamptz', blob: 'bytea', bigint: 'bigint' }
    : { json: 'text', timestamp: 'text', blob: 'blob', bigint: 'integer' };

/** A migration written once for both stores. Migrations are append-only: never edit a released one. */
export type MigrationFactory = (types: ColumnTypes, dialect: DialectName) => Migration;
