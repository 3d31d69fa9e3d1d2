/**
 * A 30-day delay step across restarts, a deploy of a new version and a database restore (docs/security.md
 * H18): the run wakes once, on time, on the version it started on.
 *
 * SQLite runs on a fake clock end to end (the embedded queue compares times from the Clock port): the
 * server restarts on a copy of its data directory (a restore from a backup taken while the run waits),
 * sees nothing due a minute before the 30 days, and runs the step once just after. PostgreSQL's queue
 * (pg-boss) keeps time by the database's clock, which a test cannot move: there the restore is a
 * `CREATE DATABASE … TEMPLATE` copy, the job is checked to be due in 30 days, and then made due now.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  POSTGRES_ADMIN_URL,
  STORE_KINDS,
  createTestDatabase,
  type TestDatabase,
} from '../helpers/databases.ts';
import { startLedger } from '../helpers/ledger.ts';
import { until } from '../helpers/wait.ts';

const DAY_MS = 86_400_000;
const WAIT_SECONDS = 30 * 86_400;

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = POSTGRES_ADMIN_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A copy of the database as it is now, the way a restore from a backup brings it back. */
async function restoredCopy(db: TestDatabase): Promise<TestDatabase> {
  if (db.kind === 'sqlite') {
    const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-restore-'));
    await cp(db.dataDir, dataDir, { recursive: true });
    return {
      ...db,
      dataDir,
      env: { SWITCHBOARD_DATA_DIR: dataDir },
      drop: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const source = new URL(db.databaseUrl!).pathname.slice(1);
  const name = `${source}_restored`;
  await admin((c) => c.query(`create database ${name} template ${source}`));
  const url = new URL(db.databaseUrl!);
  url.pathname = `/${name}`;
  return {
    ...db,
    databaseUrl: url.toString(),
    env: { ...db.env, SWITCHBOARD_DATABASE_URL: url.toString() },
    drop: async () => {
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

describe.each(STORE_KINDS)('a 30-day wait on %s', (kind) => {
  it(
    'wakes once, on time, on its pinned version, across restarts and a restore',
    { timeout: 90_000 },
    async ({ onTestFinished }) => {
      const ledger = await startLedger();
      onTestFinished(() => ledger.upstream.close());
      // starts at the real time: on PostgreSQL the queue's due times are the database's
      let now = Date.now();
      const clock = { now: () => now };
      const env = { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' };
      const db = await createTestDatabase(kind);
      onTestFinished(() => db.drop());
      const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
      const open = new Set<TestApp>();
      onTestFinished(async () => {
        for (const app of open) await app.close();
      });
      /** The server starting (again) on `database`, working its queue. */
      const boot = async (database: TestDatabase) => {
        const app = await startTestApp(kind, env, { clock, reuse: { db: database, adminKey } });
        open.add(app);
        await app.startWork();
        return app;
      };
      const shut = async (app: TestApp) => {
        open.delete(app);
        await app.close();
      };
      const first = await boot(db);

      const workflow = await first.request('POST', '/v1/workflows', {
        body: {
          name: 'Renewal reminder',
          trigger_type: 'manual-trigger',
          workflow_blocks: [
            { $kind: 'Action', id: 'wait', type: 'delay', input: { seconds: WAIT_SECONDS } },
            {
              $kind: 'Action',
              id: 'remind',
              type: 'http',
              input: { method: 'POST', url: `${ledger.upstream.url}/ledger/remind`, body: { v: 1 } },
            },
          ],
        },
      });
      expect(workflow.status, workflow.text).toBe(201);
      const workflowId = workflow.body.workflow_id as string;
      const started = await first.request('POST', `/v1/workflows/${workflowId}/runs`, {
        body: { input: {} },
      });
      expect(started.status).toBe(202);
      const runId = started.body.id as string;
      const createdAt = now;
      const runOf = (app: TestApp) => app.request('GET', `/v1/runs/${runId}`).then((r) => r.body);
      await until(
        () => runOf(first),
        (r) => r.steps?.some((s: { id: string; status: string }) => s.id === 'wait' && s.status === 'queued'),
      );

      // a deploy: a new version is published, the server restarts
      const edited = await first.request('PATCH', `/v1/workflows/${workflowId}`, {
        body: {
          workflow_blocks: [
            {
              $kind: 'Action',
              id: 'remind',
              type: 'http',
              input: { method: 'POST', url: `${ledger.upstream.url}/ledger/remind`, body: { v: 2 } },
            },
          ],
        },
      });
      expect(edited.status, edited.text).toBe(200);
      now += DAY_MS;
      await shut(first);
      const second = await boot(db);

      // a restore: the database comes back from a copy taken while the run waits
      now += 10 * DAY_MS;
      await shut(second);
      const restored = await restoredCopy(db);
      onTestFinished(() => restored.drop());
      const third = await boot(restored);

      if (kind === 'sqlite') {
        // a minute early: nothing
        now = createdAt + WAIT_SECONDS * 1000 - 60_000;
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        expect(ledger.deliveries).toHaveLength(0);
        now = createdAt + WAIT_SECONDS * 1000 + 30_000;
      } else {
        // pg-boss keeps the database's time: the job is due in 30 days; make it due now
        const due = await admin(
          (c) =>
            c.query<{ days: number }>(
              `select extract(epoch from start_after - now()) / 86400 as days from switchboard_jobs.job
              where state = 'created' and data->'payload'->>'runId' = $1`,
              [runId],
            ),
          restored.databaseUrl,
        );
        expect(due.rows).toHaveLength(1);
        expect(Number(due.rows[0]!.days)).toBeGreaterThan(29.99);
        expect(ledger.deliveries).toHaveLength(0);
        await admin(
          (c) =>
            c.query(
              `update switchboard_jobs.job set start_after = now() where state = 'created' and data->'payload'->>'runId' = $1`,
              [runId],
            ),
          restored.databaseUrl,
        );
        now = createdAt + WAIT_SECONDS * 1000 + 30_000;
      }
      const run = await until(
        () => runOf(third),
        (r) => r.status === 'succeeded' || r.status === 'failed',
        20_000,
        100,
      );
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(run.version_number).toBe(1);
      expect(ledger.deliveries.map((d) => d.body)).toEqual([{ v: 1 }]);
      const remind = run.steps.find((s: { id: string }) => s.id === 'remind');
      if (kind === 'sqlite') {
        // woke within a minute of its time, by the server's clock
        expect(
          Math.abs(Date.parse(remind.started_at) - (createdAt + WAIT_SECONDS * 1000)),
        ).toBeLessThanOrEqual(60_000);
      }

      // another restart later: it does not wake again
      now += DAY_MS;
      await shut(third);
      const fourth = await boot(restored);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(ledger.deliveries).toHaveLength(1);
      expect((await runOf(fourth)).status).toBe('succeeded');
    },
  );
});
