/**
 * The Sandbox port over QuickJS (WebAssembly, sync variant) in a pool of worker threads. Each worker owns
 * one engine module and runs one execution at a time in a fresh runtime and context. Limits are enforced
 * three times over: by the engine (interrupt handler at the deadline, stack limit), by the worker (the
 * memory ceiling on every heap growth, the fetch budget), and by whichever thread makes the fetch calls
 * (the budget again, and the concurrency), besides a hard kill of the worker if it has not answered by
 * the deadline plus a grace period. With a `fetcher`, a run that comes with a fetch scope has its calls
 * made by its own worker, through the fetch the fetcher builds there: a call goes from the guest to the
 * egress client and back without leaving the thread. Other runs' calls come here to the run's fetch.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type {
  Sandbox,
  SandboxErrorCode,
  SandboxFetchScope,
  SandboxLimits,
  SandboxResult,
  SandboxRunRequest,
} from '../../core/ports/sandbox.ts';
import { FetchCalls } from './fetch-calls.ts';
import type { FromWorker, ToWorker, WorkerOutcome, WorkerSetup } from './protocol.ts';
import { wasm, type WasmModule } from './wasm.ts';

export interface QuickJsSandboxOptions {
  /** Worker threads, each running one execution at a time. */
  workers: number;
  /** Replace a worker after this many runs (default 10,000; one whose memory grew goes sooner). */
  recycleAfterRuns?: number;
  /** How long after the deadline a silent worker is terminated (default 250 ms). */
  hardKillGraceMs?: number;
  /** The worker's script; tests replace it to make workers crash or hang on purpose. */
  workerScript?: URL;
  /**
   * Start the workers with the first run (or `start()`) rather than now, for processes that may never
   * run code (the CLI, most tests).
   */
  lazy?: boolean;
  /**
   * A module each worker loads to make fetch calls itself: it exports `createSandboxFetch(options)`,
   * which answers a SandboxFetchFactory; `options` must be cloneable to a worker thread.
   */
  fetcher?: { module: URL; options: unknown };
}

export interface SandboxPoolStats {
  /** Live workers, starting ones included. Stays at `workers` but for the moment of a replacement. */
  workers: number;
  busy: number;
  queued: number;
  /** Workers started since the pool was created, replacements included. */
  started: number;
  /** Workers replaced after their run count, their memory growth, or an engine failure they reported. */
  recycled: number;
  /** Workers terminated because they did not answer by the deadline plus the grace period. */
  hardKills: number;
  /** Workers that died on their own (crash, out of heap, exit). */
  crashes: number;
  /** The largest engine memory any worker reported, in bytes. */
  peakWasmBytes: number;
}

export interface QuickJsSandbox extends Sandbox {
  stats(): SandboxPoolStats;
  /** Starts the workers of a lazy pool ahead of its first run; does nothing if they are started. */
  start(): void;
}

/**
 * Native stack of each worker. QuickJS's own limit (guest-run.ts) trips far below it, so deep recursion
 * and deeply nested source stay catchable errors inside the guest; it is virtual memory until touched.
 */
const STACK_SIZE_MB = 32;
/**
 * The worker's own V8 heap: the engine's memory is WebAssembly memory, not counted here. A worker that
 * makes fetch calls holds their responses too (a few at once, each capped by the egress client).
 */
const RESOURCE_LIMITS = {
  maxOldGenerationSizeMb: 128,
  maxYoungGenerationSizeMb: 16,
  stackSizeMb: STACK_SIZE_MB,
};
const FETCHING_OLD_GENERATION_MB = 256;
/** A worker whose engine memory has grown this much past its start is replaced (memory never shrinks). */
const RECYCLE_GROWTH_BYTES = 16 * 1024 * 1024;
/** Consecutive workers that die before becoming ready after which queued runs are failed, not held. */
const START_FAILURES_BEFORE_FAILING = 3;
const MAX_RESPAWN_DELAY_MS = 5_000;
const CANCELLED = 'The run was stopped before it finished';

interface Slot {
  worker: Worker;
  ready: boolean;
  gone: boolean;
  runs: number;
  baseBytes: number;
  run: ActiveRun | undefined;
}

interface QueuedRun {
  request: SandboxRunRequest;
  resolve: (result: SandboxResult) => void;
  /** Listens to the request's signal until the run is answered. */
  onAbort?: (() => void) | undefined;
  /** Set while a worker runs it. */
  running?: ActiveRun | undefined;
}

interface ActiveRun extends QueuedRun {
  queued: QueuedRun;
  id: number;
  slot: Slot;
  started: number;
  controller: AbortController;
  hardKill: NodeJS.Timeout;
  /** The run's fetch calls, when they are made here (not by its worker). */
  calls: FetchCalls | undefined;
  finished: boolean;
}

const LIMIT_NAMES = [
  'timeoutMs',
  'memoryBytes',
  'outputBytes',
  'outputDepth',
  'logBytes',
  'maxFetches',
  'maxConcurrentFetches',
] as const satisfies ReadonlyArray<keyof SandboxLimits>;

function copyLimits(limits: SandboxLimits): SandboxLimits {
  const copy = {} as Record<keyof SandboxLimits, number>;
  for (const name of LIMIT_NAMES) {
    const value = limits[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`Sandbox limit ${name} must be a finite number >= 0`);
    }
    copy[name] = value;
  }
  if (copy.timeoutMs <= 0 || copy.memoryBytes <= 0)
    throw new RangeError('Sandbox timeoutMs and memoryBytes must be > 0');
  return copy;
}

async function compileEngine(): Promise<WasmModule | undefined> {
  try {
    const path = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    return await wasm.compile(await readFile(path));
  } catch {
    return undefined; // each worker then loads the module on its own
  }
}

export function createQuickJsSandbox(options: QuickJsSandboxOptions): QuickJsSandbox {
  const size = options.workers;
  if (!Number.isInteger(size) || size < 1) throw new RangeError('workers must be an integer >= 1');
  const recycleAfterRuns = options.recycleAfterRuns ?? 10_000;
  const graceMs = options.hardKillGraceMs ?? 250;
  const workerScript = options.workerScript ?? new URL('./sandbox-worker.ts', import.meta.url);

  const slots = new Set<Slot>();
  const queue: QueuedRun[] = [];
  const respawnTimers = new Set<NodeJS.Timeout>();
  const stats = { started: 0, recycled: 0, hardKills: 0, crashes: 0, peakWasmBytes: 0 };
  let nextId = 1;
  let startFailures = 0;
  /** Workers asked for whose thread is not created yet (the engine is still compiling). */
  let starting = 0;
  let closed = false;
  let engine: Promise<WasmModule | undefined> | undefined;

  function report(run: QueuedRun & { calls?: FetchCalls | undefined }, durationMs: number) {
    return { logs: [] as string[], logsTruncated: false, fetches: run.calls?.made ?? 0, durationMs };
  }

  function detach(queued: QueuedRun): void {
    if (queued.onAbort) queued.request.signal?.removeEventListener('abort', queued.onAbort);
    queued.onAbort = undefined;
  }

  function failed(run: QueuedRun, code: SandboxErrorCode, message: string): void {
    detach(run);
    run.resolve({ ok: false, code, message, ...report(run, 0) });
  }

  function finish(run: ActiveRun, result: SandboxResult): void {
    if (run.finished) return;
    run.finished = true;
    detach(run.queued);
    clearTimeout(run.hardKill);
    run.controller.abort(new Error('The code action run has ended'));
    run.resolve(result);
  }

  /** The run's signal aborted: a waiting run leaves the queue; a running one's worker is ended with it. */
  function cancel(queued: QueuedRun): void {
    const waiting = queue.indexOf(queued);
    if (waiting >= 0) {
      queue.splice(waiting, 1);
      failed(queued, 'SANDBOX_CANCELLED', CANCELLED);
      return;
    }
    const run = queued.running;
    if (!run || run.finished) return;
    finishFailed(run, 'SANDBOX_CANCELLED', CANCELLED);
    // the guest may be in the middle of synchronous code: only ending its worker stops it for sure
    run.slot.run = undefined;
    replace(run.slot);
  }

  function finishFailed(run: ActiveRun, code: SandboxErrorCode, message: string): void {
    finish(run, { ok: false, code, message, ...report(run, performance.now() - run.started) });
  }

  function spawn(): void {
    if (closed) return;
    starting++;
    engine ??= compileEngine();
    void engine.then((wasmModule) => {
      starting--;
      if (closed) return;
      const setup: WorkerSetup = {
        wasmModule,
        ...(options.fetcher
          ? { fetcher: { module: options.fetcher.module.href, options: options.fetcher.options } }
          : {}),
      };
      const worker = new Worker(workerScript, {
        workerData: setup,
        env: {},
        resourceLimits: options.fetcher
          ? { ...RESOURCE_LIMITS, maxOldGenerationSizeMb: FETCHING_OLD_GENERATION_MB }
          : RESOURCE_LIMITS,
        stdout: true,
        stderr: true,
        name: 'switchboard-sandbox',
      });
      // the engine prints only when it aborts; nothing there is for the operator's terminal
      worker.stdout.resume();
      worker.stderr.resume();
      worker.unref();
      const slot: Slot = { worker, ready: false, gone: false, runs: 0, baseBytes: 0, run: undefined };
      slots.add(slot);
      stats.started++;
      worker.on('message', (message: FromWorker) => onMessage(slot, message));
      worker.on('error', () => onExit(slot));
      worker.on('exit', () => onExit(slot));
    });
  }

  function onMessage(slot: Slot, message: FromWorker): void {
    if (slot.gone) return;
    if (message.t === 'ready') {
      slot.ready = true;
      slot.baseBytes = message.wasmBytes;
      startFailures = 0;
      dispatch();
      return;
    }
    if (message.t === 'broken') {
      // a run already sent to it will come back refused and be queued again
      if (!slot.run) {
        stats.recycled++;
        replace(slot);
      }
      return;
    }
    const run = slot.run;
    if (!run || run.id !== message.id) return;
    if (message.t === 'fetch') {
      run.calls?.request(message.n, message.request);
      return;
    }
    slot.run = undefined;
    if (message.t === 'refused') {
      // none of the code ran: it is safe to give the run to another worker
      run.finished = true;
      clearTimeout(run.hardKill);
      run.queued.running = undefined;
      queue.unshift(run.queued);
      stats.recycled++;
      replace(slot);
      return;
    }
    slot.runs++;
    stats.peakWasmBytes = Math.max(stats.peakWasmBytes, message.wasmBytes);
    finish(run, toResult(run, message));
    // idle workers are taken oldest first: the one that just answered is still preparing its next context
    slots.delete(slot);
    slots.add(slot);
    if (
      message.retire ||
      slot.runs >= recycleAfterRuns ||
      message.wasmBytes > slot.baseBytes + RECYCLE_GROWTH_BYTES
    ) {
      stats.recycled++;
      replace(slot);
    } else dispatch();
  }

  function toResult(run: ActiveRun, message: Extract<FromWorker, { t: 'done' }>): SandboxResult {
    const base = {
      logs: message.logs,
      logsTruncated: message.logsTruncated,
      fetches: run.calls?.made ?? message.fetches,
      ...(message.fetchLog ? { fetchLog: message.fetchLog } : {}),
      durationMs: performance.now() - run.started,
    };
    const outcome: WorkerOutcome = message.outcome;
    if (!outcome.ok)
      return { ok: false, code: outcome.code, message: outcome.message, line: outcome.line, ...base };
    try {
      return { ok: true, value: JSON.parse(outcome.json) as unknown, ...base };
    } catch {
      return { ok: false, code: 'OUTPUT_INVALID', message: 'The returned value is not valid JSON', ...base };
    }
  }

  /** A worker died on its own: its run (if any) crashed, and a new worker takes its place. */
  function onExit(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    slots.delete(slot);
    if (closed) return;
    stats.crashes++;
    if (slot.run)
      finishFailed(slot.run, 'SANDBOX_CRASHED', 'The sandbox worker stopped before the run finished');
    slot.run = undefined;
    if (!slot.ready) {
      startFailures++;
      if (startFailures >= START_FAILURES_BEFORE_FAILING) {
        for (const run of queue.splice(0))
          failed(run, 'SANDBOX_CRASHED', 'The sandbox engine could not start');
      }
      const delay = Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** (startFailures - 1));
      const timer = setTimeout(() => {
        respawnTimers.delete(timer);
        spawn();
      }, delay);
      timer.unref();
      respawnTimers.add(timer);
      return;
    }
    spawn();
  }

  /** Terminates a worker on purpose (recycling, hard kill) and starts its replacement. */
  function replace(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    slots.delete(slot);
    void slot.worker.terminate();
    spawn();
    dispatch();
  }

  function dispatch(): void {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (slot.ready && !slot.gone && !slot.run) begin(slot, queue.shift() as QueuedRun);
    }
  }

  function begin(slot: Slot, queued: QueuedRun): void {
    const { request } = queued;
    let inputs: string;
    let secrets: string;
    let limits: SandboxLimits;
    // the worker makes the calls itself when it can build the run's fetch from its scope
    let scope: SandboxFetchScope | undefined;
    try {
      limits = copyLimits(request.limits);
      inputs = JSON.stringify(request.inputs ?? {});
      secrets = JSON.stringify(
        Object.fromEntries(Object.entries(request.secrets ?? {}).map(([k, v]) => [k, String(v)])),
      );
      scope = options.fetcher && request.fetchScope ? structuredClone(request.fetchScope) : undefined;
    } catch (error) {
      failed(
        queued,
        'SANDBOX_ERROR',
        `The run request is invalid: ${error instanceof Error ? error.message : 'unknown error'}`,
      );
      return;
    }
    const id = nextId++;
    const controller = new AbortController();
    const run: ActiveRun = {
      ...queued,
      queued,
      id,
      slot,
      started: performance.now(),
      controller,
      hardKill: setTimeout(() => {
        stats.hardKills++;
        finishFailed(
          run,
          'SANDBOX_TIMEOUT',
          `The code ran longer than its ${limits.timeoutMs} ms time limit`,
        );
        slot.run = undefined;
        replace(slot);
      }, limits.timeoutMs + graceMs),
      calls: scope
        ? undefined
        : new FetchCalls(request.fetch, limits, controller.signal, (n, payload) => answer(run, n, payload)),
      finished: false,
    };
    slot.run = run;
    queued.running = run;
    const message: ToWorker = {
      t: 'run',
      id,
      source: String(request.source),
      inputs,
      secrets,
      limits,
      ...(scope ? { fetchScope: scope } : {}),
    };
    slot.worker.postMessage(message);
  }

  function answer(run: ActiveRun, n: number, payload: string): void {
    if (run.finished || run.slot.gone) return;
    const message: ToWorker = { t: 'fetched', id: run.id, n, payload };
    run.slot.worker.postMessage(message);
  }

  let started = false;
  function start(): void {
    if (started || closed) return;
    started = true;
    for (let i = 0; i < size; i++) spawn();
  }
  if (!options.lazy) start();

  return {
    start,

    run(request: SandboxRunRequest): Promise<SandboxResult> {
      return new Promise((resolve) => {
        const queued: QueuedRun = { request, resolve };
        if (closed) {
          failed(queued, 'SANDBOX_CRASHED', 'The sandbox is closed');
          return;
        }
        const { signal } = request;
        if (signal?.aborted) {
          failed(queued, 'SANDBOX_CANCELLED', CANCELLED);
          return;
        }
        if (signal) {
          queued.onAbort = () => cancel(queued);
          signal.addEventListener('abort', queued.onAbort, { once: true });
        }
        start();
        queue.push(queued);
        dispatch();
      });
    },

    stats(): SandboxPoolStats {
      let busy = 0;
      for (const slot of slots) if (slot.run) busy++;
      return { workers: slots.size + starting, busy, queued: queue.length, ...stats };
    },

    async close(): Promise<void> {
      closed = true;
      for (const timer of respawnTimers) clearTimeout(timer);
      respawnTimers.clear();
      for (const run of queue.splice(0)) failed(run, 'SANDBOX_CRASHED', 'The sandbox is closed');
      const terminations: Array<Promise<number>> = [];
      for (const slot of slots) {
        slot.gone = true;
        if (slot.run) finishFailed(slot.run, 'SANDBOX_CRASHED', 'The sandbox is closed');
        terminations.push(slot.worker.terminate());
      }
      slots.clear();
      await Promise.all(terminations);
    },
  };
}
