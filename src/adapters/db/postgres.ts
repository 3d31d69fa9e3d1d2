/**
 * Kysely over node-postgres. The pool's type parsers make PostgreSQL hand back the same shapes SQLite
 * does, so repositories need no per-dialect branches: timestamptz as an ISO string, int8 as a number,
 * json/jsonb as the raw JSON text.
 */
import pg from 'pg';
import { PostgresDialect } from 'kysely';

const TIMESTAMPTZ = 1184;
const INT8 = 20;
const JSON_OID = 114;
const JSONB = 3802;

const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    if (oid === TIMESTAMPTZ) return (value: string) => parseTimestamp(value).toISOString();
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === JSON_OID || oid === JSONB) return (value: string) => value;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface OpenedPostgres {
  dialect: PostgresDialect;
  pool: pg.Pool;
}

export function openPostgres(url: string, poolSize: number): OpenedPostgres {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'switchboard',
  });
  // An idle client losing its connection (a PostgreSQL restart) must not crash the process; the pool
  // replaces it and the next query reports the outage to its caller.
  pool.on('error', () => {});
  // The same for a checked-out client between two statements (inside a transaction): pg emits the
  // connection's error on the client, which has no listener while it is out of the pool. The statement
  // that follows fails with the outage, and the pool drops the broken client when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  return { dialect: new PostgresDialect({ pool }), pool };
}
