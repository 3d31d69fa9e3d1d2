import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { OrganizationRepository } from '../../../core/ports/store.ts';
import type { Organization } from '../../../core/tenancy.ts';
import type { Database } from '../schema.ts';
import { fetchPage } from './shared.ts';

const toOrganization = (row: Selectable<Database['organizations']>): Organization => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
});

export class KyselyOrganizationRepository implements OrganizationRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async insert(organization: Organization): Promise<void> {
    await this.db
      .insertInto('organizations')
      .values({ id: organization.id, name: organization.name, created_at: organization.createdAt })
      .execute();
  }

  async get(id: string): Promise<Organization | undefined> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toOrganization(row);
  }

  list(page: PageRequest): Promise<Page<Organization>> {
    return fetchPage(this.db.selectFrom('organizations').selectAll(), 'id', page, toOrganization);
  }
}
