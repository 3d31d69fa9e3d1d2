import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { WorkflowRunSlotRepository } from '../../../core/ports/workflow-store.ts';
import type { DialectName } from '../migrations/types.ts';
import type { Database } from '../schema.ts';

/** Runs admitted by one call at most; with no cap, a backlog is admitted in batches of this. */
export const ADMIT_BATCH = 100;

type Runs = ExpressionBuilder<Database & { r: Database['workflow_runs'] }, 'r'>;
/** The run (`r`) has no step recorded yet: no job was ever enqueued for it. */
export const noStep = (eb: Runs) =>
  eb.not(
    eb.exists(eb.selectFrom('workflow_run_steps as s').select('s.step_id').whereRef('s.run_id', '=', 'r.id')),
  );
/** The run (`r`) holds one of its organization's slots. */
export const holdsSlot = (eb: Runs) =>
  eb.exists(eb.selectFrom('workflow_run_slots as l').select('l.run_id').whereRef('l.run_id', '=', 'r.id'));
/** The run (`r`) waits for a slot: queued, not admitted, no step yet (a queued run asleep in its first delay has one). */
export const waitsForSlot = (eb: Runs) =>
  eb.and([eb('r.status', '=', 'queued'), noStep(eb), eb.not(holdsSlot(eb))]);

export class KyselyWorkflowRunSlotRepository implements WorkflowRunSlotRepository {
  readonly #db: Kysely<Database>;
  readonly #dialect: DialectName;
  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async admit(organizationId: string, cap: number): Promise<string[]> {
    const db = this.#db;
    if (!db.isTransaction) throw new Error('Runs are admitted inside a transaction');
    // Admissions of one organization take turns, so that processes admitting at once cannot together
    // exceed the cap. SQLite's transactions already do: each holds the file's write lock from its start.
    if (this.#dialect === 'postgres')
      await sql`select pg_advisory_xact_lock(hashtextextended(${`workflow-run-slots:${organizationId}`}, 0))`.execute(
        db,
      );
    let free = ADMIT_BATCH;
    if (cap > 0) {
      const held = await db
        .selectFrom('workflow_run_slots')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('organization_id', '=', organizationId)
        .executeTakeFirstOrThrow();
      free = Math.min(free, cap - Number(held.n));
      if (free <= 0) return [];
    }
    const waiting = await db
      .selectFrom('workflow_runs as r')
      .select('r.id')
      .where('r.organization_id', '=', organizationId)
      .where(waitsForSlot)
      .orderBy('r.id')
      .limit(free)
      .execute();
    if (waiting.length === 0) return [];
    await db
      .insertInto('workflow_run_slots')
      .values(waiting.map((r) => ({ run_id: r.id, organization_id: organizationId })))
      .execute();
    return waiting.map((r) => r.id);
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
