/**
 * Messages between the pool (main thread) and a sandbox worker. One message each way per run; each fetch
 * adds one message each way unless the worker makes the call itself (a run with a fetch scope, on a pool
 * with a fetcher). Only strings, numbers and plain objects cross: the guest's values never leave the
 * worker except as JSON text.
 */
import type { WasmModule } from './wasm.ts';
import type {
  SandboxErrorCode,
  SandboxFetchLogEntry,
  SandboxFetchRequest,
  SandboxFetchScope,
  SandboxLimits,
} from '../../core/ports/sandbox.ts';

/** Given to each worker at start. */
export interface WorkerSetup {
  /** The QuickJS WebAssembly module, compiled once by the pool and shared (no per-worker compile). */
  wasmModule: WasmModule | undefined;
  /** The module (its URL) that makes the worker's fetch calls, and the options it is made with. */
  fetcher?: { module: string; options: unknown };
}

export type ToWorker =
  | {
      t: 'run';
      id: number;
      source: string;
      /** JSON text of the inputs. */
      inputs: string;
      /** JSON text of the declared secrets. */
      secrets: string;
      limits: SandboxLimits;
      /** Present when this worker makes the run's fetch calls itself. */
      fetchScope?: SandboxFetchScope;
    }
  | {
      t: 'fetched';
      id: number;
      /** Which of the run's fetch calls this answers (1-based). */
      n: number;
      /** JSON text: the response `{status, statusText, headers, body, url}`, or `{error}`. */
      payload: string;
    };

export type WorkerOutcome =
  | { ok: true; json: string }
  | { ok: false; code: SandboxErrorCode; message: string; line?: number | undefined };

export type FromWorker =
  | { t: 'ready'; /** Size of the engine's WebAssembly memory, idle. */ wasmBytes: number }
  | { t: 'fetch'; id: number; n: number; request: SandboxFetchRequest }
  /** The worker did not start this run (its engine is no longer trusted): run it elsewhere. */
  | { t: 'refused'; id: number }
  /** The engine failed outside any run (freeing or preparing a context): replace this worker. */
  | { t: 'broken' }
  | {
      t: 'done';
      id: number;
      outcome: WorkerOutcome;
      logs: string[];
      logsTruncated: boolean;
      fetches: number;
      /** What each fetch did, when this worker made the calls. */
      fetchLog?: SandboxFetchLogEntry[];
      durationMs: number;
      /** Size of the engine's WebAssembly memory after the run (it never shrinks). */
      wasmBytes: number;
      /** The engine's state cannot be trusted any more: replace this worker. */
      retire: boolean;
    };
