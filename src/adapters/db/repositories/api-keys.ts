import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { ApiKeyRepository, NewApiKey } from '../../../core/ports/store.ts';
import type { Scope } from '../../../core/scopes.ts';
import type { ApiKey, ApiKeySource } from '../../../core/tenancy.ts';
import type { Database } from '../schema.ts';
import { fetchPage, parseJson, precompiled, type ReadConnection } from './shared.ts';

type Row = Selectable<Database['api_keys']>;

const toApiKey = (row: Row): ApiKey => ({
  id: row.id,
  organizationId: row.organization_id,
  name: row.name,
  prefix: row.prefix,
  scopes: parseJson<Scope[]>(row.scopes),
  source: row.source as ApiKeySource,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

const mapped = new WeakMap<object, ApiKey>();

const byHash = precompiled((db: Kysely<Database>, tokenHash: string) =>
  db.selectFrom('api_keys').selectAll().where('token_hash', '=', tokenHash),
);

export class KyselyApiKeyRepository implements ApiKeyRepository {
  readonly db: Kysely<Database>;
  /** The read-only connection for hot point reads, when the store has one (SQLite outside transactions). */
  readonly reader: ReadConnection | undefined;
  constructor(db: Kysely<Database>, reader?: ReadConnection) {
    this.db = db;
    this.reader = reader;
  }

  async insert(key: NewApiKey): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        organization_id: key.organizationId,
        name: key.name,
        prefix: key.prefix,
        token_hash: key.tokenHash,
        scopes: JSON.stringify(key.scopes),
        source: key.source,
        created_at: key.createdAt,
      })
      .execute();
  }

  generation(): number | undefined {
    return this.reader?.generation();
  }

  async findByHash(tokenHash: string): Promise<ApiKey | undefined> {
    const [row] = await byHash(this, tokenHash);
    if (!row) return undefined;
    // the read cache hands back the same row object while the data is unchanged: map it once
    let key = mapped.get(row);
    if (!key) mapped.set(row, (key = toApiKey(row)));
    return key;
  }

  async get(organizationId: string, id: string): Promise<ApiKey | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toApiKey(row);
  }

  list(organizationId: string, page: PageRequest): Promise<Page<ApiKey>> {
    return fetchPage(
      this.db.selectFrom('api_keys').selectAll().where('organization_id', '=', organizationId),
      'id',
      page,
      toApiKey,
    );
  }

  async revoke(organizationId: string, id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeEnvKeysExcept(tokenHash: string, at: string): Promise<number> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('source', '=', 'env')
      .where('token_hash', '!=', tokenHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
