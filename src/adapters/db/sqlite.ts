/**
 * Kysely over node:sqlite (built into Node 24, no native build). Kysely's SqliteDialect expects the
 * better-sqlite3 statement shape; NodeSqliteDatabase adapts node:sqlite to it, caches prepared
 * statements, and converts parameters node:sqlite does not accept (booleans, undefined).
 *
 * Besides the main connection there is a read connection with a result cache for the hot point reads
 * (API keys, action versions, secrets), so a request usually reads configuration without a read
 * transaction (each costs SQLite a handful of lock syscalls).
 */
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';
import type { ReadConnection, ReadQuery } from './repositories/shared.ts';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS, attachActivity } from './sqlite-pragmas.ts';

const STATEMENT_CACHE_SIZE = 512;
/** The main connection's own busy handler: how long a statement may hold up the event loop. */
const SYNC_BUSY_TIMEOUT_MS = 20;
const READ_CACHE_SIZE = 5_000;
/**
 * How often the read cache asks SQLite whether another process changed the configuration. Changes made
 * by this process clear the cache at once; another process's (a CLI revocation) are seen within this.
 */
const REVALIDATE_MS = 10;

export interface OpenedSqlite {
  dialect: SqliteDialect;
  /** Opens the read connection for hot point reads; call after migrations created the tables. */
  openReader(): ReadConnection & { close(): void };
}

/** The main database at `file` with the activity database at `activityFile` attached. */
export function openSqlite(file: string, activityFile: string): OpenedSqlite {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const database = new DatabaseSync(file, {
    enableForeignKeyConstraints: true,
    timeout: SYNC_BUSY_TIMEOUT_MS,
  });
  database.exec(SQLITE_PRAGMAS);
  database.exec(`PRAGMA busy_timeout = ${SYNC_BUSY_TIMEOUT_MS}`);
  attachActivity(database, activityFile);
  const readers = new Set<ReadCache>();
  const main = new NodeSqliteDatabase(database, () => readers.forEach((r) => r.invalidate()));
  return {
    dialect: new ImmediateSqliteDialect({ database: main }, database),
    openReader() {
      const reader = new ReadCache(file);
      readers.add(reader);
      return {
        all: (query, parameters) => reader.all(query, parameters),
        generation: () => reader.generation(),
        close: () => {
          readers.delete(reader);
          reader.close();
        },
      };
    },
  };
}

/**
 * Results of point reads on a read-only connection (which sees only committed data). Valid until this
 * process writes the main file (`invalidate`, called on every write statement and every commit) or
 * PRAGMA data_version says another connection committed (checked at most every REVALIDATE_MS by reads,
 * and on every call of generation()). Rows are kept per query, by parameter values.
 */
class ReadCache {
  readonly #db: DatabaseSync;
  readonly #dataVersion: StatementSync;
  readonly #queries = new Map<number, { statement: StatementSync; rows: Map<string, unknown[]> }>();
  #size = 0;
  #version: unknown;
  #checkedAt = 0;
  #generation = 0;

  constructor(file: string) {
    this.#db = new DatabaseSync(file, { readOnly: true, timeout: SQLITE_BUSY_TIMEOUT_MS });
    this.#dataVersion = this.#db.prepare('PRAGMA data_version');
  }

  invalidate(): void {
    this.#clear();
    this.#checkedAt = 0;
  }

  #clear(): void {
    for (const query of this.#queries.values()) query.rows.clear();
    this.#size = 0;
    this.#generation++;
  }

  #revalidate(now: number): void {
    const version = (this.#dataVersion.get() as { data_version: number }).data_version;
    if (version !== this.#version) {
      this.#clear();
      this.#version = version;
    }
    this.#checkedAt = now;
  }

  generation(): number {
    this.#revalidate(performance.now());
    return this.#generation;
  }

  all(query: ReadQuery, parameters: readonly unknown[]): unknown[] {
    const now = performance.now();
    if (now - this.#checkedAt >= REVALIDATE_MS) this.#revalidate(now);
    let cached = this.#queries.get(query.id);
    if (!cached) {
      cached = { statement: this.#db.prepare(query.sql), rows: new Map() };
      this.#queries.set(query.id, cached);
    }
    const key = parameters.length === 1 ? String(parameters[0]) : parameters.join('\u0000');
    let rows = cached.rows.get(key);
    if (!rows) {
      rows = cached.statement.all(...toSqlite(parameters));
      if (this.#size >= READ_CACHE_SIZE) this.#clear();
      cached.rows.set(key, rows);
      this.#size++;
    }
    return rows;
  }

  close(): void {
    this.#queries.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

/**
 * Transactions here write, so they start with BEGIN IMMEDIATE: taking the write lock up front makes a
 * second process wait for it instead of failing with SQLITE_BUSY when a deferred transaction tries to
 * upgrade its read lock.
 *
 * The wait is asynchronous. node:sqlite's own busy handler sleeps on the event loop's thread, so the
 * main connection's busy_timeout is only SYNC_BUSY_TIMEOUT_MS; past it, a statement outside a
 * transaction (BEGIN IMMEDIATE included) is tried again after a timer, for up to SQLITE_BUSY_TIMEOUT_MS
 * in all. While another process holds the write lock, requests that only read are served meanwhile,
 * and a lock held for longer than that answers "database is locked" (a 503) without stalling the
 * process (docs/security.md H05, H07).
 */
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #database: DatabaseSync;
  constructor(config: SqliteDialectConfig, database: DatabaseSync) {
    super(config);
    this.#config = config;
    this.#database = database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#database);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #database: DatabaseSync;
  #connection: DatabaseConnection | undefined;
  constructor(config: SqliteDialectConfig, database: DatabaseSync) {
    super(config);
    this.#database = database;
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    this.#connection ??= new BusyRetryConnection(await super.acquireConnection(), this.#database);
    return this.#connection;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  /**
   * SQLite rolls a transaction back itself on some errors (a full disk, an I/O error): a second rollback
   * would fail ("no transaction is active") and hide the error that ended it, which says what happened.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.#database.isTransaction) await super.rollbackTransaction(connection);
  }
}

const SQLITE_BUSY = 5;
const isBusy = (error: unknown) => ((error as { errcode?: number }).errcode ?? 0) % 256 === SQLITE_BUSY;

class BusyRetryConnection implements DatabaseConnection {
  readonly #inner: DatabaseConnection;
  readonly #database: DatabaseSync;
  constructor(inner: DatabaseConnection, database: DatabaseSync) {
    this.#inner = inner;
    this.#database = database;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const began = Date.now();
    for (let pauseMs = 5; ; pauseMs = Math.min(pauseMs * 2, 100)) {
      try {
        return await this.#inner.executeQuery<R>(query);
      } catch (error) {
        const waitedMs = Date.now() - began;
        // inside a transaction a statement cannot simply run again: the caller's transaction fails
        if (!isBusy(error) || this.#database.isTransaction || waitedMs >= SQLITE_BUSY_TIMEOUT_MS) throw error;
        await sleep(Math.min(pauseMs, SQLITE_BUSY_TIMEOUT_MS - waitedMs));
      }
    }
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#inner.streamQuery<R>(query, chunkSize);
  }
}

const READ_ONLY_SQL = /^\s*(select|pragma\s+\w+\s*$|explain)\b/i;

class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, NodeSqliteStatement>();
  readonly #onWrite: (() => void) | undefined;

  /** `onWrite` runs after every statement that may change data (COMMIT included). */
  constructor(db: DatabaseSync, onWrite?: () => void) {
    this.#db = db;
    this.#onWrite = onWrite;
  }

  prepare(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      const writes = this.#onWrite !== undefined && !READ_ONLY_SQL.test(sql);
      statement = new NodeSqliteStatement(this.#db.prepare(sql), writes ? this.#onWrite : undefined);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}

class NodeSqliteStatement implements SqliteStatement {
  readonly reader: boolean;
  readonly #statement: StatementSync;
  readonly #onWrite: (() => void) | undefined;

  constructor(statement: StatementSync, onWrite?: () => void) {
    this.#statement = statement;
    this.#onWrite = onWrite;
    this.reader = statement.columns().length > 0;
  }

  all(parameters: readonly unknown[]): unknown[] {
    try {
      return this.#statement.all(...toSqlite(parameters));
    } finally {
      this.#onWrite?.();
    }
  }

  run(parameters: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint } {
    try {
      return this.#statement.run(...toSqlite(parameters));
    } finally {
      this.#onWrite?.();
    }
  }

  iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
    return this.#statement.iterate(...toSqlite(parameters));
  }
}

function toSqlite(parameters: readonly unknown[]): SQLInputValue[] {
  return parameters.map((value) => {
    if (value === undefined) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value as SQLInputValue;
  });
}
