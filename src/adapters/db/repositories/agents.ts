import type { Kysely, Selectable } from 'kysely';
import type { ActionStatus, ActionVersion, Channel } from '../../../core/actions/model.ts';
import type { Agent, AgentStatus, AgentVersion, FrozenAction } from '../../../core/agents.ts';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { AgentActionState, AgentFilter, AgentRepository } from '../../../core/ports/store.ts';
import type { DialectName } from '../migrations/types.ts';
import type { Database } from '../schema.ts';
import { selectActionVersions, toActionVersion } from './actions.ts';
import { fetchPage, parseJson } from './shared.ts';

type Row = Selectable<Database['agents']>;
type VersionRow = Selectable<Database['agent_versions']>;

const toAgent = (row: Row, actionIds: string[]): Agent => ({
  id: row.id,
  organizationId: row.organization_id,
  name: row.name,
  instructions: row.instructions,
  channels: parseJson<Channel[]>(row.channels),
  actionIds,
  status: row.status as AgentStatus,
  publishedVersion: row.published_version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toVersion = (row: VersionRow): AgentVersion => ({
  agentId: row.agent_id,
  version: row.version,
  name: row.name,
  instructions: row.instructions,
  channels: parseJson<Channel[]>(row.channels),
  actions: parseJson<{ action_id: string; version: number }[]>(row.actions).map((a) => ({
    actionId: a.action_id,
    version: a.version,
  })),
  publishedAt: row.published_at,
  publishedBy: row.published_by,
});

export class KyselyAgentRepository implements AgentRepository {
  private readonly db: Kysely<Database>;
  private readonly dialect: DialectName;
  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.db = db;
    this.dialect = dialect;
  }

  #agents(organizationId: string) {
    return this.db.selectFrom('agents').selectAll().where('organization_id', '=', organizationId);
  }

  /** The action ids of each agent, in their order. */
  async #actionIds(agentIds: readonly string[]): Promise<Map<string, string[]>> {
    const byAgent = new Map<string, string[]>(agentIds.map((id) => [id, []]));
    if (agentIds.length === 0) return byAgent;
    const rows = await this.db
      .selectFrom('agent_actions')
      .select(['agent_id', 'action_id'])
      .where('agent_id', 'in', agentIds)
      .orderBy('agent_id')
      .orderBy('position')
      .execute();
    for (const row of rows) byAgent.get(row.agent_id)?.push(row.action_id);
    return byAgent;
  }

  async #withActions(row: Row | undefined): Promise<Agent | undefined> {
    if (!row) return undefined;
    return toAgent(row, (await this.#actionIds([row.id])).get(row.id) ?? []);
  }

  async #insertActions(agent: Agent): Promise<void> {
    if (agent.actionIds.length === 0) return;
    await this.db
      .insertInto('agent_actions')
      .values(
        agent.actionIds.map((actionId, position) => ({
          agent_id: agent.id,
          action_id: actionId,
          organization_id: agent.organizationId,
          position,
        })),
      )
      .execute();
  }

  async insert(agent: Agent): Promise<void> {
    await this.db
      .insertInto('agents')
      .values({
        id: agent.id,
        organization_id: agent.organizationId,
        name: agent.name,
        instructions: agent.instructions,
        channels: JSON.stringify(agent.channels),
        status: agent.status,
        published_version: agent.publishedVersion,
        created_at: agent.createdAt,
        updated_at: agent.updatedAt,
      })
      .execute();
    await this.#insertActions(agent);
  }

  async get(organizationId: string, id: string): Promise<Agent | undefined> {
    return this.#withActions(await this.#agents(organizationId).where('id', '=', id).executeTakeFirst());
  }

  async lock(organizationId: string, id: string): Promise<Agent | undefined> {
    const query = this.#agents(organizationId).where('id', '=', id);
    // SQLite has no row locks and needs none: its write transactions (BEGIN IMMEDIATE) run one at a time
    return this.#withActions(
      await (this.dialect === 'postgres' ? query.forUpdate() : query).executeTakeFirst(),
    );
  }

  async list(organizationId: string, filter: AgentFilter, page: PageRequest): Promise<Page<Agent>> {
    let query = this.#agents(organizationId);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await fetchPage(query, 'id', page, (row) => row);
    const actionIds = await this.#actionIds(rows.items.map((row) => row.id));
    return {
      items: rows.items.map((row) => toAgent(row, actionIds.get(row.id) ?? [])),
      nextCursor: rows.nextCursor,
    };
  }

  async update(agent: Agent): Promise<boolean> {
    const result = await this.db
      .updateTable('agents')
      .set({
        name: agent.name,
        instructions: agent.instructions,
        channels: JSON.stringify(agent.channels),
        status: agent.status,
        published_version: agent.publishedVersion,
        updated_at: agent.updatedAt,
      })
      .where('organization_id', '=', agent.organizationId)
      .where('id', '=', agent.id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) return false;
    await this.db.deleteFrom('agent_actions').where('agent_id', '=', agent.id).execute();
    await this.#insertActions(agent);
    return true;
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('agents')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async liveActions(organizationId: string, ids: readonly string[]): Promise<AgentActionState[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('actions')
      .select(['id', 'name', 'version', 'status'])
      .where('organization_id', '=', organizationId)
      .where('id', 'in', ids)
      .where('deleted_at', 'is', null)
      .execute();
    return rows.map((row) => ({ ...row, status: row.status as ActionStatus }));
  }

  #listing(organizationId: string, actionIds: readonly string[]) {
    return this.db
      .selectFrom('agent_actions')
      .select('agent_id')
      .where('organization_id', '=', organizationId)
      .where('action_id', 'in', actionIds);
  }

  async markDraftByActions(
    organizationId: string,
    actionIds: readonly string[],
    at: string,
  ): Promise<number> {
    if (actionIds.length === 0) return 0;
    const result = await this.db
      .updateTable('agents')
      .set({ status: 'draft', updated_at: at })
      .where('organization_id', '=', organizationId)
      .where('status', '=', 'published')
      .where('id', 'in', this.#listing(organizationId, actionIds))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async removeActions(organizationId: string, actionIds: readonly string[], at: string): Promise<number> {
    if (actionIds.length === 0) return 0;
    const result = await this.db
      .updateTable('agents')
      .set({ status: 'draft', updated_at: at })
      .where('organization_id', '=', organizationId)
      .where('id', 'in', this.#listing(organizationId, actionIds))
      .executeTakeFirst();
    await this.db
      .deleteFrom('agent_actions')
      .where('organization_id', '=', organizationId)
      .where('action_id', 'in', actionIds)
      .execute();
    return Number(result.numUpdatedRows);
  }

  async insertVersion(organizationId: string, version: AgentVersion): Promise<void> {
    await this.db
      .insertInto('agent_versions')
      .values({
        agent_id: version.agentId,
        version: version.version,
        organization_id: organizationId,
        name: version.name,
        instructions: version.instructions,
        channels: JSON.stringify(version.channels),
        actions: JSON.stringify(version.actions.map((a) => ({ action_id: a.actionId, version: a.version }))),
        published_at: version.publishedAt,
        published_by: version.publishedBy,
      })
      .execute();
  }

  async getVersion(
    organizationId: string,
    agentId: string,
    version: number,
  ): Promise<AgentVersion | undefined> {
    const row = await this.db
      .selectFrom('agent_versions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('agent_id', '=', agentId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async frozenActions(
    organizationId: string,
    refs: readonly FrozenAction[],
  ): Promise<(ActionVersion & { currentStatus: ActionStatus | null })[]> {
    if (refs.length === 0) return [];
    const rows = await selectActionVersions(this.db, organizationId)
      .select(['actions.status', 'actions.deleted_at'])
      .where((eb) =>
        eb.or(
          refs.map((ref) =>
            eb.and([
              eb('action_versions.action_id', '=', ref.actionId),
              eb('action_versions.version', '=', ref.version),
            ]),
          ),
        ),
      )
      .execute();
    return rows.map((row) => ({
      ...toActionVersion(row),
      currentStatus: row.deleted_at === null ? (row.status as ActionStatus) : null,
    }));
  }
}
