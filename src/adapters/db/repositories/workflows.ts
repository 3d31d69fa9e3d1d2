import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { WorkflowRepository } from '../../../core/ports/workflow-store.ts';
import type { Block, TriggerType, WorkflowVersion } from '../../../core/workflows/model.ts';
import type { Database } from '../schema.ts';
import { conflictOnDuplicate, fetchPage, parseJson } from './shared.ts';

const json = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
const parsed = (text: string | null): unknown => (text === null ? null : parseJson<unknown>(text));

const toVersion = (row: Selectable<Database['workflow_versions']>): WorkflowVersion => ({
  id: row.id,
  organizationId: row.organization_id,
  workflowId: row.workflow_id,
  versionNumber: row.version_number,
  name: row.name,
  description: row.description,
  triggerType: row.trigger_type as TriggerType,
  triggerConfiguration: parsed(row.trigger_configuration),
  triggerConstraints: parsed(row.trigger_constraints),
  blocks: parseJson<Block[]>(row.blocks),
  editorState: parsed(row.editor_state),
  webhookToken: row.webhook_token,
  serial: Number(row.serial),
  isActive: row.active === 1 && row.deleted_at === null,
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** How many workflows one event may start (a bound on fan-out, docs/security.md, "Limits"). */
const limit = 100;

export class KyselyWorkflowRepository implements WorkflowRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insertVersion(v: WorkflowVersion): Promise<void> {
    await this.db
      .updateTable('workflow_versions')
      .set({ active: 0 })
      .where('organization_id', '=', v.organizationId)
      .where('workflow_id', '=', v.workflowId)
      .where('active', '=', 1)
      .execute();
    const insert = this.db.insertInto('workflow_versions').values({
      id: v.id,
      organization_id: v.organizationId,
      workflow_id: v.workflowId,
      version_number: v.versionNumber,
      name: v.name,
      description: v.description,
      trigger_type: v.triggerType,
      trigger_configuration: json(v.triggerConfiguration),
      trigger_constraints: json(v.triggerConstraints),
      blocks: JSON.stringify(v.blocks),
      editor_state: json(v.editorState),
      webhook_token: v.webhookToken,
      active: v.isActive ? 1 : 0,
      created_by: v.createdBy,
      created_at: v.createdAt,
      updated_at: v.updatedAt,
      deleted_at: null,
    });
    await conflictOnDuplicate(
      () => insert.execute(),
      'The workflow was changed by someone else at the same time; try again',
    );
  }

  async active(organizationId: string, workflowId: string): Promise<WorkflowVersion | undefined> {
    const row = await this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .where('active', '=', 1)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async getVersion(organizationId: string, versionId: string): Promise<WorkflowVersion | undefined> {
    const row = await this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', versionId)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  list(organizationId: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
    const query = this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('active', '=', 1)
      .where('deleted_at', 'is', null);
    return fetchPage(query, 'id', page, toVersion);
  }

  async byWebhookToken(token: string): Promise<WorkflowVersion | undefined> {
    const row = await this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('webhook_token', '=', token)
      .where('trigger_type', '=', 'webhook')
      .where('active', '=', 1)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async activeByTrigger(organizationId: string, triggerType: string): Promise<WorkflowVersion[]> {
    const rows = await this.db
      .selectFrom('workflow_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('trigger_type', '=', triggerType)
      .where('active', '=', 1)
      .where('deleted_at', 'is', null)
      .orderBy('workflow_id')
      .limit(limit)
      .execute();
    return rows.map(toVersion);
  }

  async delete(organizationId: string, workflowId: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('workflow_versions')
      .set({ active: 0, deleted_at: at })
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
