/**
 * The one load generator every target is measured with: a closed loop of `concurrency` workers over an
 * undici pool (one connection each), timing every request with hrtime. Sub-millisecond latencies need
 * better than autocannon's whole-millisecond histogram.
 */
import { Pool } from 'undici';
import { cpuSeconds, rssMb } from './processes.ts';

export interface Target {
  name: string;
  origin: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Checks a response is the real thing, not an error served fast. */
  expectStatus: number;
  /** Text the response body must contain (an execution answers 200 whether it succeeded or not). */
  expectBody?: string;
  /** The process serving it, for CPU per request. */
  pid?: number | undefined;
}

export interface LoadResult {
  target: string;
  concurrency: number;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  /** CPU time the serving process spent per request (all its threads), when it can be read. */
  cpuMicros: number | undefined;
  /** The serving process's largest resident memory while measured (sampled every 100 ms), in MB. */
  rssPeakMb: number | undefined;
}

const RSS_SAMPLE_MS = 100;

const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

export async function runLoad(
  target: Target,
  concurrency: number,
  durationMs: number,
  warmupMs: number,
): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const samples: number[] = [];
  let errors = 0;
  let recording = false;
  let stop = false;

  const worker = async () => {
    while (!stop) {
      const started = process.hrtime.bigint();
      try {
        const response = await pool.request({
          method: target.method,
          path: target.path,
          headers: target.headers,
          body: target.body,
        });
        const text = await response.body.text();
        if (response.statusCode !== target.expectStatus) errors++;
        else if (target.expectBody !== undefined && !text.includes(target.expectBody)) errors++;
      } catch {
        errors++;
      }
      if (recording) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  };

  const workers = Array.from({ length: concurrency }, worker);
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  recording = true;
  const began = performance.now();
  const cpuBefore = cpuSeconds(target.pid);
  let rssPeakMb = rssMb(target.pid);
  const sampler = setInterval(() => {
    const now = rssMb(target.pid);
    if (now !== undefined) rssPeakMb = Math.max(rssPeakMb ?? 0, now);
  }, RSS_SAMPLE_MS);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  clearInterval(sampler);
  recording = false;
  const cpuAfter = cpuSeconds(target.pid);
  const seconds = (performance.now() - began) / 1000;
  const count = samples.length;
  stop = true;
  await Promise.all(workers);
  await pool.close();
  const sorted = Float64Array.from(samples).sort();
  return {
    target: target.name,
    concurrency,
    requests: count,
    errors,
    seconds,
    rps: count / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    cpuMicros:
      cpuBefore === undefined || cpuAfter === undefined || count === 0
        ? undefined
        : ((cpuAfter - cpuBefore) / count) * 1e6,
    rssPeakMb,
  };
}
