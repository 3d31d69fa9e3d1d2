/**
 * The workflow benchmark: a five-step workflow started by its webhook, against a floor measured in the same
 * run, on each store. The steps: `order`, an action step (the http action of the http-action benchmark);
 * `shipped`, an if-else on `{{order.output.status}}`; `track` (its then branch) and `notify`, http steps
 * sending the same request to the same upstream; `summary`, a set step reading earlier outputs. The floor is
 * what the workflow cannot avoid: five sequential direct calls to that upstream, same request.
 *
 * Start to finish is what a caller sees: from the webhook POST until GET /v1/runs/{id} answers
 * `succeeded`. The server has no way to wait for a run, so the run is polled every BENCH_WORKFLOW_POLL_MS
 * (1 ms); the run's own record (finished_at − created_at, whole milliseconds) is reported beside it, so
 * what polling and the webhook request add stays visible. Throughput keeps BENCH_WORKFLOW_CONCURRENCY
 * runs in flight, watched by one poller of the workflow's run list, so that polling does not grow with it.
 */
import { Pool } from 'undici';
import { ORDER_REQUEST, UPSTREAM_HOST, createOrderLookup } from './http-actions.ts';
import { createBenchDatabase } from './postgres.ts';
import { cpuSeconds, startScript, startSwitchboard, type SwitchboardProcess } from './processes.ts';

const durationMs = Number(process.env.BENCH_WORKFLOW_MS ?? 4_000);
const warmupMs = Number(process.env.BENCH_WORKFLOW_WARMUP_MS ?? 1_000);
const pollMs = Number(process.env.BENCH_WORKFLOW_POLL_MS ?? 1);
const concurrency = Number(process.env.BENCH_WORKFLOW_CONCURRENCY ?? 8);
/** Steps a run goes through, the if-else included: the overhead is shared out over these. */
export const WORKFLOW_STEPS = 5;

export type StoreName = 'sqlite' | 'postgres';

export interface WorkflowFigures {
  store: StoreName;
  /** Runs completed at concurrency 1 while measuring, and runs that did not succeed. */
  runs: number;
  errors: number;
  p50: number;
  p90: number;
  /** Median of the runs' own records, finished_at − created_at (no webhook request, no polling). */
  recordedP50: number;
  floorP50: number;
  /** Five-call sequences per second at concurrency 1. */
  floorRate: number;
  concurrency: number;
  runsPerSecond: number;
  floorPerSecond: number;
  /** CPU the server spent per run at `concurrency` (its polling answers included). */
  serverCpuMsPerRun: number | undefined;
  /** (p50 − floor p50) / 5 */
  overheadPerStepMs: number;
}

interface Sample {
  ms: number;
  recordedMs?: number;
  run?: RunView;
}

interface RunView {
  id: string;
  status: string;
  created_at: string;
  finished_at: string | null;
  error: unknown;
  /** Only on GET /v1/runs/{id}. */
  steps?: { id: string; started_at: string | null; finished_at: string | null }[];
}

/** Where a run's time went: each step's start..finish in ms after the run was created. */
const timeline = (run: RunView) =>
  (run.steps ?? [])
    .map((step) => {
      const at = (iso: string | null) => (iso ? String(Date.parse(iso) - Date.parse(run.created_at)) : '-');
      return `${step.id} ${at(step.started_at)}..${at(step.finished_at)}`;
    })
    .join(', ');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elapsedMs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

function blocks(upstream: string, actionId: string, secretId: string): unknown[] {
  const call = (id: string, name: string) => ({
    $kind: 'Action',
    id,
    type: 'http',
    name,
    input: {
      method: 'POST',
      url: `${upstream}/orders/{{trigger.order_id}}`,
      query: { include: 'tracking' },
      headers: { 'X-Source': 'agent' },
      body: { id: '{{trigger.order_id}}', note: 'order {{trigger.order_id}}' },
      auth: { type: 'bearer', secret_id: secretId },
    },
  });
  return [
    {
      $kind: 'Action',
      id: 'order',
      type: 'action',
      name: 'Look the order up',
      input: { action_id: actionId, inputs: { order_id: '{{trigger.order_id}}' } },
    },
    {
      $kind: 'Block',
      type: 'if-else',
      id: 'shipped',
      inputs: { condition: { operatorName: 'equals', left: '{{order.output.status}}', right: 'shipped' } },
      branches: {
        then: [call('track', 'Fetch the tracking')],
        else: [{ $kind: 'Action', id: 'not_shipped', type: 'set', input: { values: { shipped: false } } }],
      },
    },
    call('notify', 'Tell the CRM'),
    {
      $kind: 'Action',
      id: 'summary',
      type: 'set',
      name: 'Summarize',
      input: {
        values: {
          order: '{{trigger.order_id}}',
          status: '{{order.output.status}}',
          eta: '{{notify.output.eta}}',
        },
      },
    },
  ];
}

/**
 * Waits for runs to finish with one poller: a single run is read by id; several through the newest page
 * of the workflow's runs (any run not on it is read by id), so the server answers one poll per interval
 * however many runs are in flight.
 */
class RunWatcher {
  readonly #pending = new Map<string, { resolve(run: RunView): void; reject(error: Error): void }>();
  #polling = false;
  readonly #client: Pool;
  readonly #key: string;
  readonly #workflowId: string;
  readonly #intervalMs: number;

  constructor(client: Pool, server: SwitchboardProcess, workflowId: string, intervalMs: number) {
    this.#client = client;
    this.#key = server.key;
    this.#workflowId = workflowId;
    this.#intervalMs = intervalMs;
  }

  wait(runId: string): Promise<RunView> {
    const done = new Promise<RunView>((resolve, reject) => this.#pending.set(runId, { resolve, reject }));
    if (!this.#polling) {
      this.#polling = true;
      void this.#poll();
    }
    return done;
  }

  async #get<T>(path: string): Promise<T> {
    const response = await this.#client.request({
      method: 'GET',
      path,
      headers: { authorization: `Bearer ${this.#key}` },
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${text}`);
    return JSON.parse(text) as T;
  }

  #settle(run: RunView): void {
    const waiter = this.#pending.get(run.id);
    if (!waiter || run.status === 'queued' || run.status === 'running') return;
    this.#pending.delete(run.id);
    if (run.status === 'succeeded') waiter.resolve(run);
    else waiter.reject(new Error(`run ${run.id} ${run.status}: ${JSON.stringify(run.error)}`));
  }

  async #poll(): Promise<void> {
    while (this.#pending.size > 0) {
      try {
        let unseen = [...this.#pending.keys()];
        if (unseen.length > 1) {
          const limit = Math.min(100, 2 * this.#pending.size + 4);
          const page = await this.#get<{ data: RunView[] }>(
            `/v1/workflows/${this.#workflowId}/runs?limit=${limit}`,
          );
          for (const run of page.data) this.#settle(run);
          const listed = new Set(page.data.map((run) => run.id));
          unseen = unseen.filter((id) => !listed.has(id));
        }
        for (const id of unseen) this.#settle(await this.#get<RunView>(`/v1/runs/${id}`));
      } catch (error) {
        for (const waiter of this.#pending.values()) waiter.reject(error as Error);
        this.#pending.clear();
      }
      if (this.#pending.size > 0) await sleep(this.#intervalMs);
    }
    this.#polling = false;
  }
}

/** A closed loop of `workers` running `once` for warm-up then `durationMs`; samples only from the latter. */
async function closedLoop(
  workers: number,
  once: () => Promise<Sample>,
  pid?: number,
): Promise<{ samples: Sample[]; errors: number; seconds: number; cpuMsPerRun: number | undefined }> {
  const samples: Sample[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      try {
        const sample = await once();
        if (recording) samples.push(sample);
      } catch (error) {
        if (recording) errors++;
        if (errors === 1) process.stderr.write(`  workflow error: ${(error as Error).message}\n`);
      }
    }
  };
  const running = Array.from({ length: workers }, loop);
  await sleep(warmupMs);
  recording = true;
  const began = performance.now();
  const cpuBefore = cpuSeconds(pid);
  await sleep(durationMs);
  recording = false;
  const cpuAfter = cpuSeconds(pid);
  const seconds = (performance.now() - began) / 1000;
  stop = true;
  await Promise.all(running);
  const cpuMsPerRun =
    cpuBefore === undefined || cpuAfter === undefined || samples.length === 0
      ? undefined
      : ((cpuAfter - cpuBefore) / samples.length) * 1e3;
  return { samples, errors, seconds, cpuMsPerRun };
}

/** The floor: five sequential direct calls, as the workflow makes them, at `workers` concurrency. */
async function floor(upstream: string, workers: number) {
  const pool = new Pool(upstream, { connections: workers, keepAliveTimeout: 60_000 });
  const { headers, body, method, path } = ORDER_REQUEST;
  const result = await closedLoop(workers, async () => {
    const began = process.hrtime.bigint();
    for (let call = 0; call < WORKFLOW_STEPS; call++) {
      const response = await pool.request({ method, path, headers, body });
      await response.body.text();
      if (response.statusCode !== ORDER_REQUEST.expectStatus)
        throw new Error(`upstream answered ${response.statusCode}`);
    }
    return { ms: elapsedMs(began) };
  });
  await pool.close();
  return result;
}

async function benchStore(
  store: StoreName,
  upstream: string,
  env: Record<string, string>,
): Promise<WorkflowFigures> {
  const server = await startSwitchboard({ SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: UPSTREAM_HOST, ...env });
  const client = new Pool(server.url, { connections: concurrency + 2, keepAliveTimeout: 60_000 });
  try {
    const { secretId, actionId } = await createOrderLookup(server, upstream);
    const workflow = await server.api<{ workflow_id: string; webhook_url: string }>('POST', '/v1/workflows', {
      name: 'Order shipped',
      trigger_type: 'webhook',
      workflow_blocks: blocks(upstream, actionId, secretId),
    });
    const watcher = (intervalMs: number) => new RunWatcher(client, server, workflow.workflow_id, intervalMs);

    const deliver = async (watch: RunWatcher): Promise<Sample> => {
      const began = process.hrtime.bigint();
      const response = await client.request({
        method: 'POST',
        path: workflow.webhook_url,
        headers: { 'content-type': 'application/json' },
        body: '{"order_id":"ORD-12345"}',
      });
      const text = await response.body.text();
      if (response.statusCode !== 202) throw new Error(`webhook answered ${response.statusCode}: ${text}`);
      const runId = (JSON.parse(text) as { run_ids: string[] }).run_ids[0];
      if (!runId) throw new Error(`webhook started no run: ${text}`);
      const run = await watch.wait(runId);
      return {
        ms: elapsedMs(began),
        recordedMs: Date.parse(run.finished_at ?? '') - Date.parse(run.created_at),
        run,
      };
    };

    // one run first, checked step by step, so a broken workflow fails loudly instead of measuring errors
    await deliver(watcher(5)).catch((error: unknown) => {
      throw new Error(`the benchmark workflow does not succeed on ${store}: ${(error as Error).message}`);
    });

    const floorOne = await floor(upstream, 1);
    const single = watcher(pollMs);
    const latency = await closedLoop(1, () => deliver(single), server.pid);
    // several runs in flight: polled less often, the poll being shared
    const shared = watcher(Math.max(pollMs, 2));
    const throughput = await closedLoop(concurrency, () => deliver(shared), server.pid);
    const floorMany = await floor(upstream, concurrency);

    const last = latency.samples.at(-1)?.run;
    if (last)
      process.stderr.write(
        `  ${store} run timeline (ms after created_at): ${timeline(last)}, run finished ${last.finished_at ? Date.parse(last.finished_at) - Date.parse(last.created_at) : '-'}\n`,
      );
    const sorted = latency.samples.map((s) => s.ms).sort((a, b) => a - b);
    const recorded = latency.samples.map((s) => s.recordedMs ?? NaN).sort((a, b) => a - b);
    const floorSorted = floorOne.samples.map((s) => s.ms).sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const floorP50 = percentile(floorSorted, 50);
    return {
      store,
      runs: latency.samples.length,
      errors: latency.errors + throughput.errors,
      p50,
      p90: percentile(sorted, 90),
      recordedP50: percentile(recorded, 50),
      floorP50,
      floorRate: floorOne.samples.length / floorOne.seconds,
      concurrency,
      runsPerSecond: throughput.samples.length / throughput.seconds,
      floorPerSecond: floorMany.samples.length / floorMany.seconds,
      serverCpuMsPerRun: throughput.cpuMsPerRun,
      overheadPerStepMs: (p50 - floorP50) / WORKFLOW_STEPS,
    };
  } finally {
    await client.close();
    await server.stop();
  }
}

/**
 * The workflow benchmark on SQLite, then on PostgreSQL: BENCH_DATABASE_URL when set, else a fresh database
 * on the local server (skipped when there is none). BENCH_WORKFLOW_STORES narrows it (e.g. `sqlite`).
 */
export async function benchWorkflows(): Promise<WorkflowFigures[]> {
  const stores = new Set((process.env.BENCH_WORKFLOW_STORES ?? 'sqlite,postgres').split(','));
  const upstreamProcess = await startScript('bench/upstream.ts', [UPSTREAM_HOST]);
  const upstream = `http://${UPSTREAM_HOST}:${upstreamProcess.port}`;
  const figures: WorkflowFigures[] = [];
  const report = (f: WorkflowFigures) =>
    process.stderr.write(
      `  workflow on ${f.store}: p50 ${f.p50.toFixed(2)} ms (recorded ${f.recordedP50.toFixed(0)} ms), floor p50 ${f.floorP50.toFixed(2)} ms, ${f.runsPerSecond.toFixed(0)} runs/s at c=${f.concurrency}${f.errors ? `, ${f.errors} errors` : ''}\n`,
    );
  const measure = async (store: StoreName, env: Record<string, string>) => {
    const result = await benchStore(store, upstream, env);
    report(result);
    figures.push(result);
  };
  try {
    if (stores.has('sqlite')) await measure('sqlite', {});
    if (stores.has('postgres')) {
      const given = process.env.BENCH_DATABASE_URL;
      const fresh = given ? undefined : await createBenchDatabase();
      const url = given ?? fresh?.url;
      if (url) {
        try {
          await measure('postgres', { SWITCHBOARD_DATABASE_URL: url });
        } finally {
          await fresh?.drop();
        }
      }
    }
  } finally {
    await upstreamProcess.stop();
  }
  return figures;
}
