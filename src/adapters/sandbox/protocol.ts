/**
 * Messages between the pool (main thread) and a sandbox worker. One message each way per run when the
 * code makes no fetch; each fetch adds one message each way. Only strings, numbers and plain objects
 * cross: the guest's values never leave the worker except as JSON text.
 */
import type { WasmModule } from './wasm.ts';
import type { SandboxErrorCode, SandboxFetchRequest, SandboxLimits } from '../../core/ports/sandbox.ts';

/** Given to each worker at start. */
export interface WorkerSetup {
  /** The QuickJS WebAssembly module, compiled once by the pool and shared (no per-worker compile). */
  wasmModule: WasmModule | undefined;
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
  /** The context for the next run is ready (runs sent before this start sooner elsewhere). */
  | { t: 'prepared' }
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
      durationMs: number;
      /** Size of the engine's WebAssembly memory after the run (it never shrinks). */
      wasmBytes: number;
      /** The engine's state cannot be trusted any more: replace this worker. */
      retire: boolean;
    };
