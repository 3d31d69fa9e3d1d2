import type { Kysely } from 'kysely';
import type { ExecutionRecord } from '../../../core/executions.ts';
import { idFloor } from '../../../core/ids.ts';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { ExecutionFilter, ExecutionRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import type { SqliteWriter } from '../sqlite-writer.ts';
import { fetchPage, parseJson } from './shared.ts';

/**
 * JSON text as both stores can hold it: PostgreSQL's jsonb refuses the NUL escape, and an upstream's body
 * can hold NUL. Each `\\u0000` escape (one preceded by an even run of backslashes) becomes U+FFFD.
 */
const storable = (json: string): string =>
  json.includes('\\u0000') ? json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd') : json;

const toRow = (r: ExecutionRecord, json?: string): Database['executions'] => ({
  id: r.id,
  organization_id: r.organizationId,
  action_id: r.actionId,
  action_version: r.actionVersion,
  status: r.status,
  category: r.error?.category ?? null,
  started_at: r.startedAt,
  duration_ms: Math.round(r.durationMs),
  record: storable(json ?? JSON.stringify(r)),
});

const toRecord = (row: { id: string; record: string }): ExecutionRecord =>
  parseJson<ExecutionRecord>(row.record);

const FINISHED = ['succeeded', 'failed', 'declined', 'expired'];

export class KyselyExecutionRepository implements ExecutionRepository {
  private readonly db: Kysely<Database>;
  private readonly writer: SqliteWriter | undefined;
  /** With a writer (SQLite), inserts run on its thread; reads stay on this connection. */
  constructor(db: Kysely<Database>, writer?: SqliteWriter) {
    this.db = db;
    this.writer = writer;
  }

  /** One statement (or one writer transaction): the batch is committed whole or not at all. */
  async insertMany(
    records: readonly ExecutionRecord[],
    serialized?: readonly (string | undefined)[],
  ): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map((record, i) => toRow(record, serialized?.[i]));
    if (this.writer) {
      await this.writer.insertExecutions(
        rows.map(
          (r) =>
            [
              r.id,
              r.organization_id,
              r.action_id,
              r.action_version,
              r.status,
              r.category,
              r.started_at,
              r.duration_ms,
              r.record,
            ] as const,
        ),
      );
      return;
    }
    await this.db
      .insertInto('executions')
      .values(rows)
      .onConflict((conflict) =>
        conflict
          .column('id')
          .doUpdateSet((eb) => ({
            action_version: eb.ref('excluded.action_version'),
            status: eb.ref('excluded.status'),
            category: eb.ref('excluded.category'),
            started_at: eb.ref('excluded.started_at'),
            duration_ms: eb.ref('excluded.duration_ms'),
            record: eb.ref('excluded.record'),
          }))
          .where('excluded.status', '<>', 'queued'),
      )
      .execute();
  }

  async update(record: ExecutionRecord): Promise<boolean> {
    const { id, organization_id, ...values } = toRow(record, undefined);
    const result = await this.db
      .updateTable('executions')
      .set(values)
      .where('organization_id', '=', organization_id)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async get(organizationId: string, id: string): Promise<ExecutionRecord | undefined> {
    const row = await this.db
      .selectFrom('executions')
      .select(['id', 'record'])
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  list(organizationId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionRecord>> {
    let query = this.db
      .selectFrom('executions')
      .select(['id', 'record'])
      .where('organization_id', '=', organizationId);
    if (filter.actionId) query = query.where('action_id', '=', filter.actionId);
    if (filter.status) query = query.where('status', '=', filter.status);
    // ids are minted from the start time, give or take a millisecond: the id bound lets the primary key
    // do the work, the started_at condition keeps the result exact
    if (filter.since)
      query = query
        .where('id', '>=', idFloor(Date.parse(filter.since) - 1))
        .where('started_at', '>=', filter.since);
    if (filter.until)
      query = query
        .where('id', '<', idFloor(Date.parse(filter.until) + 2))
        .where('started_at', '<', filter.until);
    return fetchPage(query, 'id', page, toRecord);
  }

  async deleteStartedBefore(cutoff: string, limit: number): Promise<number> {
    const doomed = this.db
      .selectFrom('executions')
      .select('id')
      .where('id', '<', idFloor(Date.parse(cutoff)))
      .where('status', 'in', FINISHED)
      .limit(limit);
    const result = await this.db.deleteFrom('executions').where('id', 'in', doomed).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
