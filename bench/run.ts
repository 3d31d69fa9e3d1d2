/**
 * `npm run bench`: measures Switchboard against floors taken in the same run, with the same load
 * generator, and prints the ratios the issues set as targets. Environment:
 *   BENCH_ONLY (actions,workflows): the parts to run, e.g. `workflows`;
 *   actions: BENCH_DURATION_MS (8000), BENCH_WARMUP_MS (1500), BENCH_ROUNDS (2), BENCH_DATABASE_URL (unset: SQLite);
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
import { WORKFLOW_STEPS, benchWorkflows, type WorkflowFigures } from './workflows.ts';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1_500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const CONCURRENCIES = [1, 32] as const;
const parts = new Set((process.env.BENCH_ONLY ?? 'actions,workflows').split(','));

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
      errors: runs.reduce((n, r) => n + r.errors, 0),
    };
  });
}

async function actionsPart(): Promise<Part & { results: ReturnType<typeof summarize> }> {
  const store: Record<string, string> = databaseUrl ? { SWITCHBOARD_DATABASE_URL: databaseUrl } : {};
  process.stderr.write(
    `actions: ${rounds} round(s) of ${durationMs} ms per target, store ${databaseUrl ? 'PostgreSQL' : 'SQLite'}\n`,
  );
  const http = await setUpHttpTargets(store);
  const code = await setUpCodeTargets(http);
  const results = await measure([http.floor, http.proxy, http.switchboard, code.trivial, code.fetch]);
  const table = summarize(results);
  const row = (name: string, c: number) => table.find((r) => r.target === name && r.concurrency === c);
  const ratio = (a: number | undefined, b: number | undefined) => (a ?? NaN) / (b ?? NaN);

  const perRound = (name: string, c: number) => results.get(`${name}@${c}`) ?? [];
  const throughputRatios = perRound(http.switchboard.name, 32).map(
    (r, i) => r.rps / (perRound(http.proxy.name, 32)[i]?.rps ?? NaN),
  );
  const p50Overheads = perRound(http.switchboard.name, 1).map(
    (r, i) => r.p50 - (perRound(http.floor.name, 1)[i]?.p50 ?? NaN),
  );
  const trivialP50 = median(perRound(code.trivial.name, 1).map((r) => r.p50));
  const fetchRatios = perRound(code.fetch.name, 1).map(
    (r, i) => r.p50 / (perRound(http.switchboard.name, 1)[i]?.p50 ?? NaN),
  );
  const checks: Check[] = [
    {
      name: 'http action throughput / bare proxy at c=32',
      value: median(throughputRatios),
      target: '>= 0.70',
      pass: median(throughputRatios) >= 0.7,
    },
    {
      name: 'http action p50 minus floor p50 at c=1 (ms)',
      value: median(p50Overheads),
      target: '<= 0.60',
      pass: median(p50Overheads) <= 0.6,
    },
    {
      name: 'trivial code action p50 at c=1 (ms)',
      value: trivialP50,
      target: '<= 1.50',
      pass: trivialP50 <= 1.5,
    },
    {
      name: 'code action with one fetch p50 / http action p50 at c=1',
      value: median(fetchRatios),
      target: '<= 1.50',
      pass: median(fetchRatios) <= 1.5,
    },
  ];

  const lines = [
    `${'target'.padEnd(30)} ${'c'.padStart(3)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'vs proxy'.padStart(9)} ${'CPU µs/req'.padStart(11)}`,
    ...table.map(
      (r) =>
        `${r.target.padEnd(30)} ${String(r.concurrency).padStart(3)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(3).padStart(8)} ${r.p99.toFixed(3).padStart(8)} ${`${ratio(r.rps, row(http.proxy.name, r.concurrency)?.rps).toFixed(2)}x`.padStart(9)} ${(r.cpuMicros === undefined ? '-' : r.cpuMicros.toFixed(0)).padStart(11)}${r.errors ? `  (${r.errors} errors)` : ''}`,
    ),
    '',
    'CPU µs/req: CPU time the serving process used per request, all its threads (steadier than req/s on shared cores).',
  ];
  return { lines, checks, results: table };
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
    target: f.store === 'sqlite' ? '< 2 ms per step on SQLite' : 'none on PostgreSQL',
    pass: f.store === 'sqlite' ? f.overheadPerStepMs < 2 : undefined,
  }));
  return { lines, checks, results: figures };
}

async function main(): Promise<void> {
  const actions = parts.has('actions') ? await actionsPart() : undefined;
  // the workflow part has the cores to itself
  await stopChildren();
  const workflows = parts.has('workflows') ? await workflowsPart() : undefined;
  const checks = [...(actions?.checks ?? []), ...(workflows?.checks ?? [])];
  const lines = [
    '',
    ...(actions ? [...actions.lines, ''] : []),
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
