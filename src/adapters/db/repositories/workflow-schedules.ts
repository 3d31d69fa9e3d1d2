import type { Kysely, Selectable } from 'kysely';
import type { WorkflowScheduleRepository } from '../../../core/ports/workflow-store.ts';
import type { MissedPolicy, WorkflowSchedule } from '../../../core/workflows/schedule.ts';
import type { Database } from '../schema.ts';

type Row = Selectable<Database['workflow_schedules']>;

const toSchedule = (row: Row): WorkflowSchedule => ({
  workflowId: row.workflow_id,
  organizationId: row.organization_id,
  versionId: row.version_id,
  cron: row.cron,
  timezone: row.timezone,
  missed: row.missed as MissedPolicy,
  nextAt: new Date(row.next_at).toISOString(),
});

export class KyselyWorkflowScheduleRepository implements WorkflowScheduleRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(organizationId: string, workflowId: string): Promise<WorkflowSchedule | undefined> {
    const row = await this.#db
      .selectFrom('workflow_schedules')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return row && toSchedule(row);
  }

  async put(schedule: WorkflowSchedule): Promise<void> {
    const values = {
      organization_id: schedule.organizationId,
      version_id: schedule.versionId,
      cron: schedule.cron,
      timezone: schedule.timezone,
      missed: schedule.missed,
      next_at: schedule.nextAt,
    };
    await this.#db
      .insertInto('workflow_schedules')
      .values({ workflow_id: schedule.workflowId, ...values })
      .onConflict((oc) => oc.column('workflow_id').doUpdateSet(values))
      .execute();
  }

  async delete(organizationId: string, workflowId: string): Promise<void> {
    await this.#db
      .deleteFrom('workflow_schedules')
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .execute();
  }

  async due(at: string, limit: number): Promise<WorkflowSchedule[]> {
    const rows = await this.#db
      .selectFrom('workflow_schedules')
      .selectAll()
      .where('next_at', '<=', at)
      .orderBy('next_at')
      .limit(limit)
      .execute();
    return rows.map(toSchedule);
  }

  async claim(workflowId: string, versionId: string, from: string, to: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('workflow_schedules')
      .set({ next_at: to })
      .where('workflow_id', '=', workflowId)
      .where('version_id', '=', versionId)
      .where('next_at', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
