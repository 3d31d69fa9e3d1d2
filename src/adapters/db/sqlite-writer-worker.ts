/**
 * The SQLite writer thread: its own connection to the activity database, inserting execution records
 * in one transaction per batch. Running here, a slow disk (a commit's write, a WAL checkpoint's fsync) never blocks the event
 * loop that serves requests.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { SQLITE_PRAGMAS } from './sqlite-pragmas.ts';

export interface WriterRequest {
  id: number;
  rows: readonly (readonly [string, string, string, number, string, string | null, string, number, string])[];
}

/** Sent when the writer is idle: the connection closes cleanly and the thread ends. */
export interface WriterStop {
  stop: true;
}

export type WriterReply =
  | { id: number; ok: true }
  | { id: number; ok: false; message: string; code?: string | undefined; errcode?: number | undefined };

/**
 * A record replaces an earlier one with its id (a post-call execution is recorded `queued`, then as each
 * attempt ends), except that a `queued` record never replaces another. Keep in step with the PostgreSQL
 * path in repositories/executions.ts.
 */
const UPSERT =
  'on conflict (id) do update set action_version = excluded.action_version, status = excluded.status, ' +
  'category = excluded.category, started_at = excluded.started_at, duration_ms = excluded.duration_ms, ' +
  "record = excluded.record where excluded.status <> 'queued'";
const { file } = workerData as { file: string };
const db = new DatabaseSync(file, { enableForeignKeyConstraints: true });
db.exec(SQLITE_PRAGMAS);
const insert = db.prepare(
  'insert into executions (id, organization_id, action_id, action_version, status, category, started_at, duration_ms, record) values (?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
    UPSERT,
);

parentPort?.on('message', (message: WriterRequest | WriterStop) => {
  if ('stop' in message) {
    db.close();
    parentPort?.close();
    return;
  }
  const { id, rows } = message;
  try {
    db.exec('begin immediate');
    try {
      for (const row of rows) insert.run(...row);
      db.exec('commit');
    } catch (error) {
      db.exec('rollback');
      throw error;
    }
    parentPort?.postMessage({ id, ok: true } satisfies WriterReply);
  } catch (error) {
    const e = error as { message: string; code?: string; errcode?: number };
    parentPort?.postMessage({
      id,
      ok: false,
      message: e.message,
      code: e.code,
      errcode: e.errcode,
    } satisfies WriterReply);
  }
});
