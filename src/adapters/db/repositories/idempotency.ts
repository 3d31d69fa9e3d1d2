import type { Kysely, Selectable } from 'kysely';
import type { IdempotencyRecord, IdempotencyRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { isUniqueViolation, parseJson } from './shared.ts';

const toRecord = (row: Selectable<Database['idempotency_keys']>): IdempotencyRecord => ({
  requestHash: row.request_hash,
  state: row.state as IdempotencyRecord['state'],
  response: row.response === null ? null : parseJson<{ status: number; body: unknown }>(row.response),
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

export class KyselyIdempotencyRepository implements IdempotencyRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  #key(organizationId: string, scope: string, key: string) {
    return this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('scope', '=', scope)
      .where('key', '=', key);
  }

  async claim(
    organizationId: string,
    scope: string,
    key: string,
    requestHash: string,
    now: string,
    expiresAt: string,
  ) {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.db
          .insertInto('idempotency_keys')
          .values({
            organization_id: organizationId,
            scope,
            key,
            request_hash: requestHash,
            state: 'in_progress',
            response: null,
            created_at: now,
            expires_at: expiresAt,
          })
          .execute();
        return { claimed: true as const };
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
      const row = await this.#key(organizationId, scope, key).executeTakeFirst();
      if (!row) continue; // released or expired between our insert and read
      if (row.expires_at > now) return { claimed: false as const, existing: toRecord(row) };
      await this.db
        .deleteFrom('idempotency_keys')
        .where('organization_id', '=', organizationId)
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('expires_at', '<=', now)
        .execute();
    }
    throw new Error('Could not claim an idempotency key after 3 attempts');
  }

  async complete(
    organizationId: string,
    scope: string,
    key: string,
    response: { status: number; body: unknown },
  ): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'done', response: JSON.stringify(response) })
      .where('organization_id', '=', organizationId)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  async release(organizationId: string, scope: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('organization_id', '=', organizationId)
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', 'in_progress')
      .execute();
  }

  async get(organizationId: string, scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.#key(organizationId, scope, key).executeTakeFirst();
    return row && toRecord(row);
  }

  async deleteExpired(now: string): Promise<number> {
    const result = await this.db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
