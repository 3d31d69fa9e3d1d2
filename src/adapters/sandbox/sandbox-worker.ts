/**
 * A sandbox worker thread: loads its own QuickJS WebAssembly module once, then runs one code action at a
 * time, each in a fresh runtime and context prepared while the worker was idle (prepared-context.ts).
 * Between runs it does its chores one small step per turn of its event loop: free the last run's
 * runtime, prepare the next context, compile fetch into it when recent runs used fetch, and compile the
 * source it last ran (a run of the same source then only calls it). A run that arrives meanwhile starts
 * at the next turn with what is ready; the pool hears when everything is (`prepared`).
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
/** The pool has been told that the spare is ready. */
let announced = false;
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
  if (!step) {
    if (!announced) send({ t: 'prepared' });
    announced = true;
  } else if (guarded(step)) chores();
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
  return undefined;
}

function chores(): void {
  if (choring) return;
  choring = true;
  setImmediate(chore);
}

async function execute(message: Extract<ToWorker, { t: 'run' }>): Promise<void> {
  const { id } = message;
  freeFinished();
  if (!broken && !spare) guarded(() => (spare = PreparedContext.prepare(engine)));
  const prepared = spare;
  spare = undefined;
  announced = false;
  if (!prepared || broken) {
    send({ t: 'refused', id });
    return;
  }
  const run = new GuestRun(engine, prepared, message, (n, request) => send({ t: 'fetch', id, n, request }));
  current = { id, run };
  const report = await run.execute();
  current = undefined;
  recentFetches = ((recentFetches << 1) | (run.usedFetch ? 1 : 0)) & 0xff;
  lastSource = run.sourceCompiled && message.source.length <= MAX_AHEAD_CHARS ? message.source : undefined;
  send({ t: 'done', id, ...report, wasmBytes: guard.bytes });
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
announced = true;
send({ t: 'ready', wasmBytes: guard.bytes });
