import { sql, type Kysely } from 'kysely';
import type { RateDecision, RateLimiter } from '../../core/ports/rate-limiter.ts';
import { BUCKET_MS, BUCKETS_CHECKED, WINDOW_MS } from '../../core/rate-window.ts';
import type { Database } from './schema.ts';

/**
 * Sliding-window limits shared by every process on one PostgreSQL, so a limit holds across replicas.
 * The arithmetic is the in-memory limiter's (core/rate-window.ts), done by `switchboard_rate_consume`
 * (migration 0002) under the key's row lock, in one round trip, on the database's clock.
 */
export class PostgresRateLimiter implements RateLimiter {
  readonly #db: Kysely<Database>;
  readonly #sweeper: NodeJS.Timeout;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#sweeper = setInterval(() => void this.#sweep().catch(() => {}), WINDOW_MS).unref();
  }

  async consume(key: string, limitPerMinute: number): Promise<RateDecision> {
    const { rows } = await sql<{ allowed: boolean; remaining: number; retry_after_ms: number }>`
      select * from switchboard_rate_consume(${key}, ${limitPerMinute}, ${BUCKET_MS}, ${BUCKETS_CHECKED})`.execute(
      this.#db,
    );
    const row = rows[0];
    if (!row) throw new Error('switchboard_rate_consume returned no row');
    return {
      allowed: row.allowed,
      remaining: row.remaining,
      retryAfterSeconds: row.allowed ? 0 : Math.max(1, Math.ceil(Number(row.retry_after_ms) / 1000)),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  /** Windows idle for longer than they span hold only zeros. */
  async #sweep(): Promise<void> {
    await sql`delete from rate_limit_windows
              where bucket < floor(extract(epoch from clock_timestamp()) * 1000 / ${BUCKET_MS})::bigint - ${BUCKETS_CHECKED}`.execute(
      this.#db,
    );
  }
}
