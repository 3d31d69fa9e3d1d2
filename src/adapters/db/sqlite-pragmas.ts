import type { DatabaseSync } from 'node:sqlite';

export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Every connection to the embedded database, on any thread, runs with these. */
export const SQLITE_PRAGMAS = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS};
  PRAGMA foreign_keys = ON;
`;

/**
 * High-churn records (executions, idempotency keys) live in a second file attached as `activity`.
 * A commit there does not change the main file, so readers of the configuration (keys, actions,
 * secrets) keep their page cache and can trust PRAGMA data_version. WAL makes a transaction atomic per
 * file only, so no transaction writes both configuration and activity.
 */
export const ACTIVITY_SCHEMA = 'activity';

export function attachActivity(db: DatabaseSync, file: string): void {
  db.prepare(`ATTACH DATABASE ? AS ${ACTIVITY_SCHEMA}`).run(file);
  db.exec(`PRAGMA ${ACTIVITY_SCHEMA}.journal_mode = WAL; PRAGMA ${ACTIVITY_SCHEMA}.synchronous = NORMAL;`);
}
