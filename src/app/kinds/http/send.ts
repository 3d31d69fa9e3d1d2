/**
 * Sending with retries (docs/security.md H13): on connection errors, timeouts, 429 and 502–504, for
 * idempotent methods or when the caller gave an Idempotency-Key; exponential backoff with full jitter;
 * Retry-After honoured up to a cap; never past the run's deadline.
 */
import {
  EgressError,
  type EgressRequest,
  type EgressResponse,
  type HttpClient,
} from '../../../core/ports/http-client.ts';

export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);
const RETRY_ERRORS: ReadonlySet<string> = new Set([
  'CONNECT_TIMEOUT',
  'UPSTREAM_TIMEOUT',
  'CONNECTION_FAILED',
]);
export const RETRY_AFTER_CAP_MS = 60_000;
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 8_000;

export interface RetryPlan {
  attempts: number;
  /** Milliseconds since the epoch after which no attempt starts. */
  deadline: number;
  timeoutMs: number;
}

export interface SendDeps {
  http: HttpClient;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
}

export type SendResult =
  | { response: EgressResponse; attempts: number }
  | { error: EgressError; attempts: number; lastResponse?: EgressResponse };

/** Milliseconds from a Retry-After header (seconds or an HTTP date), capped; undefined when absent or invalid. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(0, seconds), RETRY_AFTER_CAP_MS);
}

export const backoffMs = (attempt: number, random: () => number): number =>
  Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));

export async function sendWithRetries(
  request: EgressRequest,
  plan: RetryPlan,
  deps: SendDeps,
  signal: AbortSignal,
): Promise<SendResult> {
  let attempt = 0;
  for (;;) {
    attempt++;
    const remaining = plan.deadline - deps.now();
    let wait: number | undefined;
    let failure: SendResult | undefined;
    try {
      const response = await deps.http.request({
        ...request,
        timeoutMs: Math.max(1, Math.min(plan.timeoutMs, remaining)),
        signal,
      });
      if (!RETRY_STATUSES.has(response.status)) return { response, attempts: attempt };
      wait = retryAfterMs(response.headers['retry-after'], deps.now()) ?? backoffMs(attempt, deps.random);
      failure = { response, attempts: attempt };
    } catch (error) {
      if (!(error instanceof EgressError)) throw error;
      failure = { error, attempts: attempt };
      if (!RETRY_ERRORS.has(error.code)) return failure;
      wait = backoffMs(attempt, deps.random);
    }
    if (attempt >= plan.attempts || deps.now() + wait >= plan.deadline || signal.aborted) return failure;
    await deps.sleep(wait, signal);
  }
}

export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
