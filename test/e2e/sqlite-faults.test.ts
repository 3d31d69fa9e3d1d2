/**
 * SQLite's own faults (docs/security.md H07): `kill -9` in the middle of WAL writes, 100 times, leaves both
 * database files intact (`PRAGMA integrity_check` = ok) with every committed row readable; 50 runs at
 * once from a server and a worker sharing the file surface no SQLITE_BUSY; a full disk (a small tmpfs,
 * where the test may mount one) answers writes with 503, and runs are taken again once space is freed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_ACTIVITY_FILE_NAME, SQLITE_FILE_NAME } from '../../src/adapters/db/store.ts';
import { call, startServer, startWorker, type ServerProcess } from '../helpers/process.ts';
import { limit, until } from '../helpers/wait.ts';

const TRIALS = 100;
const CHURN = new URL('./fixtures/sqlite-churn.ts', import.meta.url).pathname;

/** Starts the writer on `dataDir`, kills it with SIGKILL `afterMs` after its first commit. */
function churnAndKill(dataDir: string, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHURN, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) setTimeout(() => child.kill('SIGKILL'), afterMs);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`the writer exited with ${code}: ${output}`)),
    );
  });
}

/** The file's integrity check, and how many rows its `churn` table (if any) holds. */
function check(file: string): { integrity: string; rows: number } {
  const db = new DatabaseSync(file);
  try {
    const integrity = String(Object.values(db.prepare('pragma integrity_check').get() ?? {})[0]);
    const churn = db.prepare("select count(*) as n from sqlite_master where name = 'churn'").get();
    const rows = churn?.n
      ? Number(Object.values(db.prepare('select count(*) from churn').get() ?? {})[0])
      : 0;
    return { integrity, rows };
  } finally {
    db.close();
  }
}

describe('SQLite under kill -9', () => {
  it(`keeps both files intact across ${TRIALS} kills during WAL writes`, { timeout: 180_000 }, async () => {
    const slots = limit(2);
    const results = await Promise.all(
      Array.from({ length: TRIALS }, (_, trial) =>
        slots(async () => {
          const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-kill-'));
          try {
            // a spread of moments: at once, and while the WAL grows towards its checkpoints
            await churnAndKill(dataDir, (trial * 7) % 150);
            return [check(join(dataDir, SQLITE_FILE_NAME)), check(join(dataDir, SQLITE_ACTIVITY_FILE_NAME))];
          } finally {
            await rm(dataDir, { recursive: true, force: true });
          }
        }),
      ),
    );
    const intact = results.filter(
      ([main, activity]) => main!.integrity === 'ok' && activity!.integrity === 'ok',
    );
    expect(intact).toHaveLength(TRIALS);
    // every trial had committed rows to read back (its first commit came before the kill)
    expect(results.every(([main, activity]) => main!.rows > 0 && activity!.rows > 0)).toBe(true);
  });
});

/** A small tmpfs to fill up, where this machine lets the test mount one (root, as on CI); else undefined. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes zeros to `file` until the disk is full. */
async function fill(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'switchboard-full-'));
const mounted = mountTmpfs(dir, '24m');

describe('SQLite shared by processes, and on a full disk', () => {
  afterAll(async () => {
    if (mounted) execFileSync('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });

  const setSteps = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      $kind: 'Action',
      id: `s${i}`,
      type: 'set',
      input: { values: { i, order: '{{trigger.order_id}}' } },
    }));

  async function cluster(dataDir: string, worker: boolean) {
    const key = `e2e-admin-${randomBytes(12).toString('hex')}`;
    const env = {
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_ADMIN_KEY: key,
      SWITCHBOARD_JOB_LEASE_MS: '3000',
    };
    const processes: ServerProcess[] = [await startServer(env, dataDir)];
    if (worker) processes.push(await startWorker(env, dataDir));
    const api = processes[0]!.url;
    const workflow = await call(`${api}/v1/workflows`, key, {
      body: { name: 'Busy', trigger_type: 'manual-trigger', workflow_blocks: setSteps(3) },
    });
    expect(workflow.status, JSON.stringify(workflow.body)).toBe(201);
    const start = (order: string) =>
      call(`${api}/v1/workflows/${workflow.body.workflow_id}/runs`, key, {
        body: { input: { order_id: order } },
      });
    const finished = (id: string) =>
      until(
        async () => (await call(`${api}/v1/runs/${id}`, key)).body,
        (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
        30_000,
        100,
      );
    return { key, api, processes, start, finished };
  }

  it(
    'runs 50 workflows at once from a server and a worker on one file with no SQLITE_BUSY',
    { timeout: 90_000 },
    async ({ onTestFinished }) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-busy-'));
      onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
      const c = await cluster(dataDir, true);
      onTestFinished(async () => {
        for (const p of c.processes) await p.stop('SIGKILL');
      });
      const started = await Promise.all(Array.from({ length: 50 }, (_, i) => c.start(`B-${i}`)));
      expect(started.map((r) => r.status)).toEqual(Array(50).fill(202));
      const runs = await Promise.all(started.map((r) => c.finished(r.body.id as string)));
      expect(runs.map((r) => r.status)).toEqual(Array(50).fill('succeeded'));
      for (const p of c.processes) expect(p.output()).not.toMatch(/database is locked|SQLITE_BUSY/);
    },
  );

  it.skipIf(!mounted)(
    'answers 503 on a full disk, and runs again once space is freed',
    { timeout: 90_000 },
    async ({ onTestFinished }) => {
      const c = await cluster(dir, false);
      onTestFinished(async () => {
        for (const p of c.processes) await p.stop('SIGKILL');
      });
      const filler = join(dir, 'filler');
      await fill(filler);
      const refused = await c.start('F-refused');
      expect(refused.status, JSON.stringify(refused.body)).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');

      await rm(filler);
      const accepted = await until(
        () => c.start('F-after'),
        (r) => r.status === 202,
        10_000,
        100,
      );
      expect((await c.finished(accepted.body.id as string)).status).toBe('succeeded');
      await c.processes[0]!.stop('SIGTERM');
      expect(check(join(dir, SQLITE_FILE_NAME)).integrity).toBe('ok');
    },
  );
});
