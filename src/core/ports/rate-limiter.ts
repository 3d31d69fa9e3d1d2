/** Counts requests per key over any rolling minute; shared across processes when the adapter is. */
export interface RateLimiter {
  /** Counts one request against `key` if it fits under `limitPerMinute`. */
  consume(key: string, limitPerMinute: number): Promise<RateDecision>;
  close(): Promise<void>;
}

export interface RateDecision {
  allowed: boolean;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** When refused: whole seconds until a request would fit again. */
  retryAfterSeconds: number;
}
