/**
 * Durable runs stay exactly-once when a worker loses its lease, with real processes on both stores and
 * the ledger chain a → b → c of workflow-crash.test.ts.
 *
 * Paused worker: worker A pauses itself (SIGSTOP, SWITCHBOARD_FAULT_AT=step-finished:2:stop) with b's
 * response in hand and its result not yet committed; worker B takes b over once A's lease lapses. A is
 * woken (SIGCONT) either after B committed b (B's request of c held at the ledger) or while B is still
 * inside b (B's request of b held). Either way A's commit is refused and A stops: B's result stands, c
 * runs once, and the run advances once.
 *
 * Dead job: every worker that takes the run's first step dies as it begins it (SIGKILL at
 * step-started:1). After the queue's four attempts the job is dead, and a healthy worker fails the step
 * and the run, saying the step's worker died 4 times; the run is not left `running`.
 *
 * SQLite: server processes on one data directory. PostgreSQL: an API process and worker processes.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it, vi } from 'vitest';
import { STORE_KINDS, type StoreKind } from '../helpers/databases.ts';
import { ledgerChain, startLedger, type LedgerOptions } from '../helpers/ledger.ts';
import { ROOT, call, processCluster, type ProcessCluster, type ServerProcess } from '../helpers/process.ts';
import { limit, until } from '../helpers/wait.ts';

const booting = limit(2);
vi.setConfig({ maxConcurrency: 3 });

const exited = (p: ServerProcess) => p.child.exitCode !== null || p.child.signalCode !== null;
/** The process is stopped (SIGSTOP): state T in /proc/<pid>/stat, after its command name. */
const stopped = (p: ServerProcess) => {
  const stat = readFileSync(`/proc/${p.child.pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
};

interface Setup extends ProcessCluster {
  leaseMs: number;
  /** A worker process that may die before it says it has started. */
  doomed(env: Record<string, string>): Promise<ChildProcess>;
}

/** A fresh store and processes on it (see processCluster), and doomed workers. */
async function setUp(kind: StoreKind, onTestFinished: (fn: () => Promise<void>) => void): Promise<Setup> {
  const leaseMs = kind === 'postgres' ? 10_000 : 1_500;
  const cluster = await processCluster(kind, leaseMs, onTestFinished, booting);
  // through the same start-up limit as the others, done once it has started or died
  const doomed = (processEnv: Record<string, string>) =>
    booting(
      () =>
        new Promise<ChildProcess>((resolve) => {
          const child = spawnProcess(process.execPath, [`${ROOT}src/worker.ts`], {
            cwd: cluster.db.dataDir,
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...processEnv },
          });
          onTestFinished(async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          });
          child.stdout.resume();
          child.stderr.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('worker started')) resolve(child);
          });
          child.once('exit', () => resolve(child));
        }),
    );
  return { ...cluster, leaseMs, doomed };
}

/** The API process: on PostgreSQL one that works no queue, so that the test chooses who does. */
const startApi = (kind: StoreKind, { env, spawn }: Setup) =>
  kind === 'sqlite' ? undefined : spawn('server', { ...env, SWITCHBOARD_WORK_QUEUE: 'false' });

/** A process that works the queue: on SQLite a server (which also answers the API). */
const startWorking = (kind: StoreKind, { spawn }: Setup, env: Record<string, string>) =>
  spawn(kind === 'sqlite' ? 'server' : 'worker', env);

interface PauseCase {
  when: string;
  /** Which request the ledger holds: B's of c (B has committed b) or B's of b (B is inside b). */
  hold: LedgerOptions['holdNth'];
  /** B's commit of b comes after the test releases the held request. */
  bCommitsAfterRelease: boolean;
}

const PAUSES: PauseCase[] = [
  {
    when: 'after its successor committed the step',
    hold: { step: 'c', nth: 1 },
    bCommitsAfterRelease: false,
  },
  {
    when: 'while its successor still runs the step',
    hold: { step: 'b', nth: 2 },
    bCommitsAfterRelease: true,
  },
];

describe.each(STORE_KINDS)('workflow step leases on %s', (kind) => {
  it.for(PAUSES)(
    'refuses the commit of a worker woken $when',
    { timeout: 90_000, concurrent: kind === 'postgres' },
    async (c, { onTestFinished, expect }) => {
      const setup = await setUp(kind, onTestFinished);
      const ledger = await startLedger({ holdNth: c.hold });
      onTestFinished(async () => {
        ledger.held.splice(0).forEach((answer) => answer());
        await ledger.upstream.close();
      });
      const api = await startApi(kind, setup);
      const a = await startWorking(kind, setup, {
        ...setup.env,
        SWITCHBOARD_FAULT_AT: 'step-finished:2:stop',
      });
      // the API answers from the newest process that serves it (on SQLite, A pauses and B replaces it)
      const serving = [a];
      const origin = () => (api ?? serving.at(-1) ?? a).url;

      const workflow = await call(`${origin()}/v1/workflows`, setup.key, {
        body: ledgerChain(ledger, c.when),
      });
      expect(workflow.status, JSON.stringify(workflow.body)).toBe(201);
      const started = await call(`${origin()}/v1/workflows/${workflow.body.workflow_id}/runs`, setup.key, {
        body: { input: { order_id: 'P-1' } },
      });
      expect(started.status).toBe(202);
      const runId = started.body.id as string;

      // A has b's response and pauses before committing it; B takes b over once A's lease lapses
      await until(
        async () => stopped(a),
        (s) => s,
        20_000,
      );
      serving.push(await startWorking(kind, setup, setup.env));
      await until(
        async () => ledger.held.length,
        (n) => n === 1,
        setup.leaseMs + 20_000,
      );
      const wokenAt = Date.now();
      a.child.kill('SIGCONT');
      await until(
        async () => a.output(),
        (out) => out.includes('step result discarded'),
        10_000,
      ).catch(() => {
        throw new Error(`worker A did not report its refused commit:\n${a.output().slice(-2_000)}`);
      });
      const releasedAt = Date.now();
      ledger.held.splice(0).forEach((answer) => answer());

      const run = await until(
        async () => (await call(`${origin()}/v1/runs/${runId}`, setup.key)).body,
        (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
        20_000,
      );
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      const step = (id: string) =>
        (run.steps as { id: string }[]).find((s) => s.id === id) as Record<string, any>;
      expect(run.steps.map((s: { id: string }) => s.id)).toEqual(['a', 'b', 'c']);
      // b ran twice (A's attempt and B's), c once: the run advanced once, from B's commit
      expect(['a', 'b', 'c'].map((s) => step(s).attempts)).toEqual([1, 2, 1]);
      expect(['a', 'b', 'c'].map((s) => ledger.deliveries.filter((d) => d.step === s).length)).toEqual([
        1, 2, 1,
      ]);
      expect([...ledger.effects.values()]).toEqual([1, 1, 1]);
      const committedB = Date.parse(step('b').finished_at);
      if (c.bCommitsAfterRelease) {
        expect(committedB).toBeGreaterThanOrEqual(releasedAt - 5);
        expect(Date.parse(step('c').started_at)).toBeGreaterThanOrEqual(committedB);
      } else expect(committedB).toBeLessThan(wokenAt);
      expect(step('c').output.after).toBe(step('b').output.receipt);
      expect(exited(a)).toBe(false); // A stopped its job, not itself
    },
  );

  it(
    'fails the step and the run when the step’s worker died on every attempt',
    { timeout: 150_000 },
    async ({ onTestFinished, expect }) => {
      const setup = await setUp(kind, onTestFinished);
      const ledger = await startLedger();
      onTestFinished(() => ledger.upstream.close());
      const api = await setup.spawn('server', { ...setup.env, SWITCHBOARD_WORK_QUEUE: 'false' });
      const workflow = await call(`${api.url}/v1/workflows`, setup.key, {
        body: ledgerChain(ledger, 'Doomed'),
      });
      expect(workflow.status).toBe(201);
      const started = await call(`${api.url}/v1/workflows/${workflow.body.workflow_id}/runs`, setup.key, {
        body: { input: { order_id: 'D-1' } },
      });
      expect(started.status).toBe(202);

      // four workers, each dying as it begins the step: one per attempt the queue allows
      const doomed: ChildProcess[] = [];
      for (let i = 0; i < 4; i++)
        doomed.push(await setup.doomed({ ...setup.env, SWITCHBOARD_FAULT_AT: 'step-started:1' }));
      await until(
        async () => doomed.filter((p) => p.exitCode !== null || p.signalCode !== null).length,
        (n) => n === 4,
        4 * (setup.leaseMs + 15_000),
      );
      for (const p of doomed) expect(p.signalCode).toBe('SIGKILL');
      await startWorking(kind, setup, setup.env);

      const run = await until(
        async () => (await call(`${api.url}/v1/runs/${started.body.id}`, setup.key)).body,
        (r) => r.status !== 'running' && r.status !== 'queued',
        setup.leaseMs + 30_000,
      );
      const error = {
        step_id: 'a',
        category: 'worker_died',
        message: expect.stringMatching(/^The step's worker died 4 times/),
      };
      expect(run).toMatchObject({ status: 'failed', error });
      expect(run.steps).toEqual([expect.objectContaining({ id: 'a', status: 'failed', attempts: 4, error })]);
      expect(ledger.deliveries).toEqual([]);
    },
  );
});
