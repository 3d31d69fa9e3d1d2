import type { Kysely, Selectable } from 'kysely';
import type { ConfirmationDecision, ConfirmationRequest } from '../../../core/confirmations.ts';
import type { ConfirmationRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { parseJson } from './shared.ts';

const toRequest = (row: Selectable<Database['confirmation_requests']>): ConfirmationRequest => ({
  executionId: row.execution_id,
  organizationId: row.organization_id,
  actionId: row.action_id,
  actionVersion: row.action_version,
  inputs: parseJson<Record<string, unknown>>(row.inputs),
  context: parseJson<Record<string, unknown>>(row.context),
  conversationId: row.conversation_id,
  callerKeyId: row.caller_key_id,
  idempotencyKey: row.idempotency_key,
  state: row.state as ConfirmationRequest['state'],
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  decidedAt: row.decided_at,
});

export class KyselyConfirmationRepository implements ConfirmationRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insert(request: ConfirmationRequest): Promise<void> {
    await this.db
      .insertInto('confirmation_requests')
      .values({
        execution_id: request.executionId,
        organization_id: request.organizationId,
        action_id: request.actionId,
        action_version: request.actionVersion,
        inputs: JSON.stringify(request.inputs),
        context: JSON.stringify(request.context),
        conversation_id: request.conversationId,
        caller_key_id: request.callerKeyId,
        idempotency_key: request.idempotencyKey,
        state: request.state,
        created_at: request.createdAt,
        expires_at: request.expiresAt,
        decided_at: request.decidedAt,
      })
      .execute();
  }

  async get(organizationId: string, executionId: string): Promise<ConfirmationRequest | undefined> {
    const row = await this.db
      .selectFrom('confirmation_requests')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('execution_id', '=', executionId)
      .executeTakeFirst();
    return row && toRequest(row);
  }

  async decide(
    organizationId: string,
    executionId: string,
    decision: ConfirmationDecision,
    at: string,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('confirmation_requests')
      .set({ state: decision, decided_at: at })
      .where('organization_id', '=', organizationId)
      .where('execution_id', '=', executionId)
      .where('state', '=', 'pending')
      // the user decides before the deadline, the clock from it on: never both
      .where('expires_at', decision === 'expired' ? '<=' : '>', at)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteCreatedBefore(cutoff: string, limit: number): Promise<number> {
    const doomed = this.db
      .selectFrom('confirmation_requests')
      .select('execution_id')
      .where('created_at', '<', cutoff)
      .limit(limit);
    const result = await this.db
      .deleteFrom('confirmation_requests')
      .where('execution_id', 'in', doomed)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
