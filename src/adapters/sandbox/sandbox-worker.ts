/**
 * A sandbox worker thread: loads its own QuickJS WebAssembly module once, then runs one code action at a
 * time, each in a fresh runtime and context prepared while the worker was idle (prepared-context.ts).
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
/** One bit per recent run that called fetch: while any is set, contexts are prepared with fetch compiled. */
let recentFetches = 0;

function prepare(): PreparedContext | undefined {
  try {
    return PreparedContext.prepare(engine, recentFetches !== 0);
  } catch {
    broken = true;
    send({ t: 'broken' });
    return undefined;
  }
}

async function execute(message: Extract<ToWorker, { t: 'run' }>): Promise<void> {
  const { id } = message;
  const prepared = spare ?? prepare();
  spare = undefined;
  if (!prepared || broken) {
    send({ t: 'refused', id });
    return;
  }
  const run = new GuestRun(engine, prepared, message, (n, request) => send({ t: 'fetch', id, n, request }));
  current = { id, run };
  const report = await run.execute();
  current = undefined;
  recentFetches = ((recentFetches << 1) | (run.usedFetch ? 1 : 0)) & 0xff;
  send({ t: 'done', id, ...report, wasmBytes: guard.bytes });
  // Freeing the run's runtime and preparing the next one happen after the answer has left.
  try {
    run.dispose();
  } catch {
    broken = true;
    send({ t: 'broken' });
  }
  if (report.retire || broken) {
    broken = true;
    return;
  }
  spare = prepare();
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
spare = PreparedContext.prepare(engine, false);
send({ t: 'ready', wasmBytes: guard.bytes });
