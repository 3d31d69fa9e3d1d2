import type { Kysely } from 'kysely';
import type { WorkflowToolRepository } from '../../../core/ports/workflow-store.ts';
import type { Database } from '../schema.ts';

export class KyselyWorkflowToolRepository implements WorkflowToolRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(organizationId: string, workflowId: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('workflow_tools')
      .select('action_id')
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    return row?.action_id;
  }

  async put(organizationId: string, workflowId: string, actionId: string): Promise<void> {
    await this.#db
      .insertInto('workflow_tools')
      .values({ workflow_id: workflowId, organization_id: organizationId, action_id: actionId })
      .onConflict((oc) => oc.column('workflow_id').doUpdateSet({ action_id: actionId }))
      .execute();
  }

  async delete(organizationId: string, workflowId: string): Promise<void> {
    await this.#db
      .deleteFrom('workflow_tools')
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId)
      .execute();
  }
}
