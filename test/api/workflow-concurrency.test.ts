/**
 * The per-organization cap on runs under way (SWITCHBOARD_WORKFLOW_RUNS_PER_ORG), on both stores: the
 * runs past it wait `queued` with no step and start in order as others finish; another organization is
 * not held back; a run asleep in a delay gives its slot up; a cancel frees one; and two processes on one
 * database keep to the cap together. Each run's one step posts to a gate that holds it (or answers it
 * after a pause) and counts, per tenant, the requests in flight.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/infrastructure.ts';
import type { Principal } from '../../src/core/tenancy.ts';
import { openTestContainer, startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

const CAP = 2;

interface Gate {
  upstream: Upstream;
  /** Requests in the order they arrived: `<tenant>:<n>`. */
  arrived: string[];
  /** The largest number of one tenant's requests in flight at once. */
  peak: Map<string, number>;
  /** Answers the oldest held request (of `tenant`, if given). */
  release(tenant?: string): void;
  /** Answers every request after `ms` from now on, without holding. */
  answerAfter(ms: number): void;
}

async function startGate(): Promise<Gate> {
  const upstream = await startUpstream();
  const held: { tenant: string; answer: () => void }[] = [];
  const inFlight = new Map<string, number>();
  const gate: Gate = {
    upstream,
    arrived: [],
    peak: new Map(),
    release(tenant) {
      const at = held.findIndex((h) => tenant === undefined || h.tenant === tenant);
      if (at >= 0) held.splice(at, 1)[0]?.answer();
    },
    answerAfter(ms) {
      autoMs = ms;
      for (const h of held.splice(0)) h.answer();
    },
  };
  let autoMs: number | undefined;
  upstream.setHandler((req, res: ServerResponse) => {
    if (req.url !== '/gate') return false;
    const { tenant, n } = JSON.parse(req.body.toString()) as { tenant: string; n: unknown };
    gate.arrived.push(`${tenant}:${String(n)}`);
    const now = (inFlight.get(tenant) ?? 0) + 1;
    inFlight.set(tenant, now);
    gate.peak.set(tenant, Math.max(gate.peak.get(tenant) ?? 0, now));
    const answer = () => {
      inFlight.set(tenant, (inFlight.get(tenant) ?? 1) - 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true }));
    };
    if (autoMs === undefined) held.push({ tenant, answer });
    else setTimeout(answer, autoMs);
    return true;
  });
  return gate;
}

describe.each(STORE_KINDS)('the per-organization run cap on %s', (kind) => {
  let t: TestApp;
  let gate: Gate;
  let other: { organizationId: string; key: string };

  const workflow = async (tenant: string, key?: string, before: unknown[] = []) => {
    const response = await t.request('POST', '/v1/workflows', {
      ...(key ? { key } : {}),
      body: {
        name: `Gated ${tenant} ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          ...before,
          {
            $kind: 'Action',
            id: 'call',
            type: 'http',
            input: { method: 'POST', url: `${gate.upstream.url}/gate`, body: { tenant, n: '{{trigger.n}}' } },
          },
        ],
      },
    });
    expect(response.status, response.text).toBe(201);
    return response.body.workflow_id as string;
  };
  const start = async (workflowId: string, n: number, key?: string) => {
    const response = await t.request('POST', `/v1/workflows/${workflowId}/runs`, {
      ...(key ? { key } : {}),
      body: { input: { n } },
    });
    expect(response.status, response.text).toBe(202);
    return response.body.id as string;
  };
  const read = async (id: string, key?: string) =>
    (await t.request('GET', `/v1/runs/${id}`, key ? { key } : {})).body;
  const finished = (id: string, key?: string) =>
    until(
      () => read(id, key),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
      20_000,
    );
  const arrivals = (tenant: string) => gate.arrived.filter((a) => a.startsWith(`${tenant}:`));

  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_WORKFLOW_RUNS_PER_ORG: String(CAP),
    });
    await t.startWork();
    other = await t.newTenant(['workflows:read', 'workflows:write', 'workflows:execute']);
  });
  afterEach(async () => {
    gate?.answerAfter(0);
    await gate?.upstream.close();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('queues the runs past the cap, starts them in order as others finish, and holds no other organization back', async () => {
    gate = await startGate();
    const x = await workflow('x');
    const y = await workflow('y', other.key);
    const runs: string[] = [];
    for (let n = 1; n <= 5; n++) runs.push(await start(x, n));
    await until(
      async () => arrivals('x').length,
      (n) => n >= CAP,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(arrivals('x').sort()).toEqual(['x:1', 'x:2']);
    for (const id of runs.slice(CAP)) expect(await read(id)).toMatchObject({ status: 'queued', steps: [] });

    // another organization's run starts at once, its own cap untouched by x's backlog
    const yRun = await start(y, 1, other.key);
    await until(
      async () => arrivals('y').length,
      (n) => n === 1,
      5_000,
    );
    gate.release('y');
    expect((await finished(yRun, other.key)).status).toBe('succeeded');

    // each x run that finishes lets the oldest waiting one start, and no more
    for (let next = CAP + 1; next <= 5; next++) {
      gate.release('x');
      await until(
        async () => arrivals('x').length,
        (n) => n === next,
        10_000,
      );
    }
    gate.answerAfter(0);
    for (const id of runs) expect((await finished(id)).status).toBe('succeeded');
    expect(arrivals('x').slice(CAP)).toEqual(['x:3', 'x:4', 'x:5']);
    expect(gate.peak.get('x')).toBe(CAP);
  });

  it('frees a slot when a run is cancelled; a cancelled waiting run never starts', async () => {
    gate = await startGate();
    const x = await workflow('x');
    const runs: string[] = [];
    for (let n = 1; n <= 4; n++) runs.push(await start(x, n));
    await until(
      async () => arrivals('x').length,
      (n) => n >= CAP,
    );
    const [, , waiting, last] = runs;
    const first = runs.find((id, i) => arrivals('x').includes(`x:${i + 1}`))!;
    expect((await t.request('POST', `/v1/runs/${waiting}/cancel`)).body.status).toBe('cancelled');
    expect((await t.request('POST', `/v1/runs/${first}/cancel`)).body.status).toBe('cancelled');
    await until(
      async () => arrivals('x').length,
      (n) => n === CAP + 1,
      10_000,
    );
    expect(arrivals('x').at(-1)).toBe('x:4');
    gate.answerAfter(0);
    expect((await finished(last!)).status).toBe('succeeded');
    expect(await read(waiting!)).toMatchObject({ status: 'cancelled', steps: [] });
  });

  it('gives the slot of a run asleep in a delay to the next run', async () => {
    gate = await startGate();
    gate.answerAfter(0);
    const sleeper = await workflow('sleeper', undefined, [
      { $kind: 'Action', id: 'nap', type: 'delay', input: { seconds: 3 } },
    ]);
    const x = await workflow('x');
    // two sleepers take the two slots, then give them up while they wait
    const asleep = [await start(sleeper, 1), await start(sleeper, 2)];
    const awake = await start(x, 1);
    const done = await finished(awake);
    expect(done.status).toBe('succeeded');
    for (const id of asleep) {
      const run = await read(id);
      expect(run.steps.find((s: { id: string }) => s.id === 'nap')?.status).toBe('queued');
    }
    for (const id of asleep) expect((await finished(id)).status).toBe('succeeded');
  });

  it('keeps two processes on one database to the cap together', { timeout: 60_000 }, async () => {
    gate = await startGate();
    gate.answerAfter(150);
    const x = await workflow('x');
    const config = loadConfig({
      env: {
        ...t.db.env,
        SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
        SWITCHBOARD_WORKFLOW_RUNS_PER_ORG: String(CAP),
      },
      envFile: false,
    });
    const replica = await openTestContainer(config, { logger: createLogger({ logLevel: 'silent' }) });
    try {
      await replica.startWork();
      const principal: Principal = {
        organizationId: t.container.defaultOrganizationId,
        keyId: 'test',
        scopes: ['admin'],
      };
      const processes = [t.container, replica.container];
      const startOn = (n: number) => processes[n % 2]!.services.workflowRuns.start(principal, x, { n });
      const numbers = Array.from({ length: 8 }, (_, n) => n);
      // PostgreSQL takes them at once; SQLite's one writer takes them in turn anyway
      const runs = kind === 'postgres' ? await Promise.all(numbers.map(startOn)) : [];
      if (kind === 'sqlite') for (const n of numbers) runs.push(await startOn(n));
      for (const run of runs) expect((await finished(run.id)).status).toBe('succeeded');
      expect(arrivals('x')).toHaveLength(8);
      expect(gate.peak.get('x')).toBe(CAP);
    } finally {
      await replica.close();
    }
  });
});
