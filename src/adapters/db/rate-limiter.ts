import { sql, type Kysely } from 'kysely';
import type { RateDecision, RateLimiter } from '../../core/ports/rate-limiter.ts';
import { BUCKET_MS, BUCKETS_CHECKED, retryAfterSeconds } from '../../core/rate-window.ts';
import type { Database } from './schema.ts';

/**
 * Sliding-window counts shared by every process on one PostgreSQL, so a limit holds across replicas.
 * One statement increments the current bucket and reads the others; the database's clock picks the
 * bucket, so processes with skewed clocks still agree. A refused request's increment is undone.
 */
export class PostgresRateLimiter implements RateLimiter {
  readonly #db: Kysely<Database>;
  readonly #sweeper: NodeJS.Timeout;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#sweeper = setInterval(() => void this.#sweep().catch(() => {}), 60_000).unref();
  }

  async consume(key: string, limitPerMinute: number): Promise<RateDecision> {
    const span = BUCKETS_CHECKED - 1;
    const { rows } = await sql<{ count: number; bucket: number; previous: number; now_ms: string }>`
      with clock as (
        select extract(epoch from clock_timestamp()) * 1000 as now_ms
      ), counted as (
        insert into rate_limit_counters (key, bucket, count)
        select ${key}, floor(now_ms / ${BUCKET_MS})::bigint, 1 from clock
        on conflict (key, bucket) do update set count = rate_limit_counters.count + 1
        returning count, bucket
      )
      select counted.count, counted.bucket, (select now_ms from clock)::text as now_ms,
        coalesce((select sum(r.count) from rate_limit_counters r
                  where r.key = ${key} and r.bucket >= counted.bucket - ${span} and r.bucket < counted.bucket), 0)::bigint
          as previous
      from counted`.execute(this.#db);
    const row = rows[0];
    if (!row) throw new Error('The rate-limit counter returned no row');
    const total = Number(row.count) + Number(row.previous);
    if (total <= limitPerMinute)
      return { allowed: true, remaining: limitPerMinute - total, retryAfterSeconds: 0 };

    await sql`update rate_limit_counters set count = count - 1 where key = ${key} and bucket = ${row.bucket}`.execute(
      this.#db,
    );
    const counts = await this.#counts(key, Number(row.bucket));
    return {
      allowed: false,
      remaining: 0,
      retryAfterSeconds: retryAfterSeconds(counts, limitPerMinute, Number(row.bucket), Number(row.now_ms)),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  async #counts(key: string, current: number): Promise<number[]> {
    const first = current - BUCKETS_CHECKED + 1;
    const rows = await this.#db
      .selectFrom('rate_limit_counters')
      .select(['bucket', 'count'])
      .where('key', '=', key)
      .where('bucket', '>=', first)
      .where('bucket', '<=', current)
      .execute();
    const byBucket = new Map(rows.map((r) => [Number(r.bucket), Number(r.count)]));
    return Array.from({ length: BUCKETS_CHECKED }, (_, i) => byBucket.get(first + i) ?? 0);
  }

  async #sweep(): Promise<void> {
    await sql`delete from rate_limit_counters
              where bucket < floor(extract(epoch from clock_timestamp()) * 1000 / ${BUCKET_MS})::bigint - ${BUCKETS_CHECKED}`.execute(
      this.#db,
    );
  }
}
