import type { Kysely, Selectable } from 'kysely';
import type { Integration } from '../../../core/actions/model.ts';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { IntegrationRepository } from '../../../core/ports/store.ts';
import type { DialectName } from '../migrations/types.ts';
import type { Database } from '../schema.ts';
import { conflictOnDuplicate, fetchPage, parseJson } from './shared.ts';

type Row = Selectable<Database['integrations']>;

const toIntegration = (row: Row): Integration => ({
  id: row.id,
  organizationId: row.organization_id,
  name: row.name,
  description: row.description,
  baseUrl: row.base_url,
  secrets: parseJson<Record<string, string>>(row.secrets),
  auth: row.auth === null ? null : parseJson<unknown>(row.auth),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toRow = (i: Integration): Row => ({
  id: i.id,
  organization_id: i.organizationId,
  name: i.name,
  description: i.description,
  base_url: i.baseUrl,
  secrets: JSON.stringify(i.secrets),
  auth: i.auth === null || i.auth === undefined ? null : JSON.stringify(i.auth),
  created_at: i.createdAt,
  updated_at: i.updatedAt,
});

const duplicate = (name: string) => `An integration named "${name}" already exists in this organization`;

export class KyselyIntegrationRepository implements IntegrationRepository {
  private readonly db: Kysely<Database>;
  private readonly dialect: DialectName;
  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.db = db;
    this.dialect = dialect;
  }

  async insert(integration: Integration): Promise<void> {
    await conflictOnDuplicate(
      () => this.db.insertInto('integrations').values(toRow(integration)).execute(),
      duplicate(integration.name),
      '/name',
    );
  }

  async get(organizationId: string, id: string): Promise<Integration | undefined> {
    const row = await this.db
      .selectFrom('integrations')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toIntegration(row);
  }

  async organizationOf(id: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('integrations')
      .select('organization_id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.organization_id;
  }

  async lock(organizationId: string, id: string): Promise<boolean> {
    const query = this.db
      .selectFrom('integrations')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id);
    // SQLite has no row locks and needs none: its write transactions (BEGIN IMMEDIATE) run one at a time
    const row = await (this.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
    return row !== undefined;
  }

  list(organizationId: string, page: PageRequest): Promise<Page<Integration>> {
    return fetchPage(
      this.db.selectFrom('integrations').selectAll().where('organization_id', '=', organizationId),
      'id',
      page,
      toIntegration,
    );
  }

  async update(integration: Integration): Promise<boolean> {
    const { id, organization_id, created_at: _created, ...values } = toRow(integration);
    const result = await conflictOnDuplicate(
      () =>
        this.db
          .updateTable('integrations')
          .set(values)
          .where('organization_id', '=', organization_id)
          .where('id', '=', id)
          .executeTakeFirst(),
      duplicate(integration.name),
      '/name',
    );
    return result.numUpdatedRows > 0n;
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('integrations')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
