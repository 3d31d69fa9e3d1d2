import { sql, type Kysely } from 'kysely';
import type { WorkflowRunSlotRepository } from '../../../core/ports/workflow-store.ts';
import type { DialectName } from '../migrations/types.ts';
import type { Database } from '../schema.ts';
import { waitingRuns } from './workflow-runs.ts';

/** Runs admitted by one call at most; with no cap, a backlog is admitted in batches of this. */
export const ADMIT_BATCH = 100;

export class KyselyWorkflowRunSlotRepository implements WorkflowRunSlotRepository {
  readonly #db: Kysely<Database>;
  readonly #dialect: DialectName;
  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async admit(organizationId: string, cap: number, at: string): Promise<string[]> {
    const db = this.#db;
    if (!db.isTransaction) throw new Error('Runs are admitted inside a transaction');
    // Admissions of one organization take turns, so that processes admitting at once cannot together
    // exceed the cap. SQLite's transactions already do: each holds the file's write lock from its start.
    if (this.#dialect === 'postgres')
      await sql`select pg_advisory_xact_lock(hashtextextended(${`workflow-run-slots:${organizationId}`}, 0))`.execute(
        db,
      );
    const waiting = await waitingRuns(db)
      .select('id')
      .where('organization_id', '=', organizationId)
      .orderBy('id')
      .limit(ADMIT_BATCH)
      .execute();
    // most calls find nobody waiting: the slots are counted only when someone is
    if (waiting.length === 0) return [];
    if (cap > 0) {
      const held = await db
        .selectFrom('workflow_run_slots')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      waiting.splice(Math.max(0, cap - Number(held.n)));
      if (waiting.length === 0) return [];
    }
    const ids = waiting.map((r) => r.id);
    await db.updateTable('workflow_runs').set({ admitted_at: at }).where('id', 'in', ids).execute();
    await db
      .insertInto('workflow_run_slots')
      .values(ids.map((id) => ({ run_id: id, organization_id: organizationId })))
      .execute();
    return ids;
  }

  async release(organizationId: string, runId: string): Promise<void> {
    await this.#db
      .deleteFrom('workflow_run_slots')
      .where('organization_id', '=', organizationId)
      .where('run_id', '=', runId)
      .execute();
  }

  async occupy(organizationId: string, runId: string): Promise<void> {
    await this.#db
      .insertInto('workflow_run_slots')
      .values({ run_id: runId, organization_id: organizationId })
      .onConflict((oc) => oc.column('run_id').doNothing())
      .execute();
  }
}
