/**
 * Sliding-window arithmetic for rate limits. Time is cut into buckets of a sixth of a minute. Any rolling
 * minute overlaps at most BUCKETS_CHECKED consecutive buckets, so admitting a request only while those
 * buckets hold fewer than `limit` requests means no rolling minute ever admits more than `limit`
 * (docs/security.md J06). The price is that the window can feel up to 10 s longer than a minute.
 */
export const WINDOW_MS = 60_000;
export const BUCKET_MS = 10_000;
export const BUCKETS_CHECKED = WINDOW_MS / BUCKET_MS + 1;

export const bucketOf = (ms: number): number => Math.floor(ms / BUCKET_MS);

/**
 * Seconds until one more request fits, given the counts of the checked buckets, oldest first, ending
 * with the current bucket `current`.
 */
export function retryAfterSeconds(
  countsOldestFirst: readonly number[],
  limit: number,
  current: number,
  nowMs: number,
): number {
  let total = countsOldestFirst.reduce((sum, n) => sum + n, 0);
  for (let k = 0; k < countsOldestFirst.length; k++) {
    total -= countsOldestFirst[k] ?? 0;
    if (total < limit) {
      // bucket `current - (len - 1) + k` leaves the window when bucket `current + k + 1` begins
      const freeAt = (current + k + 1) * BUCKET_MS;
      return Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
    }
  }
  return Math.ceil(WINDOW_MS / 1000) + 10;
}
