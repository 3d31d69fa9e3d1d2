/**
 * A rolling deploy during active runs (docs/security.md H15): SIGTERM to the process working the queue while
 * eight runs of three slow `http` steps are in flight. It stops claiming at once, finishes the steps in
 * hand and commits them, hands the runs' next steps to new jobs, and exits 0 well inside the shutdown
 * timeout. Afterwards no step is left "running", and a new process finishes every run at once (the 30 s
 * lease is never waited out, so nothing was left claimed); every step ran exactly once.
 *
 * SQLite: the server itself works the queue; an API-only server on the same data dir looks at the runs
 * in between. PostgreSQL: an API process and a worker, then a second worker.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'vitest';
import { createTestDatabase, STORE_KINDS } from '../helpers/databases.ts';
import { ledgerChain, startLedger } from '../helpers/ledger.ts';
import { call, startServer, startWorker, type ServerProcess } from '../helpers/process.ts';
import { until } from '../helpers/wait.ts';

const RUNS = 8;
const STEPS = ['a', 'b', 'c'] as const;
/** How long the upstream takes to answer each step: long enough to SIGTERM with steps in flight. */
const STEP_MS = 400;

interface RunView {
  id: string;
  status: string;
  steps: { id: string; status: string; attempts: number }[];
}

describe.each(STORE_KINDS)('SIGTERM during active workflow runs on %s', (kind) => {
  it(
    'finishes the steps in hand, exits 0, and leaves nothing claimed',
    { timeout: 90_000 },
    async ({ onTestFinished, expect }) => {
      const db = await createTestDatabase(kind);
      onTestFinished(() => db.drop());
      const ledger = await startLedger({ delayMs: STEP_MS });
      onTestFinished(() => ledger.upstream.close());
      const key = `e2e-admin-${randomBytes(12).toString('hex')}`;
      // the default 30 s lease and shutdown timeout: a job left claimed would hold its run for 30 s
      const env = { ...db.env, SWITCHBOARD_ADMIN_KEY: key, SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' };
      const apiOnly = { ...env, SWITCHBOARD_WORK_QUEUE: 'false' };
      const processes: ServerProcess[] = [];
      onTestFinished(async () => {
        await Promise.all(processes.map((p) => p.stop('SIGKILL')));
      });
      const spawn = async (entry: 'server' | 'worker', processEnv: Record<string, string>) => {
        const p = await (entry === 'server' ? startServer : startWorker)(processEnv, db.dataDir);
        processes.push(p);
        return p;
      };

      let api = await spawn('server', kind === 'sqlite' ? env : apiOnly);
      const working = kind === 'sqlite' ? api : await spawn('worker', env);
      const workflow = await call(`${api.url}/v1/workflows`, key, {
        body: ledgerChain(ledger, 'Rolling deploy'),
      });
      expect(workflow.status, JSON.stringify(workflow.body)).toBe(201);
      const runIds: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        const started = await call(`${api.url}/v1/workflows/${workflow.body.workflow_id}/runs`, key, {
          body: { input: { order_id: `R-${i}` } },
        });
        expect(started.status).toBe(202);
        runIds.push(started.body.id as string);
      }

      // four jobs at once: the first four runs have sent a and b, so their b is in flight
      await until(
        async () => ledger.deliveries.length,
        (n) => n >= RUNS,
        20_000,
      );
      const deliveredAtSigterm = ledger.deliveries.length;
      const signalledAt = Date.now();
      const code = await working.stop('SIGTERM');
      const stoppedInMs = Date.now() - signalledAt;
      expect(code, working.output()).toBe(0);
      // the steps in hand take STEP_MS; nothing waits for the 30 s timeout
      expect(stoppedInMs).toBeLessThan(10_000);
      // it stopped starting steps: at most one that was starting as the signal came (were it not so,
      // each job in hand would go on to its run's next step, and queued jobs would be claimed)
      const sentWhileStopping = ledger.deliveries.length - deliveredAtSigterm;
      expect(sentWhileStopping).toBeLessThanOrEqual(1);

      // nothing left half-done: every step record is finished or waiting for its job
      if (kind === 'sqlite') api = await spawn('server', apiOnly);
      const runs = await Promise.all(
        runIds.map(async (id) => (await call(`${api.url}/v1/runs/${id}`, key)).body as RunView),
      );
      const statuses = runs.flatMap((r) => r.steps.map((s) => s.status));
      expect(statuses).not.toContain('running');
      expect(runs.some((r) => r.status !== 'succeeded')).toBe(true); // the deploy did interrupt runs

      // a new process takes over at once: no job was left claimed until its lease lapses
      const tookOverAt = Date.now();
      await spawn('worker', env);
      const finished = await Promise.all(
        runIds.map((id) =>
          until(
            async () => (await call(`${api.url}/v1/runs/${id}`, key)).body as RunView,
            (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
            20_000,
            100,
          ),
        ),
      );
      const recoveryMs = Date.now() - tookOverAt;
      for (const run of finished) expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(recoveryMs).toBeLessThan(10_000);

      // every step ran once: one delivery and one effect per step key, one attempt each
      const keys = runIds.flatMap((id) => STEPS.map((s) => `run:${id}:step:${s}`));
      expect(ledger.deliveries.map((d) => d.key).sort()).toEqual([...keys].sort());
      expect([...ledger.effects.values()].every((n) => n === 1)).toBe(true);
      for (const run of finished) expect(run.steps.map((s) => s.attempts)).toEqual([1, 1, 1]);
      console.info(
        `workflow-shutdown on ${kind}: stopped ${stoppedInMs} ms after SIGTERM with ${deliveredAtSigterm} of ${keys.length} steps sent (${sentWhileStopping} more while stopping); the rest finished ${recoveryMs} ms after a new worker started`,
      );
    },
  );
});
