/**
 * Where user JavaScript runs (code actions, workflow code steps). The sandbox is a security boundary:
 * a fresh context per run, nothing of the host inside it but copies, no module loader, no process, no
 * timers outliving the run, and limits enforced by the host (SECURITY.md section C, 2.1).
 */

export interface SandboxLimits {
  /** Wall clock for the whole run, awaited fetches included. */
  timeoutMs: number;
  memoryBytes: number;
  /** The returned value, serialized as JSON. */
  outputBytes: number;
  outputDepth: number;
  /** console output kept, in bytes; past it the log is cut and marked. */
  logBytes: number;
  maxFetches: number;
  maxConcurrentFetches: number;
}

export interface SandboxFetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}

export interface SandboxFetchResponse {
  status: number;
  statusText: string;
  /** Lowercased names. */
  headers: Record<string, string>;
  /** The body as text (UTF-8, after decompression). */
  body: string;
  /** The URL that answered, after redirects. */
  url: string;
}

/**
 * The host side of the guest's `fetch`: every call goes through the guarded egress client. A rejection's
 * message becomes the guest's TypeError message (it must name no secret).
 */
export type SandboxFetch = (
  request: SandboxFetchRequest,
  signal: AbortSignal,
) => Promise<SandboxFetchResponse>;

export interface SandboxRunRequest {
  /** The body of an async function: may `await` and `return` a JSON value. */
  source: string;
  /** JSON data, deep-frozen inside. */
  inputs: Record<string, unknown>;
  /** Only the secrets the action may read, read-only inside. */
  secrets: Record<string, string>;
  limits: SandboxLimits;
  fetch: SandboxFetch;
  /** Aborting it stops the run where it is (waiting its turn, or running: the guest is stopped). */
  signal?: AbortSignal | undefined;
}

export const SANDBOX_ERROR_CODES = [
  /** The wall-clock limit passed (a loop, a hung fetch, a promise never settled). */
  'SANDBOX_TIMEOUT',
  /** The memory limit was reached. */
  'SANDBOX_MEMORY',
  /** The code threw, or did not compile: the author's error, with its message and line. */
  'SANDBOX_ERROR',
  /** The returned value is not JSON (a function, a BigInt, a cycle) or is nested too deep. */
  'OUTPUT_INVALID',
  'OUTPUT_TOO_LARGE',
  /** The engine or its worker died; the run did not finish. */
  'SANDBOX_CRASHED',
  /** The run's signal aborted: it was stopped before it finished. */
  'SANDBOX_CANCELLED',
] as const;
export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

interface RunReport {
  /** console.log/info/warn/error lines, each prefixed with its level when not `log`. */
  logs: string[];
  logsTruncated: boolean;
  fetches: number;
  durationMs: number;
}

export type SandboxResult =
  | ({ ok: true; value: unknown } & RunReport)
  | ({
      ok: false;
      code: SandboxErrorCode;
      message: string;
      /** Line in the author's source, when the engine knows it. */
      line?: number | undefined;
    } & RunReport);

export interface Sandbox {
  run(request: SandboxRunRequest): Promise<SandboxResult>;
  close(): Promise<void>;
}
