/** The OpenApiReader port on one worker thread (reader-worker.ts), started with the first document. */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import type { ImportPlan } from '../../core/openapi/index.ts';
import type { OpenApiReader, OpenApiReading } from '../../core/ports/openapi-reader.ts';
import type { ReaderReply, ReaderRequest } from './reader-worker.ts';

type Waiting = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Payload = ReaderRequest extends infer R ? (R extends unknown ? Omit<R, 'id' | 'job'> : never) : never;

export function createWorkerOpenApiReader(): OpenApiReader {
  let worker: Worker | undefined;
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let nextJob = 0;

  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
    worker = undefined;
  };

  function thread(): Worker {
    if (worker) return worker;
    const started = new Worker(new URL('./reader-worker.ts', import.meta.url));
    started.on('message', (reply: ReaderReply) => {
      const entry = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (reply.ok) entry?.resolve(reply.value);
      else
        entry?.reject(
          reply.app
            ? new AppError(reply.app.code, reply.message, {
                path: reply.app.path,
                details: reply.app.details,
              })
            : new Error(`OpenAPI reader: ${reply.message}`),
        );
    });
    started.on('error', failAll);
    started.on('exit', () => failAll(new Error('The OpenAPI reader thread stopped')));
    // an idle reader must not keep a finished process alive
    started.unref();
    worker = started;
    return started;
  }

  /** Bytes are handed over rather than copied: copying megabytes would hold up the event loop. */
  function call<T>(job: number, payload: Payload, bytes?: unknown): Promise<T> {
    const target = thread();
    const transfer =
      bytes instanceof Uint8Array && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? [bytes.buffer as ArrayBuffer]
        : [];
    return new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      target.postMessage({ ...payload, id, job }, transfer);
    });
  }

  return {
    async open(document, url) {
      const job = nextJob++;
      let pending = await call<string[]>(job, { op: 'open', document, url }, document);
      const reading: OpenApiReading = {
        get pending() {
          return pending;
        },
        async add(fileUrl, bytes) {
          pending = await call<string[]>(job, { op: 'add', url: fileUrl, bytes }, bytes);
        },
        async fail(fileUrl, reason) {
          pending = await call<string[]>(job, { op: 'fail', url: fileUrl, reason });
        },
        plan: async (options) => JSON.parse(await call<string>(job, { op: 'plan', options })) as ImportPlan,
        close() {
          if (worker) void call(job, { op: 'close' }).catch(() => undefined);
        },
      };
      return reading;
    },
    async close() {
      const running = worker;
      worker = undefined;
      await running?.terminate();
    },
  };
}
