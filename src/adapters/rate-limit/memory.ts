import { type Clock, systemClock } from '../../core/ports/clock.ts';
import type { RateDecision, RateLimiter } from '../../core/ports/rate-limiter.ts';
import { BUCKETS_CHECKED, bucketOf, retryAfterSeconds } from '../../core/rate-window.ts';

interface Window {
  buckets: Float64Array;
  counts: Uint32Array;
  last: number;
}

/** Sliding-window counts in this process's memory: the embedded mode's limiter. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #clock: Clock;
  readonly #windows = new Map<string, Window>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#sweeper = setInterval(() => this.#sweep(), 60_000).unref();
  }

  async consume(key: string, limitPerMinute: number): Promise<RateDecision> {
    return this.consumeNow(key, limitPerMinute);
  }

  consumeNow(key: string, limitPerMinute: number): RateDecision {
    const now = this.#clock.now();
    const current = bucketOf(now);
    let window = this.#windows.get(key);
    if (!window) {
      window = {
        buckets: new Float64Array(BUCKETS_CHECKED).fill(-1),
        counts: new Uint32Array(BUCKETS_CHECKED),
        last: current,
      };
      this.#windows.set(key, window);
    }
    let total = 0;
    for (let b = current - BUCKETS_CHECKED + 1; b <= current; b++) total += countOf(window, b);
    if (total >= limitPerMinute) {
      const counts: number[] = [];
      for (let b = current - BUCKETS_CHECKED + 1; b <= current; b++) counts.push(countOf(window, b));
      return {
        allowed: false,
        remaining: 0,
        retryAfterSeconds: retryAfterSeconds(counts, limitPerMinute, current, now),
      };
    }
    const slot = current % BUCKETS_CHECKED;
    if (window.buckets[slot] !== current) {
      window.buckets[slot] = current;
      window.counts[slot] = 0;
    }
    window.counts[slot] = (window.counts[slot] ?? 0) + 1;
    window.last = current;
    return { allowed: true, remaining: limitPerMinute - total - 1, retryAfterSeconds: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#windows.clear();
  }

  #sweep(): void {
    const stale = bucketOf(this.#clock.now()) - BUCKETS_CHECKED;
    for (const [key, window] of this.#windows) if (window.last < stale) this.#windows.delete(key);
  }
}

function countOf(window: Window, bucket: number): number {
  const slot = bucket % BUCKETS_CHECKED;
  return window.buckets[slot] === bucket ? (window.counts[slot] ?? 0) : 0;
}
