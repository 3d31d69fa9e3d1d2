/**
 * The database goes away under running workflows (docs/security.md H05): PostgreSQL behind a TCP proxy the
 * test cuts (every connection reset, new ones refused), SQLite with another connection holding the
 * file's write lock. Meanwhile writes answer 503 with Retry-After, never a 500; readiness says
 * unavailable; the queue backs off instead of spinning. When the database is back, new runs are taken
 * within 10 s, and every run accepted before or after finishes with one effect per step.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/adapters/db/store.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { POSTGRES_ADMIN_URL, STORE_KINDS } from '../helpers/databases.ts';
import { ledgerChain, startLedger, type Ledger } from '../helpers/ledger.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { until } from '../helpers/wait.ts';

const throughProxy = (databaseUrl: string, proxy: TcpProxy) => {
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${proxy.port}`;
  return url.toString();
};

/** Long enough for SQLite's 5 s busy timeout to run out more than once. */
const OUTAGE_MS = 12_000;

describe.each(STORE_KINDS)('workflow runs while the database is down on %s', (kind) => {
  let t: TestApp;
  let ledger: Ledger;
  let proxy: TcpProxy | undefined;
  let workflowId: string;

  const startRun = (order: string) =>
    t.request('POST', `/v1/workflows/${workflowId}/runs`, { body: { input: { order_id: order } } });

  /** Takes the database away until the returned function is called. */
  async function outage(): Promise<() => Promise<void>> {
    if (proxy) {
      await proxy.cut();
      return () => proxy!.restore();
    }
    const blocker = new DatabaseSync(join(t.db.dataDir, SQLITE_FILE_NAME));
    blocker.exec('begin exclusive');
    return async () => {
      blocker.exec('commit');
      blocker.close();
    };
  }

  beforeAll(async () => {
    ledger = await startLedger({ delayMs: 200 });
    if (kind === 'postgres') {
      const server = new URL(POSTGRES_ADMIN_URL);
      proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    }
    t = await startTestApp(kind, (db) => ({
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '4000',
      SWITCHBOARD_JOB_RETRY_BASE_MS: '50',
      ...(proxy && db.databaseUrl ? { SWITCHBOARD_DATABASE_URL: throughProxy(db.databaseUrl, proxy) } : {}),
    }));
    await t.startWork();
    const workflow = await t.request('POST', '/v1/workflows', {
      body: ledgerChain(ledger, 'Outage'),
    });
    expect(workflow.status, workflow.text).toBe(201);
    workflowId = workflow.body.workflow_id as string;
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await ledger?.upstream.close();
  });

  it('answers 503 with Retry-After, backs off, and loses no run', { timeout: 120_000 }, async () => {
    const before: string[] = [];
    for (const order of ['O-1', 'O-2', 'O-3']) {
      const started = await startRun(order);
      expect(started.status).toBe(202);
      before.push(started.body.id as string);
    }
    await until(
      async () => ledger.deliveries.length,
      (n) => n >= 2,
    );
    const logsBefore = t.logs.length;
    const restore = await outage();
    const outageBegan = Date.now();

    const refused = await startRun('O-refused');
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const ready = await t.request('GET', '/readyz', { key: null });
    expect(ready.status).toBe(503);
    expect(ready.headers['retry-after']).toBe('5');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageBegan))));
    const during = t.logs.slice(logsBefore);
    await restore();
    const restoredAt = Date.now();

    // the queue waited with growing pauses (capped at 5 s) rather than retrying in a loop
    const claimFailures = during.filter((line) => line.includes('claiming jobs failed')).length;
    expect(claimFailures).toBeLessThan(40);

    // back within 10 s: readiness, then a new run accepted
    await until(
      async () => (await t.request('GET', '/readyz', { key: null })).status,
      (status) => status === 200,
      10_000,
      100,
    );
    const after = await until(
      () => startRun('O-after'),
      (r) => r.status === 202,
      10_000,
      100,
    );
    expect(Date.now() - restoredAt).toBeLessThan(10_000);

    // H06: each step's commit is atomic, so no step has an output without its status or the reverse
    for (const id of before) {
      const { steps } = (await t.request('GET', `/v1/runs/${id}`)).body;
      for (const step of steps as { status: string; output: unknown; finished_at: string | null }[])
        expect(step.status === 'succeeded', JSON.stringify(step)).toBe(
          step.output !== null && step.finished_at !== null,
        );
    }

    // every run accepted finishes (an interrupted step within a lease), each step's effect once
    const runIds = [...before, after.body.id as string];
    for (const id of runIds) {
      const run = await until(
        async () => (await t.request('GET', `/v1/runs/${id}`)).body,
        (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status as string),
        20_000,
        100,
      );
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
    }
    const keys = runIds.flatMap((id) => ['a', 'b', 'c'].map((s) => `run:${id}:step:${s}`));
    expect([...ledger.effects.keys()].sort()).toEqual([...keys].sort());
    expect([...ledger.effects.values()].every((n) => n === 1)).toBe(true);
  });
});
