/**
 * Deletes execution records (and the confirmation requests behind them) past the retention period, and
 * expired idempotency keys, in small batches.
 */
import type { Clock } from '../../core/ports/clock.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';

const BATCH = 1_000;
const INTERVAL_MS = 60 * 60 * 1000;

export interface Retention {
  sweep(): Promise<number>;
  stop(): void;
}

export function startRetention(store: Store, clock: Clock, logger: Logger, retentionDays: number): Retention {
  async function sweep(): Promise<number> {
    let deleted = 0;
    if (retentionDays > 0) {
      const cutoff = new Date(clock.now() - retentionDays * 24 * 60 * 60 * 1000).toISOString();
      for (let n = BATCH; n === BATCH; deleted += n)
        n = await store.executions.deleteStartedBefore(cutoff, BATCH);
      for (let n = BATCH; n === BATCH;) n = await store.confirmations.deleteCreatedBefore(cutoff, BATCH);
    }
    await store.idempotency.deleteExpired(new Date(clock.now()).toISOString());
    if (deleted > 0) logger.info({ deleted, retention_days: retentionDays }, 'deleted old execution records');
    return deleted;
  }
  const timer = setInterval(() => {
    sweep().catch((error: unknown) => logger.warn({ err: error }, 'execution retention sweep failed'));
  }, INTERVAL_MS).unref();
  return { sweep, stop: () => clearInterval(timer) };
}
