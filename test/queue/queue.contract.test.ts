/**
 * The Queue port's contract, written once and run against both adapters on real stores: the embedded
 * queue on a SQLite data directory, and pg-boss on a fresh PostgreSQL database. Leases, backoffs and
 * polls are shortened through options so the suite runs in seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type KyselyStore } from '../../src/adapters/db/store.ts';
import { createEmbeddedQueue } from '../../src/adapters/queue/embedded/embedded-queue.ts';
import { createPgBossQueue } from '../../src/adapters/queue/pg-boss/pg-boss-queue.ts';
import type { QueueTimingOptions } from '../../src/adapters/queue/runner.ts';
import type { Logger } from '../../src/core/ports/logger.ts';
import type { Job, JobContext, Queue } from '../../src/core/ports/queue.ts';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../helpers/databases.ts';

type Kind = 'embedded' | 'pg-boss';
const KINDS: Kind[] = STORE_KINDS.map((k) => (k === 'sqlite' ? 'embedded' : 'pg-boss'));
const FIXTURE = fileURLToPath(new URL('./fixtures/hang-worker.ts', import.meta.url));

/** Short leases (no heartbeat: a lease is a hard limit), quick retries and polls. */
const FAST: QueueTimingOptions = {
  leaseMs: 1_000,
  heartbeatMs: 0,
  retryBaseMs: 50,
  retryMaxMs: 400,
  pollMs: 10,
  maxPollMs: 50,
};

interface LogLine {
  level: string;
  data: Record<string, unknown>;
  message: string;
}

function captureLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (data: Record<string, unknown>, message: string): void => {
      lines.push({ level, data, message });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

let names = 0;
const uniqueName = (label: string) => `test.${label}.${++names}`;

describe.each(KINDS)('Queue contract on %s', (kind) => {
  let database: TestDatabase;
  let store: KyselyStore | undefined;
  const open: Queue[] = [];
  const children: ChildProcess[] = [];

  /** A new Queue instance on the shared store: one "worker". */
  function createQueue(options: QueueTimingOptions & { fairnessMs?: number } = {}): Queue {
    const merged = { ...FAST, ...options };
    const queue =
      kind === 'embedded'
        ? createEmbeddedQueue({ db: store!.db, ...merged })
        : createPgBossQueue({
            connectionString: database.databaseUrl!,
            poolSize: 3,
            superviseIntervalSeconds: 1,
            fairnessMs: 50,
            ...merged,
          });
    open.push(queue);
    return queue;
  }

  async function started(options: QueueTimingOptions & { fairnessMs?: number } = {}): Promise<Queue> {
    const queue = createQueue(options);
    await queue.start();
    return queue;
  }

  beforeAll(async () => {
    database = await createTestDatabase(kind === 'embedded' ? 'sqlite' : 'postgres');
    if (kind === 'embedded') store = await openStore({ dataDir: database.dataDir });
    else {
      // installs pg-boss's schema once, so the instances of the tests start quickly
      const installer = createQueue();
      await installer.start();
      await installer.stop();
    }
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(open.splice(0).map((q) => q.stop(100)));
  });

  afterAll(async () => {
    await store?.close();
    await database.drop();
  });

  it('runs an enqueued job once with its payload, attempt 1, and reports it completed', async () => {
    const queue = await started();
    const name = uniqueName('basic');
    const seen: Job<{ n: number }>[] = [];
    queue.work<{ n: number }>(name, async (job) => {
      seen.push(job);
    });
    const organizationId = randomUUID();
    const { id, created } = await queue.enqueue(name, { n: 42 }, { organizationId });
    expect(created).toBe(true);
    await waitFor(async () => (await queue.status(id))?.state === 'completed', 5_000, 'completion');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id,
      name,
      payload: { n: 42 },
      attempt: 1,
      maxAttempts: 4,
      key: null,
      organizationId,
    });
    expect(Number.isNaN(Date.parse(seen[0]!.createdAt))).toBe(false);
    expect(await queue.status(id)).toEqual({ id, name, state: 'completed', attempt: 1, lastError: null });
    expect(await queue.status(randomUUID())).toBeUndefined();
  });

  it('starts a job enqueued in this process at once, however long the idle poll has grown', async () => {
    const queue = await started({ maxPollMs: 5_000 });
    const name = uniqueName('wake');
    const ran = deferred<number>();
    queue.work(name, async () => ran.resolve(Date.now()));
    await sleep(400); // the idle poll backs off meanwhile
    const enqueuedAt = Date.now();
    await queue.enqueue(name, null);
    expect((await ran.promise) - enqueuedAt).toBeLessThan(1_000);
  });

  it('retries a failing job with exponential backoff until it succeeds, counting attempts', async () => {
    // random → ~1: each delay is its ceiling, 50 ms then 100 ms
    const queue = await started({ random: () => 0.999 });
    const name = uniqueName('retry');
    const starts: { attempt: number; at: number }[] = [];
    queue.work(name, async (job) => {
      starts.push({ attempt: job.attempt, at: Date.now() });
      if (job.attempt < 3) throw new Error(`boom ${job.attempt}`);
    });
    const { id } = await queue.enqueue(name, 'x');
    await waitFor(async () => (await queue.status(id))?.state === 'completed', 10_000, 'completion');
    expect(starts.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(starts[1]!.at - starts[0]!.at).toBeGreaterThanOrEqual(45);
    expect(starts[2]!.at - starts[1]!.at).toBeGreaterThanOrEqual(95);
    expect(await queue.status(id)).toMatchObject({ state: 'completed', attempt: 3, lastError: null });
  });

  it('reports a job waiting out its backoff as failed, with the error', async () => {
    const queue = await started({ retryBaseMs: 30_000, random: () => 0.999 });
    const name = uniqueName('failed');
    queue.work(name, async () => {
      throw new Error('upstream said no');
    });
    const { id } = await queue.enqueue(name, 1);
    const status = await waitFor(
      async () => {
        const s = await queue.status(id);
        return s?.state === 'failed' ? s : undefined;
      },
      5_000,
      'the failed state',
    );
    expect(status).toEqual({ id, name, state: 'failed', attempt: 1, lastError: 'upstream said no' });
  });

  it('retries a job failed by an outage without using up its attempts', async () => {
    const queue = await started({
      transient: (error) => (error as Error).message === 'store down',
      random: () => 0,
    });
    const name = uniqueName('outage');
    const attempts: number[] = [];
    queue.work(name, async (job) => {
      attempts.push(job.attempt);
      if (attempts.length <= 3) throw new Error('store down');
    });
    const { id } = await queue.enqueue(name, null, { maxAttempts: 1 });
    await waitFor(async () => (await queue.status(id))?.state === 'completed', 10_000, 'completion');
    // one attempt allowed, four made: the three the outage failed did not count against it
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it('marks a job dead after maxAttempts and does not retry it again', async () => {
    const queue = await started();
    const name = uniqueName('dead');
    let calls = 0;
    queue.work(name, async (job) => {
      calls++;
      throw new Error(`boom ${job.attempt}`);
    });
    const { id } = await queue.enqueue(name, {}, { maxAttempts: 2 });
    await waitFor(async () => (await queue.status(id))?.state === 'dead', 10_000, 'dead');
    await sleep(600);
    expect(calls).toBe(2);
    expect(await queue.status(id)).toEqual({ id, name, state: 'dead', attempt: 2, lastError: 'boom 2' });
  });

  it.each([
    ['its last attempt failed', false],
    ['its lease lapsed at its last attempt (the worker hung)', true],
  ])('enqueues the dead letter of a job that died because %s, once', async (_, hangs) => {
    const queue = await started();
    const name = uniqueName('doomed');
    const letters = uniqueName('doomed.dead');
    const attempts: number[] = [];
    queue.work(
      name,
      async (job) => {
        attempts.push(job.attempt);
        if (hangs) await new Promise(() => {}); // ignores its signal: only the lease's lapse ends it
        throw new Error(`boom ${job.attempt}`);
      },
      { concurrency: 2 }, // a hung attempt keeps its slot
    );
    const dead: Job[] = [];
    queue.work(letters, async (job) => {
      dead.push(job);
    });
    const organizationId = randomUUID();
    const { id } = await queue.enqueue(
      name,
      { run: 'r-1' },
      { maxAttempts: 2, deadLetter: letters, organizationId },
    );
    await waitFor(() => dead.length > 0, 15_000, 'the dead letter');
    await sleep(300);
    expect(attempts).toEqual([1, 2]);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      name: letters,
      payload: { run: 'r-1' },
      organizationId,
      died: { id, attempts: 2, leaseLost: hangs },
    });
    if (!hangs) expect(dead[0]!.died!.error).toBe('boom 2');
    expect((await queue.status(id))?.state).toBe('dead');
  });

  it('carries no dead letter for a job that succeeds, or one sent without one', async () => {
    const queue = await started();
    const name = uniqueName('no-letter');
    const seen: Job[] = [];
    queue.work(name, async (job) => {
      seen.push(job);
      if (job.payload === 'fails') throw new Error('no');
    });
    const { id } = await queue.enqueue(name, 'fails', { maxAttempts: 1 });
    await queue.enqueue(name, 'works', { deadLetter: uniqueName('unused') });
    await waitFor(async () => (await queue.status(id))?.state === 'dead', 5_000, 'dead');
    await waitFor(() => seen.length >= 2, 5_000, 'both jobs');
    expect(seen.every((job) => job.died === undefined)).toBe(true);
  });

  it('reads the statuses of many jobs at once, leaving out the unknown ones', async () => {
    const queue = await started();
    const name = uniqueName('statuses');
    queue.work(name, async () => undefined);
    const done = await queue.enqueue(name, 1);
    const later = await queue.enqueue(name, 2, { runAt: new Date(Date.now() + 60_000) });
    await waitFor(async () => (await queue.status(done.id))?.state === 'completed', 5_000, 'completion');
    const found = await queue.statuses([done.id, later.id, randomUUID(), 'not-an-id']);
    expect(found.map((s) => [s.id, s.state]).sort()).toEqual(
      [
        [done.id, 'completed'],
        [later.id, 'queued'],
      ].sort(),
    );
    expect(await queue.statuses([])).toEqual([]);
  });

  it('deduplicates by key: one job per key and name, even after it completed', async () => {
    const queue = await started();
    const name = uniqueName('key');
    const key = `schedule:${randomUUID()}:2030-01-01T00:00:00Z`;
    let runs = 0;
    queue.work(name, async () => {
      runs++;
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => queue.enqueue(name, { k: 1 }, { key })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const id = results.find((r) => r.created)!.id;
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([id]));
    await waitFor(async () => (await queue.status(id))?.state === 'completed', 5_000, 'completion');
    expect(await queue.enqueue(name, { k: 2 }, { key })).toEqual({ id, created: false });
    await sleep(200);
    expect(runs).toBe(1);
    // the key is per job name
    const other = await queue.enqueue(uniqueName('key-other'), {}, { key });
    expect(other.created).toBe(true);
    expect(other.id).not.toBe(id);
  });

  it('does not run a job before its runAt', async () => {
    const queue = await started();
    const name = uniqueName('run-at');
    const ran = deferred<number>();
    queue.work(name, async () => ran.resolve(Date.now()));
    const runAt = new Date(Date.now() + 700);
    const { id } = await queue.enqueue(name, null, { runAt });
    await sleep(300);
    expect(await queue.status(id)).toMatchObject({ state: 'queued', attempt: 0 });
    expect(await ran.promise).toBeGreaterThanOrEqual(runAt.getTime() - 20);
  });

  it('processes each of 200 jobs exactly once across two workers', async () => {
    const name = uniqueName('two-workers');
    const runs = new Map<string, number>();
    const byWorker = [0, 0];
    const workers = [createQueue(), createQueue()];
    workers.forEach((queue, i) =>
      queue.work(
        name,
        async (job) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          byWorker[i]!++;
          await sleep(2);
        },
        { concurrency: 4 },
      ),
    );
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await workers[0]!.enqueue(name, { i })).id);
    await Promise.all(workers.map((q) => q.start()));
    await waitFor(() => [...runs.values()].reduce((a, b) => a + b, 0) >= 200, 30_000, '200 runs');
    await sleep(300);
    expect(runs.size).toBe(200);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(byWorker[0]).toBeGreaterThan(0);
    expect(byWorker[1]).toBeGreaterThan(0);
    const states = await Promise.all(ids.map((id) => workers[1]!.status(id)));
    expect(states.every((s) => s?.state === 'completed' && s.attempt === 1)).toBe(true);
  });

  it('gives a job whose handler hangs past its lease to the other worker, and refuses the late completion', async () => {
    const name = uniqueName('fencing');
    const logs: LogLine[] = [];
    const workers = [
      createQueue({ logger: captureLogger(logs) }),
      createQueue({ logger: captureLogger(logs) }),
    ];
    const release = deferred();
    const firstSignal = deferred<AbortSignal>();
    const attempts: { worker: number; attempt: number }[] = [];
    workers.forEach((queue, worker) =>
      queue.work(name, async (job, context: JobContext) => {
        attempts.push({ worker, attempt: job.attempt });
        if (job.attempt === 1) {
          firstSignal.resolve(context.signal);
          await release.promise; // hangs, ignoring its signal
        }
      }),
    );
    const { id } = await workers[0]!.enqueue(name, { step: 'charge' });
    await Promise.all(workers.map((q) => q.start()));
    const signal = await firstSignal.promise;
    await waitFor(async () => (await workers[0]!.status(id))?.state === 'completed', 10_000, 'the takeover');
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.attempt).toBe(2);
    expect(attempts[1]!.worker).not.toBe(attempts[0]!.worker);
    expect(signal.aborted).toBe(true);

    release.resolve(); // the first worker finally finishes: its completion must be refused
    await waitFor(
      () => logs.find((l) => l.message.includes('completion refused') && l.data.jobId === id),
      5_000,
      'the refusal',
    );
    const refused = logs.find((l) => l.message.includes('completion refused'))!;
    expect(refused.data).toMatchObject({ jobId: id, attempt: 1 });
    expect(await workers[1]!.status(id)).toMatchObject({ state: 'completed', attempt: 2 });
    expect(attempts).toHaveLength(2);
  });

  it('runs a job again, same id and payload, after the process working it was killed', async () => {
    const name = uniqueName('crash');
    const producer = createQueue();
    const { id } = await producer.enqueue(name, { call: 'post-call-summary' });
    const location = kind === 'embedded' ? database.dataDir : database.databaseUrl!;
    const child = spawn(process.execPath, [FIXTURE, kind, name, location, String(FAST.leaseMs)], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes(`claimed ${id} 1`), 20_000, `the child to claim (${output})`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await producer.status(id)).toMatchObject({ state: 'running', attempt: 1 });

    const seen: Job[] = [];
    const worker = createQueue();
    worker.work(name, async (job) => {
      seen.push(job);
    });
    await worker.start();
    await waitFor(async () => (await worker.status(id))?.state === 'completed', 10_000, 'the rerun');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id, attempt: 2, payload: { call: 'post-call-summary' } });
  });

  it('stop() tells an in-flight handler it is stopping, lets it finish, then claims nothing more', async () => {
    const queue = await started({ leaseMs: 5_000 });
    const name = uniqueName('graceful');
    const began = deferred<AbortSignal>();
    let finished = false;
    let stoppingSeen = false;
    queue.work(name, async (_job, { signal, stopping }) => {
      began.resolve(signal);
      expect(stopping.aborted).toBe(false);
      await new Promise((resolve) => stopping.addEventListener('abort', resolve));
      stoppingSeen = true;
      await sleep(300);
      finished = true;
    });
    const { id } = await queue.enqueue(name, 1);
    const signal = await began.promise;
    await queue.stop(5_000);
    expect(stoppingSeen).toBe(true);
    expect(finished).toBe(true);
    expect(signal.aborted).toBe(false);
    const other = createQueue();
    expect(await other.status(id)).toMatchObject({ state: 'completed', attempt: 1 });
    const { id: later } = await other.enqueue(name, 2);
    await sleep(300);
    expect(await other.status(later)).toMatchObject({ state: 'queued', attempt: 0 });
  });

  it('stop() past its timeout aborts the handler and gives the job back at once', async () => {
    const queue = await started({ leaseMs: 30_000 });
    const name = uniqueName('stop-timeout');
    const began = deferred<AbortSignal>();
    queue.work(name, async (_job, { signal }) => {
      began.resolve(signal);
      await new Promise(() => {}); // never finishes
    });
    const { id } = await queue.enqueue(name, 1);
    const signal = await began.promise;
    const stopAt = Date.now();
    await queue.stop(200);
    expect(Date.now() - stopAt).toBeLessThan(3_000);
    expect(signal.aborted).toBe(true);
    const status = await createQueue().status(id);
    expect(status).toMatchObject({ state: 'failed', attempt: 1 });
    expect(status?.lastError).toMatch(/stopped/);
    // not stuck "running" until the 30 s lease lapses: another worker runs it now
    const next = await started({ leaseMs: 30_000 });
    const rerun = deferred<number>();
    next.work(name, async (job) => rerun.resolve(job.attempt));
    expect(await rerun.promise).toBe(2);
  });

  it('lets a tenant with 1 job run before another tenant’s backlog of 500 drains', async () => {
    const name = uniqueName('fairness');
    const producer = createQueue();
    const a = randomUUID();
    const b = randomUUID();
    for (let i = 0; i < 500; i++) await producer.enqueue(name, { i }, { organizationId: a });
    await producer.enqueue(name, { i: 0 }, { organizationId: b });
    const order: string[] = [];
    const worker = createQueue();
    worker.work(
      name,
      async (job) => {
        await sleep(1);
        order.push(job.organizationId!);
      },
      { concurrency: 2 },
    );
    await worker.start();
    await waitFor(() => order.includes(b), 30_000, 'tenant B');
    const aBefore = order.indexOf(b);
    expect(aBefore).toBeLessThan(50);
  });

  it('extends the lease of a handler running past it with heartbeats', { timeout: 30_000 }, async () => {
    // pg-boss takes heartbeats in whole seconds, at least 10
    const timings =
      kind === 'embedded'
        ? { leaseMs: 300, heartbeatMs: 100, runMs: 1_200 }
        : { leaseMs: 10_000, heartbeatMs: 1_000, runMs: 11_500 };
    const name = uniqueName('heartbeat');
    const runs: number[] = [];
    let aborted = false;
    const options = { leaseMs: timings.leaseMs, heartbeatMs: timings.heartbeatMs, timeoutMs: 60_000 };
    const workers = [createQueue(options), createQueue(options)];
    workers.forEach((queue) =>
      queue.work(name, async (job, { signal }) => {
        runs.push(job.attempt);
        await sleep(timings.runMs);
        aborted ||= signal.aborted;
      }),
    );
    const { id } = await workers[0]!.enqueue(name, null);
    await Promise.all(workers.map((q) => q.start()));
    await waitFor(async () => (await workers[0]!.status(id))?.state === 'completed', 20_000, 'completion');
    expect(runs).toEqual([1]);
    expect(aborted).toBe(false);
  });
});
