/** Sends execution rows to the writer thread (sqlite-writer-worker.ts) and awaits each batch's commit. */
import { Worker } from 'node:worker_threads';
import type { WriterReply, WriterRequest, WriterStop } from './sqlite-writer-worker.ts';

export type ExecutionRow = WriterRequest['rows'][number];

/** An error from the writer thread, carrying SQLite's codes so the caller can tell an outage from a bug. */
export class WriterError extends Error {
  readonly code: string | undefined;
  readonly errcode: number | undefined;
  constructor(message: string, code?: string, errcode?: number) {
    super(message);
    this.name = 'WriterError';
    this.code = code;
    this.errcode = errcode;
  }
}

/** How long the thread waits for another batch before it stops (the next batch starts it again). */
const IDLE_STOP_MS = 2_000;

/**
 * The thread runs while there is something to write: it starts with a batch and stops once none has
 * come for IDLE_STOP_MS, so a process that records nothing (the CLI, an idle server) does not hold a
 * second JavaScript runtime. Starting it again costs some milliseconds of the next batch's commit, which
 * is behind the response anyway.
 */
export class SqliteWriter {
  readonly #file: string;
  readonly #idleStopMs: number;
  #worker: Worker | undefined;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #next = 0;
  #idle: NodeJS.Timeout | undefined;

  constructor(file: string, options: { idleStopMs?: number } = {}) {
    this.#file = file;
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
  }

  #started(): Worker {
    clearTimeout(this.#idle);
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), {
      workerData: { file: this.#file },
      // it holds one batch at a time: a small heap is all it uses
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    worker.on('message', (reply: WriterReply) => {
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.ok) waiting?.resolve();
      else waiting?.reject(new WriterError(reply.message, reply.code, reply.errcode));
      if (this.#waiting.size === 0) {
        // with nothing in flight, the writer must not keep an otherwise finished process alive
        worker.unref();
        this.#stopWhenIdle(worker);
      }
    });
    // a thread stopped for idleness has nothing in flight; any other stop fails what it had
    worker.on('error', (error: Error) => {
      if (this.#worker === worker) this.#failAll(error);
    });
    worker.on('exit', () => {
      if (this.#worker === worker) this.#failAll(new Error('The SQLite writer thread stopped'));
    });
    this.#worker = worker;
    return worker;
  }

  #stopWhenIdle(worker: Worker): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      if (this.#worker !== worker || this.#waiting.size > 0) return;
      this.#worker = undefined;
      worker.postMessage({ stop: true } satisfies WriterStop);
    }, this.#idleStopMs);
    this.#idle.unref();
  }

  insertExecutions(rows: readonly ExecutionRow[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#waiting.set(id, { resolve, reject });
      const worker = this.#started();
      // a batch in flight keeps the process up until it is committed (a shutdown waits for it)
      worker.ref();
      worker.postMessage({ id, rows } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#idle);
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
    this.#failAll(new Error('The SQLite writer was closed'));
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}
