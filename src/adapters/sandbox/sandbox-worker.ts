/**
 * A sandbox worker thread: loads its own QuickJS WebAssembly module once, then runs one code action at a
 * time, each in a fresh runtime and context prepared while the worker was idle (prepared-context.ts).
 * Between runs it does its chores one small step per turn of its event loop: free the last run's
 * runtime, prepare the next context, compile fetch into it when recent runs used fetch, and compile the
 * source it last ran (a run of the same source then only calls it). A run that arrives meanwhile starts
 * at the next turn with what is ready.
 * With a fetcher (WorkerSetup), it makes the fetch calls of runs that come with a fetch scope itself,
 * through the fetch the fetcher builds from that scope, loaded among its chores while it is idle (or by
 * the first call that needs it sooner).
 * The pool (quickjs-sandbox.ts) terminates it when it stops answering, and replaces it after enough runs,
 * once its memory has grown, or when it reports that its engine can no longer be trusted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSSyncVariant,
} from 'quickjs-emscripten-core';
import type {
  SandboxFetch,
  SandboxFetchFactory,
  SandboxFetchLogEntry,
  SandboxFetchRequest,
  SandboxFetchScope,
} from '../../core/ports/sandbox.ts';
import { FetchCalls } from './fetch-calls.ts';
import { GuestRun } from './guest-run.ts';
import { MemoryGuard } from './memory-guard.ts';
import { PreparedContext, type Engine } from './prepared-context.ts';
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('sandbox-worker.ts runs as a worker thread');
const setup = workerData as WorkerSetup;

/** Longest source compiled ahead of its run: larger ones are rare, and compiled by their run. */
const MAX_AHEAD_CHARS = 64 * 1024;

// The package's types describe a CommonJS module; Node loads its ESM build, whose default is the variant.
const variant = releaseSync as unknown as QuickJSSyncVariant;
const guard = new MemoryGuard();
const module = await newQuickJSWASMModuleFromVariant(
  newVariant(variant, {
    wasmMemory: guard.memory,
    ...(setup.wasmModule ? { wasmModule: setup.wasmModule } : {}),
  }),
);
const engine: Engine = { module, guard, baseBytes: guard.bytes };

function send(message: FromWorker): void {
  port?.postMessage(message);
}

/** Once the engine misbehaves this worker runs nothing more; the pool replaces it. */
let broken = false;
let current: { id: number; run: GuestRun } | undefined;
let spare: PreparedContext | undefined;
/** Runs answered whose runtime is not yet freed. */
const finished: GuestRun[] = [];
/** One bit per recent run that called fetch: while any is set, contexts are prepared with fetch compiled. */
let recentFetches = 0;
/** The source of the last run, when it compiled: the next context compiles it ahead. */
let lastSource: string | undefined;
let choring = false;

/** Runs `work`; an engine failure breaks the worker (the pool replaces it). False if it failed. */
function guarded(work: () => void): boolean {
  try {
    work();
    return true;
  } catch {
    broken = true;
    send({ t: 'broken' });
    return false;
  }
}

/** Frees the runtimes of answered runs: a run's memory ceiling assumes the others are gone. */
function freeFinished(): void {
  for (let run = finished.shift(); run; run = finished.shift()) {
    const done = run;
    if (!guarded(() => done.dispose())) return;
  }
}

/** One step of the chores, then the next at the next turn of the event loop. */
function chore(): void {
  choring = false;
  if (broken || current) return;
  const step = nextChore();
  if (step && guarded(step)) chores();
}

/** What is left to do before the next run, most urgent first; undefined when nothing is. */
function nextChore(): (() => void) | undefined {
  const done = finished[0];
  if (done)
    return () => {
      finished.shift();
      done.dispose();
    };
  if (!spare) return () => (spare = PreparedContext.prepare(engine));
  const next = spare;
  if (recentFetches !== 0 && !next.fetchWarmed) return () => next.warmFetch();
  const source = lastSource;
  if (source !== undefined && next.compiledSource === undefined) return () => next.compile(source);
  // last, and only while idle: loading the egress client takes a replacement worker tens of milliseconds
  if (setup.fetcher && !fetchFactory) return loadFetcher;
  return undefined;
}

function chores(): void {
  if (choring) return;
  choring = true;
  setImmediate(chore);
}

/**
 * The fetcher's factory: loaded by the chores once the worker is idle, or by the first call that needs it
 * sooner (which waits for it).
 */
let fetchFactory: Promise<SandboxFetchFactory> | undefined;

function loadFetcher(): void {
  const fetcher = setup.fetcher;
  if (!fetcher || fetchFactory) return;
  fetchFactory = import(fetcher.module).then(
    (loaded: { createSandboxFetch: (options: unknown) => SandboxFetchFactory }) =>
      loaded.createSandboxFetch(fetcher.options),
    () => {
      // what went wrong names files of the host: the guest hears only that the call failed
      throw new Error('fetch: the sandbox could not make this call');
    },
  );
  fetchFactory.catch(() => undefined);
}

/** The run's calls made here, from its scope: each answer goes straight to the run. */
function localFetches(
  scope: SandboxFetchScope,
  message: Extract<ToWorker, { t: 'run' }>,
  signal: AbortSignal,
) {
  const log: SandboxFetchLogEntry[] = [];
  let made: Promise<SandboxFetch> | undefined;
  const fetch: SandboxFetch = async (request, callSignal) => {
    if (!made) {
      loadFetcher();
      const factory = fetchFactory ?? Promise.reject(new Error('fetch: this sandbox makes no calls itself'));
      made = factory.then((create) => create(scope, log));
    }
    return (await made)(request, callSignal);
  };
  const calls = new FetchCalls(fetch, message.limits, signal, (n, payload) => {
    if (current?.id === message.id) current.run.deliver(n, payload);
  });
  return { log, request: (n: number, request: SandboxFetchRequest) => calls.request(n, request) };
}

async function execute(message: Extract<ToWorker, { t: 'run' }>): Promise<void> {
  const { id, fetchScope } = message;
  freeFinished();
  if (!broken && !spare) guarded(() => (spare = PreparedContext.prepare(engine)));
  const prepared = spare;
  spare = undefined;
  if (!prepared || broken) {
    send({ t: 'refused', id });
    return;
  }
  const controller = new AbortController();
  const local = fetchScope && localFetches(fetchScope, message, controller.signal);
  const run = new GuestRun(
    engine,
    prepared,
    message,
    local ? local.request : (n, request) => send({ t: 'fetch', id, n, request }),
  );
  current = { id, run };
  const report = await run.execute();
  current = undefined;
  // calls still in flight end with the run
  controller.abort(new Error('The code action run has ended'));
  recentFetches = ((recentFetches << 1) | (run.usedFetch ? 1 : 0)) & 0xff;
  lastSource = run.sourceCompiled && message.source.length <= MAX_AHEAD_CHARS ? message.source : undefined;
  send({ t: 'done', id, ...report, ...(local ? { fetchLog: local.log } : {}), wasmBytes: guard.bytes });
  finished.push(run);
  if (report.retire) broken = true;
  if (!broken) chores();
}

port.on('message', (message: ToWorker) => {
  if (message.t === 'fetched') {
    if (current?.id === message.id) current.run.deliver(message.n, message.payload);
    return;
  }
  if (broken || current) {
    send({ t: 'refused', id: message.id });
    return;
  }
  void execute(message);
});

// A worker that cannot prepare its first context dies here, which the pool counts as a failed start.
spare = PreparedContext.prepare(engine);
send({ t: 'ready', wasmBytes: guard.bytes });
chores();
