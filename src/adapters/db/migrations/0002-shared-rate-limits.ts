import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Rate-limit windows shared by every process on one PostgreSQL (the embedded mode counts in memory).
 * One row per key holds the counts of the last buckets, oldest first; `switchboard_rate_consume` locks
 * the row, slides the window to the database's clock, decides and counts in one round trip. The row lock
 * serialises a key's callers, so the limit is exact under any concurrency, across bucket boundaries too.
 */
export const sharedRateLimits: MigrationFactory = (_types, dialect) => ({
  async up(db) {
    if (dialect !== 'postgres') return;
    await sql`
      create table rate_limit_windows (
        key text primary key,
        bucket bigint not null,
        counts integer[] not null
      )`.execute(db);
    await sql`
      create function switchboard_rate_consume(p_key text, p_limit integer, p_bucket_ms integer, p_buckets integer)
      returns table (allowed boolean, remaining integer, retry_after_ms bigint)
      language plpgsql as $$
      declare
        v_now_ms bigint := floor(extract(epoch from clock_timestamp()) * 1000)::bigint;
        v_bucket bigint := v_now_ms / p_bucket_ms;
        v_stored rate_limit_windows%rowtype;
        v_shift bigint;
        v_counts integer[];
        v_total integer;
        v_left integer;
      begin
        insert into rate_limit_windows (key, bucket, counts)
          values (p_key, v_bucket, array_fill(0, array[p_buckets]))
          on conflict (key) do nothing;
        select * into v_stored from rate_limit_windows w where w.key = p_key for update;
        v_shift := v_bucket - v_stored.bucket;
        if v_shift >= p_buckets then
          v_counts := array_fill(0, array[p_buckets]);
        elsif v_shift > 0 then
          v_counts := v_stored.counts[v_shift + 1 : p_buckets] || array_fill(0, array[v_shift::integer]);
        else
          v_counts := v_stored.counts;
          v_bucket := v_stored.bucket;
        end if;
        select coalesce(sum(n), 0) into v_total from unnest(v_counts) as n;
        if v_total < p_limit then
          v_counts[p_buckets] := v_counts[p_buckets] + 1;
          update rate_limit_windows w set bucket = v_bucket, counts = v_counts where w.key = p_key;
          return query select true, p_limit - v_total - 1, 0::bigint;
          return;
        end if;
        update rate_limit_windows w set bucket = v_bucket, counts = v_counts where w.key = p_key;
        v_left := v_total;
        for k in 1 .. p_buckets loop
          v_left := v_left - v_counts[k];
          if v_left < p_limit then
            -- v_counts[k] is bucket v_bucket - p_buckets + k; it leaves the window when v_bucket + k begins
            return query select false, 0, (v_bucket + k) * p_bucket_ms - v_now_ms;
            return;
          end if;
        end loop;
        return query select false, 0, (p_buckets * p_bucket_ms)::bigint;
      end $$`.execute(db);
  },
});
