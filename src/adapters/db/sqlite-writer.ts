/** Sends execution rows to the writer thread (sqlite-writer-worker.ts) and awaits each batch's commit. */
import { Worker } from 'node:worker_threads';
import type { WriterReply, WriterRequest } from './sqlite-writer-worker.ts';

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

export class SqliteWriter {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  #next = 0;

  constructor(file: string) {
    this.#worker = new Worker(new URL('./sqlite-writer-worker.ts', import.meta.url), {
      workerData: { file },
    });
    this.#worker.on('message', (reply: WriterReply) => {
      const waiting = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.ok) waiting?.resolve();
      else waiting?.reject(new WriterError(reply.message, reply.code, reply.errcode));
    });
    this.#worker.on('error', (error: Error) => this.#failAll(error));
    this.#worker.on('exit', () => this.#failAll(new Error('The SQLite writer thread stopped')));
    // the writer must not keep an otherwise finished process alive
    this.#worker.unref();
  }

  insertExecutions(rows: readonly ExecutionRow[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage({ id, rows } satisfies WriterRequest);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }

  #failAll(error: Error): void {
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}
