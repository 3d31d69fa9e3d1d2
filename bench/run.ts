/**
 * `npm run bench`: measures Switchboard against floors taken in the same run, with the same load
 * generator, and prints each ratio against its target (the checks below), PASS or MISS. Environment:
 *   BENCH_ONLY (http,mcp,code,startup,workflows): the parts to run, e.g. `mcp` or `startup,http`;
 *     `actions` stands for http,mcp,code. The floor and the bare proxy run with any of http, mcp, code;
 *   http, mcp, code: BENCH_DURATION_MS (8000), BENCH_WARMUP_MS (1500), BENCH_ROUNDS (2),
 *     BENCH_DATABASE_URL (unset: SQLite);
 *   startup: BENCH_STARTUP_ROUNDS (3), BENCH_IDLE_MS (3000: idle time before the idle RSS is read);
 *   workflows (see workflows.ts): BENCH_WORKFLOW_MS (4000), BENCH_WORKFLOW_WARMUP_MS (1000),
 *   BENCH_WORKFLOW_POLL_MS (1), BENCH_WORKFLOW_CONCURRENCY (8), BENCH_WORKFLOW_STORES (sqlite,postgres),
 *   BENCH_POSTGRES_URL (the server the fresh PostgreSQL database is made on).
 * Results go to bench/results/<timestamp>.json and bench/results/latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setUpCodeTargets } from './code-actions.ts';
import { setUpHttpTargets } from './http-actions.ts';
import { runLoad, type LoadResult, type Target } from './load.ts';
import { ROOT, stopAll, stopChildren } from './processes.ts';
import { benchStartup, type StartupFigures } from './startup.ts';
import { WORKFLOW_STEPS, benchWorkflows, type WorkflowFigures } from './workflows.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1_500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const CONCURRENCIES = [1, 32] as const;
const parts = new Set(
  (process.env.BENCH_ONLY ?? 'actions,startup,workflows')
    .split(',')
    .flatMap((part) => (part === 'actions' ? ['http', 'mcp', 'code'] : [part.trim()])),
);
const loadParts = ['http', 'mcp', 'code'].filter((part) => parts.has(part));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
};

interface Check {
  name: string;
  value: number;
  target: string;
  /** Undefined: shown for comparison, no target set. */
  pass: boolean | undefined;
}

interface Part {
  lines: string[];
  checks: Check[];
}

async function measure(targets: Target[]): Promise<Map<string, LoadResult[]>> {
  const results = new Map<string, LoadResult[]>();
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of CONCURRENCIES) {
      // rotate the order each round so no target always runs on a warmer or colder machine
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
      for (const target of order) {
        const result = await runLoad(target, concurrency, durationMs, warmupMs);
        const key = `${target.name}@${concurrency}`;
        results.set(key, [...(results.get(key) ?? []), result]);
        process.stderr.write(
          `  round ${round + 1} c=${concurrency} ${target.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(3)} ms${result.errors ? `, ${result.errors} errors` : ''}\n`,
        );
      }
    }
  }
  return results;
}

function summarize(results: Map<string, LoadResult[]>) {
  return [...results.entries()].map(([key, runs]) => {
    const [target, concurrency] = key.split('@') as [string, string];
    return {
      target,
      concurrency: Number(concurrency),
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      cpuMicros: runs.every((r) => r.cpuMicros !== undefined)
        ? median(runs.map((r) => r.cpuMicros ?? NaN))
        : undefined,
      rssPeakMb: runs.every((r) => r.rssPeakMb !== undefined)
        ? Math.max(...runs.map((r) => r.rssPeakMb ?? NaN))
        : undefined,
      errors: runs.reduce((n, r) => n + r.errors, 0),
    };
  });
}

/** A check on a median of per-round values: PASS or MISS against `limit`. */
const check = (name: string, values: number[], op: '>=' | '<=', limit: number, digits = 2): Check => {
  const value = median(values);
  return {
    name,
    value,
    target: `${op} ${limit.toFixed(digits)}`,
    pass: op === '>=' ? value >= limit : value <= limit,
  };
};

async function actionsPart(): Promise<Part & { results: ReturnType<typeof summarize> }> {
  const store: Record<string, string> = databaseUrl ? { SWITCHBOARD_DATABASE_URL: databaseUrl } : {};
  process.stderr.write(
    `${loadParts.join(', ')}: ${rounds} round(s) of ${durationMs} ms per target, store ${databaseUrl ? 'PostgreSQL' : 'SQLite'}\n`,
  );
  const http = await setUpHttpTargets(store);
  const code = parts.has('code') ? await setUpCodeTargets(http, store) : undefined;
  const results = await measure([
    http.floor,
    http.proxy,
    ...(parts.has('http') || parts.has('code') ? [http.switchboard] : []),
    ...(parts.has('mcp') ? [http.mcp] : []),
    ...(code ? [code.trivial, code.fetch] : []),
  ]);
  const table = summarize(results);
  const row = (name: string, c: number) => table.find((r) => r.target === name && r.concurrency === c);
  const ratio = (a: number | undefined, b: number | undefined) => (a ?? NaN) / (b ?? NaN);

  const perRound = (name: string, c: number) => results.get(`${name}@${c}`) ?? [];
  /** Per round, `name`'s throughput at c=32 over the bare proxy's in the same round. */
  const vsProxy = (name: string) =>
    perRound(name, 32).map((r, i) => r.rps / (perRound(http.proxy.name, 32)[i]?.rps ?? NaN));
  const checks: Check[] = [];
  if (parts.has('http')) {
    checks.push(
      check('http action throughput / bare proxy at c=32', vsProxy(http.switchboard.name), '>=', 0.8),
      check(
        'http action p50 minus floor p50 at c=1 (ms)',
        perRound(http.switchboard.name, 1).map(
          (r, i) => r.p50 - (perRound(http.floor.name, 1)[i]?.p50 ?? NaN),
        ),
        '<=',
        0.3,
      ),
    );
  }
  if (parts.has('mcp'))
    checks.push(check('MCP tools/call throughput / bare proxy at c=32', vsProxy(http.mcp.name), '>=', 0.7));
  if (code) {
    checks.push(
      check(
        'trivial code action p50 at c=1 (ms)',
        perRound(code.trivial.name, 1).map((r) => r.p50),
        '<=',
        1,
      ),
      check(
        'code action with one fetch p50 / http action p50 at c=1',
        perRound(code.fetch.name, 1).map(
          (r, i) => r.p50 / (perRound(http.switchboard.name, 1)[i]?.p50 ?? NaN),
        ),
        '<=',
        2,
      ),
    );
  }
  const served = [http.switchboard.name, http.mcp.name].filter(
    (name) => row(name, 32)?.rssPeakMb !== undefined,
  );
  if (served.length > 0) {
    const peak = Math.max(...served.map((name) => row(name, 32)?.rssPeakMb ?? NaN));
    checks.push({
      name: `RSS peak under c=32 load, ${served.length > 1 ? 'http action and MCP' : 'switchboard'} (MB)`,
      value: peak,
      target: '<= 300',
      pass: peak <= 300,
    });
  }
  for (const name of [http.switchboard.name, http.mcp.name]) {
    const ours = row(name, 32)?.cpuMicros;
    const proxy = row(http.proxy.name, 32)?.cpuMicros;
    if (ours === undefined || proxy === undefined) continue;
    checks.push({
      name: `${name} CPU µs per request at c=32 / bare proxy's (${ours.toFixed(0)} vs ${proxy.toFixed(0)} µs)`,
      value: ours / proxy,
      target: 'none: shown to compare',
      pass: undefined,
    });
  }

  const lines = [
    `${'target'.padEnd(30)} ${'c'.padStart(3)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'vs proxy'.padStart(9)} ${'CPU µs/req'.padStart(11)} ${'RSS MB'.padStart(7)}`,
    ...table.map(
      (r) =>
        `${r.target.padEnd(30)} ${String(r.concurrency).padStart(3)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${`${ratio(r.rps, row(http.proxy.name, r.concurrency)?.rps).toFixed(2)}x`.padStart(9)} ${(r.cpuMicros === undefined ? '-' : r.cpuMicros.toFixed(0)).padStart(11)} ${(r.rssPeakMb === undefined ? '-' : r.rssPeakMb.toFixed(0)).padStart(7)}${r.errors ? `  (${r.errors} errors)` : ''}`,
    ),
    '',
    'CPU µs/req: CPU time the serving process used per request, all its threads (steadier than req/s on shared cores).',
    "RSS MB: the serving process's largest resident memory while measured (http action and MCP share a server; code actions have their own).",
  ];
  return { lines, checks, results: table };
}

async function startupPart(): Promise<Part & { results: StartupFigures }> {
  process.stderr.write('startup: spawn to first good execute on an existing data directory, then idle RSS\n');
  const figures = await benchStartup();
  const lines = [
    `start to first good execute (ms): ${figures.startMs.map((ms) => ms.toFixed(0)).join(', ')}`,
    `RSS after idling (MB):            ${figures.idleRssMb.map((mb) => mb.toFixed(0)).join(', ')}`,
  ];
  const checks = [
    check(
      'npm start to the first good execute (s)',
      figures.startMs.map((ms) => ms / 1000),
      '<=',
      1.5,
    ),
    check('RSS idle (MB)', figures.idleRssMb, '<=', 150, 0),
  ];
  return { lines, checks, results: figures };
}

async function workflowsPart(): Promise<Part & { results: WorkflowFigures[] }> {
  process.stderr.write(
    `workflows: ${WORKFLOW_STEPS}-step runs started by webhook, SQLite then PostgreSQL, against 5 direct calls\n`,
  );
  const figures = await benchWorkflows();
  const cell = (value: number | undefined, digits: number, width: number) =>
    (value === undefined ? '-' : value.toFixed(digits)).padStart(width);
  const lines = [
    `${'workflow store'.padEnd(16)} ${'runs/s'.padStart(7)} ${'floor/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p90 ms'.padStart(7)} ${'recorded'.padStart(9)} ${'floor p50'.padStart(9)} ${'ms/step'.padStart(8)} ${'CPU ms/run'.padStart(11)}`,
    ...figures.map(
      (f) =>
        `${f.store.padEnd(16)} ${cell(f.runsPerSecond, 0, 7)} ${cell(f.floorPerSecond, 0, 8)} ${cell(f.p50, 2, 7)} ${cell(f.p90, 2, 7)} ${cell(f.recordedP50, 0, 9)} ${cell(f.floorP50, 2, 9)} ${cell(f.overheadPerStepMs, 2, 8)} ${cell(f.serverCpuMsPerRun, 1, 11)}${f.errors ? `  (${f.errors} errors)` : ''}`,
    ),
    '',
    `runs/s and floor/s (five-call sequences/s) at c=${figures[0]?.concurrency ?? '-'}; p50, p90, floor p50 at c=1, from the webhook POST until GET /v1/runs/{id}`,
    "says succeeded (polled); recorded: the run record's finished_at − created_at; ms/step = (p50 − floor p50) / 5.",
  ];
  const checks = figures.map((f): Check => ({
    name: `workflow engine overhead per step on ${f.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} (ms)`,
    value: f.overheadPerStepMs,
    target: f.store === 'sqlite' ? '<= 0.70' : '<= 2.00',
    pass: f.overheadPerStepMs <= (f.store === 'sqlite' ? 0.7 : 2),
  }));
  return { lines, checks, results: figures };
}

async function main(): Promise<void> {
  const actions = loadParts.length > 0 ? await actionsPart() : undefined;
  // each later part has the cores to itself
  await stopChildren();
  const startup = parts.has('startup') ? await startupPart() : undefined;
  await stopChildren();
  const workflows = parts.has('workflows') ? await workflowsPart() : undefined;
  const checks = [...(actions?.checks ?? []), ...(startup?.checks ?? []), ...(workflows?.checks ?? [])];
  const lines = [
    '',
    ...(actions ? [...actions.lines, ''] : []),
    ...(startup ? [...startup.lines, ''] : []),
    ...(workflows ? [...workflows.lines, ''] : []),
    ...checks.map(
      (c) =>
        `${c.pass === undefined ? 'INFO' : c.pass ? 'PASS' : 'MISS'}  ${c.name}: ${c.value.toFixed(3)} (target ${c.target})`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const report = {
    at: new Date().toISOString(),
    node: process.version,
    store: databaseUrl ? 'postgres' : 'sqlite',
    rounds,
    durationMs,
    results: actions?.results ?? [],
    startup: startup?.results,
    workflows: workflows?.results ?? [],
    checks,
  };
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${report.at.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
