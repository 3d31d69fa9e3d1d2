/** Counts requests per key over any rolling minute; shared across processes when the adapter is. */
export interface RateLimiter {
  /** Counts one request against `key` if it fits under `limitPerMinute`. */
  consume(key: string, limitPerMinute: number): Promise<RateDecision>;
  /**
   * The same, decided at once: offered by a limiter that keeps its counts in this process, so a hot
   * path needs no promise per request. Absent where counting needs I/O.
   */
  consumeNow?(key: string, limitPerMinute: number): RateDecision;
  close(): Promise<void>;
}

export interface RateDecision {
  allowed: boolean;
  /** Requests left in the current window (0 when refused). */
  remaining: number;
  /** When refused: whole seconds until a request would fit again. */
  retryAfterSeconds: number;
}
