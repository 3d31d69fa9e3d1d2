/**
 * Durable workflow runs survive `kill -9` at each stage of a step (docs/security.md G-15, G-16, H01, H02): a
 * run of three `http` steps (a → b → c, each reading the previous step's output) against an upstream
 * that applies one effect per Idempotency-Key and answers a replay with the stored response. The middle
 * step `b` is interrupted before it starts, while its request is in flight, after its response and
 * before its commit, and after its commit; a run is also interrupted between its insert and its first
 * job. Another process finishes the run: the upstream sees exactly one effect per step key, finished
 * steps never run again, and later steps read the stored outputs.
 *
 * SQLite: one server process with SWITCHBOARD_FAULT_AT dies; a fresh process on the same data dir takes
 * over. PostgreSQL: an API process (SWITCHBOARD_WORK_QUEUE=false) and two workers. The doomed worker
 * starts alone, so it is the one that takes every job up to `b`; the healthy one starts as soon as the
 * doomed one is inside `b` (its request held at the upstream, so both workers run while the lease is
 * live) or, when the fault strikes before the request, once it has died. The healthy worker can only take
 * `b` over after the lease lapses.
 */
import { afterAll, describe, it, vi } from 'vitest';
import { STORE_KINDS, type StoreKind } from '../helpers/databases.ts';
import { ledgerChain, startLedger } from '../helpers/ledger.ts';
import { call, processCluster, type ServerProcess, type Spawn } from '../helpers/process.ts';
import { limit, until } from '../helpers/wait.ts';

const dead = (p: ServerProcess) => p.child.exitCode !== null || p.child.signalCode !== null;
const STEPS = ['a', 'b', 'c'] as const;

interface Case {
  /** Where the process dies. */
  stage: string;
  /** SWITCHBOARD_FAULT_AT for the doomed process; none when the test kills it itself. */
  fault?: string;
  /** The first request of `b` is held at the upstream until the doomed process is killed or released. */
  holdsB: boolean;
  /** The test sends the SIGKILL (while `b`'s request is held). */
  killedByTest: boolean;
  /** Expected attempts and upstream deliveries of `b` (a and c always 1 and 1). */
  attemptsB: number;
  deliveriesB: number;
}

// a's step counts as 1 at each point, so `:2` strikes in b; run-saved strikes in the API process.
const CASES: Case[] = [
  {
    stage: 'before the step starts',
    fault: 'step-started:2',
    holdsB: false,
    killedByTest: false,
    attemptsB: 2,
    deliveriesB: 1,
  },
  { stage: 'after the request is sent', holdsB: true, killedByTest: true, attemptsB: 2, deliveriesB: 2 },
  {
    stage: 'after the response, before the commit',
    fault: 'step-finished:2',
    holdsB: true,
    killedByTest: false,
    attemptsB: 2,
    deliveriesB: 2,
  },
  {
    stage: 'after the commit, before the next step',
    fault: 'step-committed:2',
    holdsB: true,
    killedByTest: false,
    attemptsB: 1,
    deliveriesB: 1,
  },
  {
    stage: 'after the run is saved, before its first job',
    fault: 'run-saved:1',
    holdsB: false,
    killedByTest: false,
    attemptsB: 1,
    deliveriesB: 1,
  },
];

const booting = limit(2);
// concurrent PostgreSQL cases overlap their lease waits; more than three at once starves start-ups (per file)
vi.setConfig({ maxConcurrency: 3 });

/**
 * The processes of one case. `doomed` is the one that dies; `whileHeld` runs while it is inside `b`
 * (its request held), `afterDeath` once it has died; `api()` is the origin to call at that moment.
 */
interface Cluster {
  api(): string;
  doomed: ServerProcess;
  whileHeld(): Promise<void>;
  afterDeath(): Promise<void>;
}

async function startCluster(
  kind: StoreKind,
  c: Case,
  env: Record<string, string>,
  spawn: Spawn,
): Promise<Cluster> {
  const fault: Record<string, string> = c.fault ? { SWITCHBOARD_FAULT_AT: c.fault } : {};
  const inApi = c.fault?.startsWith('run-saved') ?? false;
  if (kind === 'sqlite') {
    let server = await spawn('server', { ...env, ...fault });
    return {
      api: () => server.url,
      doomed: server,
      whileHeld: async () => undefined,
      afterDeath: async () => {
        server = await spawn('server', env);
      },
    };
  }
  const apiEnv = { ...env, SWITCHBOARD_WORK_QUEUE: 'false' };
  let api = await spawn('server', { ...apiEnv, ...(inApi ? fault : {}) });
  if (inApi) {
    // both workers healthy and running; the API process dies and a fresh one replaces it
    await Promise.all([spawn('worker', env), spawn('worker', env)]);
    return {
      api: () => api.url,
      doomed: api,
      whileHeld: async () => undefined,
      afterDeath: async () => {
        api = await spawn('server', apiEnv);
      },
    };
  }
  const doomed = await spawn('worker', { ...env, ...fault });
  let healthy: Promise<ServerProcess> | undefined;
  const startHealthy = async () => {
    healthy ??= spawn('worker', env);
    await healthy;
  };
  return { api: () => api.url, doomed, whileHeld: startHealthy, afterDeath: startHealthy };
}

describe.each(STORE_KINDS)('workflow runs across kill -9 on %s', (kind) => {
  const leaseMs = kind === 'postgres' ? 10_000 : 1_500;
  const timings: string[] = [];
  afterAll(() => {
    console.info(`workflow-crash on ${kind}: ${timings.join(', ')}`);
  });

  // PostgreSQL cases spend most of their time waiting out the 10 s lease: they run side by side
  it.for(CASES)(
    '$stage',
    { timeout: 60_000, concurrent: kind === 'postgres' },
    async (c, { onTestFinished, expect }) => {
      const began = Date.now();
      const { key, env, spawn } = await processCluster(kind, leaseMs, onTestFinished, booting);
      const ledger = await startLedger({ holdFirstOf: c.holdsB ? 'b' : undefined });
      onTestFinished(async () => {
        ledger.held.splice(0);
        await ledger.upstream.close();
      });
      const cluster = await startCluster(kind, c, env, spawn);
      const workflow = await call(`${cluster.api()}/v1/workflows`, key, {
        body: ledgerChain(ledger, `Crash ${c.stage}`),
      });
      expect(workflow.status, JSON.stringify(workflow.body)).toBe(201);
      const workflowId = workflow.body.workflow_id as string;

      const started = await call(`${cluster.api()}/v1/workflows/${workflowId}/runs`, key, {
        body: { input: { order_id: 'A-17' } },
      }).catch((error: unknown) => error as Error);
      if (c.fault?.startsWith('run-saved'))
        expect(started).toBeInstanceOf(Error); // died before answering
      else expect(started).toMatchObject({ status: 202 });

      // the doomed process dies by its fault, or gets inside b (its request held) for the test to act
      const reached = await until(
        async () => ({ dead: dead(cluster.doomed), held: ledger.held.length }),
        (s) => s.dead || s.held > 0,
        15_000,
      );
      if (c.holdsB) {
        expect(reached).toEqual({ dead: false, held: 1 });
        await cluster.whileHeld();
        if (c.killedByTest) await cluster.doomed.stop('SIGKILL');
        else ledger.held.forEach((answer) => answer());
      }
      await until(
        async () => dead(cluster.doomed),
        (d) => d,
        15_000,
      );
      expect(cluster.doomed.child.signalCode).toBe('SIGKILL');
      const crashedAt = Date.now();
      await cluster.afterDeath();

      const runId = c.fault?.startsWith('run-saved')
        ? ((await call(`${cluster.api()}/v1/workflows/${workflowId}/runs`, key)).body.data[0]?.id as string)
        : (started as { body: { id: string } }).body.id;
      expect(runId).toEqual(expect.any(String));
      // G-15: every run reaches a terminal state within lease + 10 s of the crash
      const run = await until(
        async () => (await call(`${cluster.api()}/v1/runs/${runId}`, key)).body,
        (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
        leaseMs + 10_000,
      ).catch((error: Error) => error);
      const recovery = Date.now() - crashedAt;
      if (run instanceof Error) throw new Error(`the run did not finish after the crash: ${run.message}`);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');

      // one effect per step key, each key the step's own; b's replay carried the same key
      const keyOf = (step: string) => `run:${runId}:step:${step}`;
      expect(Object.fromEntries(ledger.effects)).toEqual(Object.fromEntries(STEPS.map((s) => [keyOf(s), 1])));
      const deliveries = (step: string) => ledger.deliveries.filter((d) => d.step === step);
      expect(deliveries('a').map((d) => d.key)).toEqual([keyOf('a')]);
      expect(deliveries('b').map((d) => d.key)).toEqual(Array(c.deliveriesB).fill(keyOf('b')));
      expect(deliveries('c').map((d) => d.key)).toEqual([keyOf('c')]);

      // finished steps did not run again; the interrupted one counts its interrupted attempt
      const step = (id: string) =>
        (run.steps as { id: string }[]).find((s) => s.id === id) as Record<string, any>;
      expect(run.steps.map((s: { id: string }) => s.id)).toEqual(['a', 'b', 'c']);
      expect(STEPS.map((s) => step(s).attempts)).toEqual([1, c.attemptsB, 1]);
      for (const s of STEPS)
        expect(step(s)).toMatchObject({
          status: 'succeeded',
          idempotency_key: keyOf(s),
          output: ledger.receipts.get(keyOf(s)),
        });

      // each later step read the stored output of the one before it (never a re-run's)
      const receipt = (s: string) => ledger.receipts.get(keyOf(s))?.receipt;
      expect(deliveries('a').map((d) => d.body)).toEqual([{ order: 'A-17' }]);
      expect(deliveries('b').map((d) => d.body.after)).toEqual(Array(c.deliveriesB).fill(receipt('a')));
      expect(deliveries('c').map((d) => d.body.after)).toEqual([receipt('b')]);
      expect(step('c').output.after).toBe(step('b').output.receipt);

      timings.push(`${c.fault ?? 'in-flight'} ${Date.now() - began} ms (recovery ${recovery} ms)`);
    },
  );
});
