/**
 * Where user JavaScript runs (code actions, workflow code steps). The sandbox is a security boundary:
 * a fresh context per run, nothing of the host inside it but copies, no module loader, no process, no
 * timers outliving the run, and limits enforced by the host (docs/security.md C and "Limits").
 */
import type { SecretRecord } from '../secrets.ts';

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

/** One fetch as the execution record shows it (secrets are redacted with the rest of the record). */
export interface SandboxFetchLogEntry {
  method: string;
  url: string;
  status?: number;
  error?: string;
  duration_ms: number;
}

/**
 * What a run's fetch may reach, as data, for a sandbox that makes the calls from the threads the code
 * runs in (a SandboxFetch is a function, which cannot go there): it builds the run's fetch from this
 * with its SandboxFetchFactory, and then never calls the request's `fetch`.
 */
export interface SandboxFetchScope {
  /**
   * Every secret the run can read, with the hosts it is bound to. With any, each request may go only to
   * their allowed_hosts (none at all while one has none), and a request carrying one only to that
   * secret's.
   */
  secrets: readonly { record: SecretRecord; value: string }[];
  /** The deadline of each call, further cut to the time the run has left. */
  timeoutMs: number;
  /** When the run must end (epoch ms). */
  deadline: number;
}

/** A run's fetch from its scope, made where the code runs; each call adds its entry to `log`. */
export type SandboxFetchFactory = (scope: SandboxFetchScope, log: SandboxFetchLogEntry[]) => SandboxFetch;

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
  /** The same fetch as data, for a sandbox that makes the calls itself (see SandboxFetchScope). */
  fetchScope?: SandboxFetchScope | undefined;
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
  /** What each fetch did, when the sandbox made the calls itself from the request's fetchScope. */
  fetchLog?: SandboxFetchLogEntry[] | undefined;
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
