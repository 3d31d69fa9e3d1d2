/**
 * Execution records are written behind the response, in batches gathered for a few milliseconds: the
 * commit's cost stays off the request's latency (at c=1 a single-row commit cost ~60 µs here, a third of
 * the whole budget), and many records share one transaction (batching cut the cost about ninefold when
 * measured). On SQLite the commit also runs on its own thread (sqlite-writer.ts).
 *
 * What this trades: a record is readable in this process at once (pending records answer reads; a list
 * first commits what is pending), in other processes once committed, some milliseconds later; a process
 * killed with SIGKILL loses the records of its last unflushed batch (never an effect: the upstream call has
 * happened or not either way). SIGTERM drains the queue. While the database is down, records wait in memory
 * and are retried; past MAX_PENDING, new executions wait for room instead of growing memory without bound.
 */
import type { ExecutionRecord } from '../../core/executions.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';

const MAX_BATCH = 400;
/**
 * How long records gather before a commit. Long enough that a trickle of executions shares transactions
 * (a commit per record doubled the CPU per execution at concurrency 1), short enough to lose little if
 * the process is killed. A full batch commits at once.
 */
const GATHER_MS = 10;
const MAX_PENDING = 10_000;
const RETRY_MS = 1_000;

interface Queued {
  record: ExecutionRecord;
  json: string | undefined;
}

export class ExecutionRecorder {
  readonly #store: Store;
  readonly #logger: Logger;
  /** Not yet committed, by id: read-your-writes for this process. */
  readonly #pending = new Map<string, ExecutionRecord>();
  #queue: Queued[] = [];
  #flushing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Set while waiting to retry after the database refused a batch. */
  #retrying = false;
  #room: (() => void)[] = [];

  readonly #isUnavailable: (error: unknown) => boolean;

  /** `isUnavailable` tells an outage (wait and retry) from a record the database refuses (set it aside). */
  constructor(store: Store, logger: Logger, isUnavailable: (error: unknown) => boolean) {
    this.#store = store;
    this.#logger = logger;
    this.#isUnavailable = isUnavailable;
  }

  /**
   * Queues a record; resolves at once unless too many records are waiting for the database. `json`: the
   * record already serialized, when the caller has it.
   */
  async record(record: ExecutionRecord, json?: string): Promise<void> {
    while (this.#pending.size >= MAX_PENDING) await new Promise<void>((resolve) => this.#room.push(resolve));
    this.#pending.set(record.id, record);
    this.#queue.push({ record, json });
    this.#schedule(this.#queue.length >= MAX_BATCH ? 0 : GATHER_MS);
  }

  /** A record not yet committed, if this process holds it. */
  pending(organizationId: string, id: string): ExecutionRecord | undefined {
    const record = this.#pending.get(id);
    return record?.organizationId === organizationId ? record : undefined;
  }

  /** The one way a flush starts, so two never run at once (they would insert the same batch). */
  #runFlush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
      if (this.#queue.length > 0 && !this.#retrying) this.#schedule(GATHER_MS);
    });
    return this.#flushing;
  }

  #schedule(delayMs: number): void {
    if (this.#flushing || (this.#timer && delayMs > 0)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#runFlush();
    }, delayMs);
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, MAX_BATCH);
      try {
        await this.#insert(batch);
      } catch (error) {
        if (!this.#isUnavailable(error)) {
          // one record the database refuses must not hold back every record after it
          if (await this.#insertOneByOne(batch)) continue;
        }
        this.#logger.error(
          { err: error, waiting: this.#queue.length },
          'could not record executions; retrying',
        );
        this.#retrying = true;
        setTimeout(() => {
          this.#retrying = false;
          this.#schedule(0);
        }, RETRY_MS).unref();
        return;
      }
      this.#done(batch.length);
    }
  }

  #insert(batch: readonly Queued[]): Promise<void> {
    return this.#store.executions.insertMany(
      batch.map((q) => q.record),
      batch.map((q) => q.json),
    );
  }

  /** Stores what it can of a refused batch; false if the database went away meanwhile. */
  async #insertOneByOne(batch: readonly Queued[]): Promise<boolean> {
    for (const queued of batch) {
      try {
        await this.#insert([queued]);
      } catch (error) {
        if (this.#isUnavailable(error)) return false;
        this.#logger.error(
          { err: error, execution_id: queued.record.id },
          'the database refused an execution record; it is not stored',
        );
      }
      this.#done(1);
    }
    return true;
  }

  /** Removes the first `count` queued records, now stored (or set aside), and wakes waiting writers. */
  #done(count: number): void {
    for (const { record } of this.#queue.splice(0, count)) this.#pending.delete(record.id);
    for (const wake of this.#room.splice(0)) wake();
  }

  /** Resolves once every record queued before the call is committed, or the database refused them. */
  async settle(): Promise<void> {
    const last = this.#queue.at(-1)?.record;
    while (last && this.#pending.has(last.id) && !this.#retrying) await this.#runFlush();
  }

  /** Commits everything queued (at shutdown); gives up after `timeoutMs`. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const giveUpAt = Date.now() + timeoutMs;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#queue.length > 0 && Date.now() < giveUpAt) {
      await this.#runFlush();
      if (this.#queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (this.#queue.length > 0)
      this.#logger.error(
        { lost: this.#queue.length },
        'execution records could not be written before shutdown',
      );
  }
}
