/**
 * The OpenAPI reader thread: parses documents and the files they refer to, and plans the import, so the
 * seconds a large YAML document takes never hold up the event loop that answers requests.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { AppError } from '../../core/errors.ts';
import {
  type PlanOptions,
  ReferencedFiles,
  parseDocumentText,
  planImport,
} from '../../core/openapi/index.ts';

export type ReaderRequest = { id: number; job: number } & (
  | { op: 'open'; document: unknown; url: string | undefined }
  | { op: 'add'; url: string; bytes: Uint8Array }
  | { op: 'fail'; url: string; reason: string }
  | { op: 'plan'; options: Omit<PlanOptions, 'documentUrl'> }
  | { op: 'close' }
);

export type ReaderReply =
  | { id: number; ok: true; value: unknown }
  | {
      id: number;
      ok: false;
      message: string;
      app?: {
        code: AppError['code'];
        path: string | undefined;
        details: Record<string, unknown> | undefined;
      };
    };

/**
 * Parsing is background work: on Linux this thread takes the lowest CPU priority (a thread's own nice
 * value, set through its id), so when the machine is busy the event loop's thread gets the CPU first.
 * Elsewhere, or where it is not allowed, the thread runs at the process's priority.
 */
function yieldCpu(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, 19);
  } catch {
    // not Linux, or not permitted
  }
}
yieldCpu();

const readings = new Map<number, { files: ReferencedFiles; url: string | undefined }>();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as UTF-8 text (decoded here, off the event loop), or the text or object as given. */
function parse(document: unknown): unknown {
  if (!(document instanceof Uint8Array))
    return typeof document === 'string' ? parseDocumentText(document) : document;
  let text: string;
  try {
    text = utf8.decode(document);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'The document is not UTF-8 text', { path: '/url' });
  }
  return parseDocumentText(text);
}

function handle(request: ReaderRequest): unknown {
  if (request.op === 'open') {
    const root = parse(request.document);
    const files = new ReferencedFiles(root, request.url);
    readings.set(request.job, { files, url: request.url });
    return files.pending();
  }
  if (request.op === 'close') {
    readings.delete(request.job);
    return null;
  }
  const reading = readings.get(request.job);
  if (reading === undefined) throw new Error(`No OpenAPI reading ${request.job}`);
  switch (request.op) {
    case 'add':
      try {
        reading.files.add(request.url, parse(request.bytes));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        reading.files.fail(request.url, error.message.replace(/^The document/, 'it'));
      }
      return reading.files.pending();
    case 'fail':
      reading.files.fail(request.url, request.reason);
      return reading.files.pending();
    case 'plan':
      // as JSON text: the main thread parses it several times faster than it takes a structured clone
      return JSON.stringify(
        planImport(reading.files.bundle(), { ...request.options, documentUrl: reading.url }),
      );
  }
}

parentPort?.on('message', (request: ReaderRequest) => {
  try {
    parentPort?.postMessage({ id: request.id, ok: true, value: handle(request) } satisfies ReaderReply);
  } catch (error) {
    const app =
      error instanceof AppError ? { code: error.code, path: error.path, details: error.details } : undefined;
    parentPort?.postMessage({
      id: request.id,
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      ...(app ? { app } : {}),
    } satisfies ReaderReply);
  }
});
