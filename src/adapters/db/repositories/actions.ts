import type { Kysely, Selectable } from 'kysely';
import type { Action, ActionDefinition, ActionVersion } from '../../../core/actions/model.ts';
import { toPage, type Page, type PageRequest } from '../../../core/pagination.ts';
import type { ActionFilter, ActionRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { conflictOnDuplicate, fetchPage, parseJson, precompiled, type ReadConnection } from './shared.ts';

type Row = Selectable<Database['actions']>;

const toAction = (row: Row): Action => ({
  ...parseJson<ActionDefinition>(row.definition),
  id: row.id,
  organizationId: row.organization_id,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * An organization's action versions (soft-deleted actions' too: their executions refer to them), with
 * the columns `toActionVersion` reads. The agents repository selects frozen versions through it as well,
 * so a new version column is added here only.
 */
export function selectActionVersions(db: Kysely<Database>, organizationId: string) {
  return db
    .selectFrom('action_versions')
    .innerJoin('actions', 'actions.id', 'action_versions.action_id')
    .select([
      'action_versions.action_id',
      'action_versions.version',
      'action_versions.definition',
      'action_versions.created_at',
      'action_versions.created_by',
    ])
    .where('actions.organization_id', '=', organizationId);
}

export const toActionVersion = (
  row: Pick<
    Selectable<Database['action_versions']>,
    'action_id' | 'version' | 'definition' | 'created_at' | 'created_by'
  >,
): ActionVersion => ({
  actionId: row.action_id,
  version: row.version,
  definition: parseJson<ActionDefinition>(row.definition),
  createdAt: row.created_at,
  createdBy: row.created_by,
});

/** The versioned part of an action: everything but identity and timestamps. */
export function definitionOf(action: Action): ActionDefinition {
  const {
    id: _id,
    organizationId: _org,
    version: _version,
    createdAt: _created,
    updatedAt: _updated,
    ...definition
  } = action;
  return definition;
}

const duplicateToolName = (toolName: string) =>
  `Another action already has the tool name "${toolName}"; choose another tool_name or name`;

const versionOf = precompiled((db: Kysely<Database>, organizationId: string, id: string) =>
  db
    .selectFrom('actions')
    .select('version')
    .where('organization_id', '=', organizationId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null),
);

export class KyselyActionRepository implements ActionRepository {
  readonly db: Kysely<Database>;
  /** The read-only connection for hot point reads, when the store has one (SQLite outside transactions). */
  readonly reader: ReadConnection | undefined;
  constructor(db: Kysely<Database>, reader?: ReadConnection) {
    this.db = db;
    this.reader = reader;
  }

  #live(organizationId: string) {
    return this.db
      .selectFrom('actions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null);
  }

  async insert(action: Action, createdBy: string | null): Promise<void> {
    const definition = JSON.stringify(definitionOf(action));
    await conflictOnDuplicate(
      () =>
        this.db
          .insertInto('actions')
          .values({
            id: action.id,
            organization_id: action.organizationId,
            integration_id: action.integrationId,
            name: action.name,
            tool_name: action.toolName,
            kind: action.kind,
            status: action.status,
            version: action.version,
            definition,
            created_at: action.createdAt,
            updated_at: action.updatedAt,
            deleted_at: null,
          })
          .execute(),
      duplicateToolName(action.toolName),
      '/tool_name',
    );
    await this.db
      .insertInto('action_versions')
      .values({
        action_id: action.id,
        version: action.version,
        definition,
        created_at: action.updatedAt,
        created_by: createdBy,
      })
      .execute();
  }

  async update(action: Action, expectedVersion: number, createdBy: string | null): Promise<boolean> {
    const definition = JSON.stringify(definitionOf(action));
    const result = await conflictOnDuplicate(
      () =>
        this.db
          .updateTable('actions')
          .set({
            integration_id: action.integrationId,
            name: action.name,
            tool_name: action.toolName,
            kind: action.kind,
            status: action.status,
            version: action.version,
            definition,
            updated_at: action.updatedAt,
          })
          .where('organization_id', '=', action.organizationId)
          .where('id', '=', action.id)
          .where('version', '=', expectedVersion)
          .where('deleted_at', 'is', null)
          .executeTakeFirst(),
      duplicateToolName(action.toolName),
      '/tool_name',
    );
    if (result.numUpdatedRows === 0n) return false;
    await this.db
      .insertInto('action_versions')
      .values({
        action_id: action.id,
        version: action.version,
        definition,
        created_at: action.updatedAt,
        created_by: createdBy,
      })
      .execute();
    return true;
  }

  async get(organizationId: string, id: string): Promise<Action | undefined> {
    const row = await this.#live(organizationId).where('id', '=', id).executeTakeFirst();
    return row && toAction(row);
  }

  async currentVersion(organizationId: string, id: string): Promise<number | undefined> {
    const [row] = await versionOf(this, organizationId, id);
    return row?.version;
  }

  /** One action's versions (soft-deleted actions' too: their executions refer to them). */
  #versions(organizationId: string, id: string) {
    return selectActionVersions(this.db, organizationId).where('action_versions.action_id', '=', id);
  }

  async getVersion(organizationId: string, id: string, version: number): Promise<ActionVersion | undefined> {
    const row = await this.#versions(organizationId, id)
      .where('action_versions.version', '=', version)
      .executeTakeFirst();
    return row && toActionVersion(row);
  }

  async listVersions(
    organizationId: string,
    id: string,
    page: PageRequest,
  ): Promise<Page<ActionVersion & { id: string }>> {
    let query = this.#versions(organizationId, id).where('actions.deleted_at', 'is', null);
    if (page.cursor) query = query.where('action_versions.version', '<', Number(page.cursor));
    const rows = await query
      .orderBy('action_versions.version', 'desc')
      .limit(page.limit + 1)
      .execute();
    return toPage(
      rows.map((row) => ({ ...toActionVersion(row), id: String(row.version) })),
      page.limit,
    );
  }

  list(organizationId: string, filter: ActionFilter, page: PageRequest): Promise<Page<Action>> {
    let query = this.#live(organizationId);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.integrationId) query = query.where('integration_id', '=', filter.integrationId);
    // tags live in the definition; filtered after the read, which is fine at the page sizes allowed
    return fetchPage(query, 'id', filter.tag ? { ...page, limit: 1000 } : page, toAction).then((result) =>
      filter.tag
        ? toPage(
            result.items.filter((a) => a.tags.includes(filter.tag ?? '')),
            page.limit,
          )
        : result,
    );
  }

  async listActive(organizationId: string): Promise<Action[]> {
    const rows = await this.#live(organizationId).where('status', '=', 'active').orderBy('id').execute();
    return rows.map(toAction);
  }

  async findByToolName(organizationId: string, toolName: string): Promise<Action | undefined> {
    const row = await this.#live(organizationId).where('tool_name', '=', toolName).executeTakeFirst();
    return row && toAction(row);
  }

  async findByName(
    organizationId: string,
    integrationId: string | null,
    name: string,
  ): Promise<Action | undefined> {
    let query = this.#live(organizationId).where('name', '=', name);
    query =
      integrationId === null
        ? query.where('integration_id', 'is', null)
        : query.where('integration_id', '=', integrationId);
    const row = await query.executeTakeFirst();
    return row && toAction(row);
  }

  async toolNames(organizationId: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('actions')
      .select('tool_name')
      .where('organization_id', '=', organizationId)
      .where('deleted_at', 'is', null)
      .execute();
    return new Set(rows.map((r) => r.tool_name));
  }

  async delete(organizationId: string, id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('actions')
      .set({ deleted_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async countByIntegration(organizationId: string, integrationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('actions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organization_id', '=', organizationId)
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async namesInIntegration(
    organizationId: string,
    integrationId: string,
  ): Promise<{ id: string; name: string }[]> {
    return this.db
      .selectFrom('actions')
      .select(['id', 'name'])
      .where('organization_id', '=', organizationId)
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null)
      .orderBy('id')
      .execute();
  }
}
