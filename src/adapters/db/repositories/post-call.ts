import type { Kysely, Selectable } from 'kysely';
import type { PostCallRequest } from '../../../core/post-call.ts';
import type { PostCallRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { parseJson } from './shared.ts';

const toRequest = (row: Selectable<Database['post_call_requests']>): PostCallRequest => ({
  executionId: row.execution_id,
  organizationId: row.organization_id,
  conversationId: row.conversation_id,
  actionId: row.action_id,
  actionVersion: row.action_version,
  inputs: parseJson<Record<string, unknown>>(row.inputs),
  context: parseJson<Record<string, unknown>>(row.context),
  callerKeyId: row.caller_key_id,
  state: row.state as PostCallRequest['state'],
  jobId: row.job_id,
  createdAt: row.created_at,
  enqueuedAt: row.enqueued_at,
});

export class KyselyPostCallRepository implements PostCallRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insert(request: PostCallRequest): Promise<void> {
    await this.db
      .insertInto('post_call_requests')
      .values({
        execution_id: request.executionId,
        organization_id: request.organizationId,
        conversation_id: request.conversationId,
        action_id: request.actionId,
        action_version: request.actionVersion,
        inputs: JSON.stringify(request.inputs),
        context: JSON.stringify(request.context),
        caller_key_id: request.callerKeyId,
        state: request.state,
        job_id: request.jobId,
        created_at: request.createdAt,
        enqueued_at: request.enqueuedAt,
      })
      .execute();
  }

  async get(organizationId: string, executionId: string): Promise<PostCallRequest | undefined> {
    const row = await this.db
      .selectFrom('post_call_requests')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async ofConversation(organizationId: string, conversationId: string): Promise<PostCallRequest[]> {
    const rows = await this.db
      .selectFrom('post_call_requests')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('conversation_id', '=', conversationId)
      .orderBy('execution_id')
      .execute();
    return rows.map(toRequest);
  }

  async markEnqueued(organizationId: string, executionId: string, jobId: string, at: string): Promise<void> {
    await this.db
      .updateTable('post_call_requests')
      .set({ state: 'enqueued', job_id: jobId, enqueued_at: at })
      .where('organization_id', '=', organizationId)
      .where('execution_id', '=', executionId)
      .execute();
  }
}
