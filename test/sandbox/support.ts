/**
 * Shared pieces of the sandbox tests: the limits of docs/security.md, "Limits" (with shorter deadlines where
 * a test waits for one), and a fake host `fetch` that answers from a map and records what reached it. The
 * real egress client is tested elsewhere; here the host function is the boundary.
 */
import type {
  SandboxFetchRequest,
  SandboxFetchResponse,
  SandboxLimits,
  SandboxResult,
  SandboxRunRequest,
} from '../../src/core/ports/sandbox.ts';
import type { QuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';

export const MB = 1024 * 1024;

/** The defaults of docs/security.md, "Limits". */
export const DEFAULT_LIMITS: SandboxLimits = {
  timeoutMs: 5_000,
  memoryBytes: 64 * MB,
  outputBytes: 1 * MB,
  outputDepth: 32,
  logBytes: 64 * 1024,
  maxFetches: 20,
  maxConcurrentFetches: 4,
};

export interface FakeFetch {
  fetch: SandboxRunRequest['fetch'];
  readonly calls: SandboxFetchRequest[];
  readonly signals: AbortSignal[];
  /** Most calls running at the same time. */
  readonly maxConcurrent: number;
}

type Answer = Partial<SandboxFetchResponse> | Error | 'hang';

/** Answers each URL from `routes` (404 otherwise); an Error rejects, 'hang' never settles. */
export function fakeFetch(routes: Record<string, Answer> = {}, delayMs = 0): FakeFetch {
  const calls: SandboxFetchRequest[] = [];
  const signals: AbortSignal[] = [];
  let running = 0;
  let maxConcurrent = 0;
  return {
    calls,
    signals,
    get maxConcurrent() {
      return maxConcurrent;
    },
    fetch: async (request, signal) => {
      calls.push(request);
      signals.push(signal);
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      try {
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        const answer = routes[request.url];
        if (answer === 'hang') return await new Promise<never>(() => {});
        if (answer instanceof Error) throw answer;
        return {
          status: 404,
          statusText: 'Not Found',
          headers: { 'content-type': 'text/plain' },
          body: 'not found',
          url: request.url,
          ...answer,
        };
      } finally {
        running--;
      }
    },
  };
}

export interface Runner {
  (
    source: string,
    options?: Partial<Omit<SandboxRunRequest, 'limits' | 'source'>> & { limits?: Partial<SandboxLimits> },
  ): Promise<SandboxResult>;
}

export function runner(sandbox: QuickJsSandbox, defaults: Partial<SandboxLimits> = {}): Runner {
  return (source, options = {}) =>
    sandbox.run({
      source,
      inputs: options.inputs ?? {},
      secrets: options.secrets ?? {},
      fetch: options.fetch ?? fakeFetch().fetch,
      fetchScope: options.fetchScope,
      limits: { ...DEFAULT_LIMITS, ...defaults, ...options.limits },
    });
}

/** The run's value, or a thrown error describing the failure (for readable test output). */
export function valueOf(result: SandboxResult): unknown {
  if (!result.ok) throw new Error(`run failed: ${result.code}: ${result.message}`);
  return result.value;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}
