/**
 * The SQLite writer thread stops when it has had nothing to write for a while and starts again with the
 * next batch: every batch is committed either way, and closing fails nothing that was committed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_ACTIVITY_FILE_NAME, openStore } from '../../src/adapters/db/store.ts';
import { SqliteWriter, type ExecutionRow } from '../../src/adapters/db/sqlite-writer.ts';

const row = (id: string): ExecutionRow => [
  id,
  'org',
  'action',
  1,
  'succeeded',
  null,
  new Date().toISOString(),
  3,
  JSON.stringify({ id }),
];

describe('the SQLite writer thread', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchboard-writer-'));
    // the store's migrations make the activity database's tables
    await (await openStore({ dataDir: dir })).close();
    file = join(dir, SQLITE_ACTIVITY_FILE_NAME);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stops when idle and starts again with the next batch, committing every batch', async () => {
    const writer = new SqliteWriter(file, { idleStopMs: 20 });
    await writer.insertExecutions([row('first-1'), row('first-2')]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writer.insertExecutions([row('second-1')]);
    await Promise.all([writer.insertExecutions([row('third-1')]), writer.insertExecutions([row('third-2')])]);
    await writer.close();
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const ids = (db.prepare('select id from executions order by id').all() as { id: string }[]).map(
        (r) => r.id,
      );
      expect(ids).toEqual(['first-1', 'first-2', 'second-1', 'third-1', 'third-2']);
    } finally {
      db.close();
    }
  });
});
