/**
 * Agents: create, change, publish, delete, read; and the draft reset when one of their actions changes.
 *
 * Publishing freezes a version: the current version of every action the agent lists, with its name,
 * instructions and channels. The agent serves that version (its tool list) until it is published again.
 * Any change to what a version freezes puts it back to `draft`: its own fields, its action list, or a
 * change to or deletion of one of its actions (the hook below, which the action service calls inside
 * the transaction that wrote the action). A deleted action also leaves every agent's list, since it can
 * never be used again.
 */
import type { Action, Channel } from '../core/actions/model.ts';
import { CHANNELS, DEFAULT_CHANNELS } from '../core/actions/model.ts';
import {
  AGENT_LIMITS,
  changesDefinition,
  type Agent,
  type AgentVersion,
  type FrozenAction,
} from '../core/agents.ts';
import { AppError, notFound, validationError } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { AgentFilter, Repositories } from '../core/ports/store.ts';
import type { Principal } from '../core/tenancy.ts';
import type { ActionInput, ActionService, ActionsChangedHook, SaveRules } from './actions.ts';

export interface AgentInput {
  name: string;
  instructions?: string | undefined;
  channels?: Channel[] | undefined;
  actionIds?: string[] | undefined;
}

export type AgentPatch = Partial<AgentInput>;

type AgentStore = Repositories<'agents'>;

export interface AgentDeps {
  store: AgentStore;
  crypto: Crypto;
  clock: Clock;
  actions: ActionService;
}

/** The action service's hook: agents that list a changed action go back to draft; a deleted one leaves them. */
export function agentDraftReset(clock: Clock): ActionsChangedHook {
  return async (tx, organizationId, actionIds, change) => {
    const at = isoNow(clock);
    if (change === 'deleted') await tx.agents.removeActions(organizationId, actionIds, at);
    else await tx.agents.markDraftByActions(organizationId, actionIds, at);
  };
}

/** Checks the fields other callers than the HTTP schema (a vendor dialect) may get wrong. */
function checkFields(agent: Agent): void {
  if (agent.name.trim() === '' || agent.name.length > AGENT_LIMITS.name)
    throw validationError('/name', `An agent's name is 1 to ${AGENT_LIMITS.name} characters, not blank`);
  if (agent.instructions.length > AGENT_LIMITS.instructions)
    throw validationError(
      '/instructions',
      `Instructions are at most ${AGENT_LIMITS.instructions.toLocaleString('en')} characters`,
    );
  agent.channels.forEach((channel, i) => {
    if (!(CHANNELS as readonly string[]).includes(channel))
      throw validationError(
        `/channels/${i}`,
        `"${channel}" is not a channel; use one of ${CHANNELS.join(', ')}`,
      );
    if (agent.channels.indexOf(channel) !== i)
      throw validationError(`/channels/${i}`, `"${channel}" is listed twice`);
  });
}

/** Each listed action must be a live action of the organization, listed once, and at most AGENT_LIMITS.actions. */
async function checkActionIds(tx: AgentStore, organizationId: string, ids: readonly string[]): Promise<void> {
  if (ids.length > AGENT_LIMITS.actions)
    throw validationError('/action_ids', `An agent may use at most ${AGENT_LIMITS.actions} actions`);
  const live = new Set((await tx.agents.liveActions(organizationId, ids)).map((a) => a.id));
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) throw validationError(`/action_ids/${i}`, `Action ${id} is listed twice`);
    if (!live.has(id)) throw validationError(`/action_ids/${i}`, `No action with id ${id}`);
  });
}

export type AgentService = ReturnType<typeof createAgentService>;

export function createAgentService({ store, crypto, clock, actions }: AgentDeps) {
  async function get(organizationId: string, id: string): Promise<Agent> {
    const agent = await store.agents.get(organizationId, id);
    if (!agent) throw notFound('Agent');
    return agent;
  }

  /** Inside a transaction: the agent, held until the transaction ends. */
  async function locked(tx: AgentStore, organizationId: string, id: string): Promise<Agent> {
    const agent = await tx.agents.lock(organizationId, id);
    if (!agent) throw notFound('Agent');
    return agent;
  }

  /** Saves `next` if it changes what a version freezes, as a draft; returns what is stored. */
  async function save(tx: AgentStore, current: Agent, next: Agent): Promise<Agent> {
    if (!changesDefinition(current, next)) return current;
    const agent: Agent = { ...next, status: 'draft', updatedAt: isoNow(clock) };
    await tx.agents.update(agent);
    return agent;
  }

  /** Adds a live action to the agent's list (a no-op if it is there already). */
  async function attach(
    tx: AgentStore,
    organizationId: string,
    agentId: string,
    actionId: string,
  ): Promise<Agent> {
    const agent = await locked(tx, organizationId, agentId);
    if (agent.actionIds.includes(actionId)) return agent;
    if ((await tx.agents.liveActions(organizationId, [actionId])).length === 0) throw notFound('Action');
    if (agent.actionIds.length >= AGENT_LIMITS.actions)
      throw validationError(
        '/action_ids',
        `An agent may use at most ${AGENT_LIMITS.actions} actions; remove one before adding another`,
      );
    return save(tx, agent, { ...agent, actionIds: [...agent.actionIds, actionId] });
  }

  return {
    get,

    async create(principal: Principal, input: AgentInput): Promise<Agent> {
      const now = isoNow(clock);
      const agent: Agent = {
        id: crypto.newId(),
        organizationId: principal.organizationId,
        name: input.name,
        instructions: input.instructions ?? '',
        channels: input.channels ?? [...DEFAULT_CHANNELS],
        actionIds: input.actionIds ?? [],
        status: 'draft',
        publishedVersion: null,
        createdAt: now,
        updatedAt: now,
      };
      checkFields(agent);
      await store.transaction(async (tx) => {
        await checkActionIds(tx, agent.organizationId, agent.actionIds);
        await tx.agents.insert(agent);
      });
      return agent;
    },

    list(organizationId: string, filter: AgentFilter, page: PageRequest): Promise<Page<Agent>> {
      return store.agents.list(organizationId, filter, page);
    },

    /** Fields given replace the current ones; a change to any of them puts the agent back to draft. */
    update(principal: Principal, id: string, patch: AgentPatch): Promise<Agent> {
      const { organizationId } = principal;
      return store.transaction(async (tx) => {
        const current = await locked(tx, organizationId, id);
        const next: Agent = {
          ...current,
          name: patch.name ?? current.name,
          instructions: patch.instructions ?? current.instructions,
          channels: patch.channels ?? current.channels,
          actionIds: patch.actionIds ?? current.actionIds,
        };
        checkFields(next);
        if (patch.actionIds !== undefined) await checkActionIds(tx, organizationId, next.actionIds);
        return save(tx, current, next);
      });
    },

    async remove(organizationId: string, id: string): Promise<void> {
      if (!(await store.agents.delete(organizationId, id))) throw notFound('Agent');
    },

    /**
     * Freezes the current version of each of its actions as a new published version. 409 (naming each,
     * with what to do) when one of them was deleted or is inactive: such an action cannot run. Publishing
     * an agent that is already published changes nothing and answers its current version.
     */
    publish(principal: Principal, id: string): Promise<{ agent: Agent; version: AgentVersion }> {
      const { organizationId } = principal;
      return store.transaction(async (tx) => {
        const agent = await locked(tx, organizationId, id);
        if (agent.status === 'published' && agent.publishedVersion !== null) {
          const current = await tx.agents.getVersion(organizationId, id, agent.publishedVersion);
          if (current) return { agent, version: current };
        }
        const live = new Map(
          (await tx.agents.liveActions(organizationId, agent.actionIds)).map((a) => [a.id, a]),
        );
        const issues: { path: string; message: string }[] = [];
        const frozen: FrozenAction[] = [];
        agent.actionIds.forEach((actionId, i) => {
          const action = live.get(actionId);
          const path = `/action_ids/${i}`;
          if (!action)
            issues.push({ path, message: `Action ${actionId} was deleted; remove it from action_ids` });
          else if (action.status !== 'active')
            issues.push({
              path,
              message: `Action "${action.name}" (${actionId}) is inactive; set its status to active or remove it from action_ids`,
            });
          else frozen.push({ actionId, version: action.version });
        });
        if (issues.length > 0)
          throw new AppError(
            'CONFLICT',
            `The agent cannot be published: ${issues.map((i) => i.message).join('; ')}`,
            { path: issues[0]?.path, details: { issues } },
          );
        const now = isoNow(clock);
        const version: AgentVersion = {
          agentId: id,
          version: (agent.publishedVersion ?? 0) + 1,
          name: agent.name,
          instructions: agent.instructions,
          channels: agent.channels,
          actions: frozen,
          publishedAt: now,
          publishedBy: principal.keyId,
        };
        await tx.agents.insertVersion(organizationId, version);
        const published: Agent = {
          ...agent,
          status: 'published',
          publishedVersion: version.version,
          updatedAt: now,
        };
        await tx.agents.update(published);
        return { agent: published, version };
      });
    },

    async version(organizationId: string, id: string, version: number): Promise<AgentVersion> {
      const found = await store.agents.getVersion(organizationId, id, version);
      if (!found) throw notFound('Agent version');
      return found;
    },

    /** Adds an existing action to the agent, putting it back to draft. */
    addAction(organizationId: string, agentId: string, actionId: string): Promise<Agent> {
      return store.transaction((tx) => attach(tx, organizationId, agentId, actionId));
    },

    /** Takes an action off the agent's list (the action itself stays), putting it back to draft. */
    removeAction(organizationId: string, agentId: string, actionId: string): Promise<Agent> {
      return store.transaction(async (tx) => {
        const agent = await locked(tx, organizationId, agentId);
        if (!agent.actionIds.includes(actionId)) throw notFound('Action');
        return save(tx, agent, { ...agent, actionIds: agent.actionIds.filter((a) => a !== actionId) });
      });
    },

    /**
     * Creates an action as part of the agent: the action, its place at the end of the agent's list and
     * the agent's return to draft commit together. 404 before anything is written if there is no agent.
     */
    async createAction(
      principal: Principal,
      agentId: string,
      input: ActionInput,
      rules: SaveRules = {},
    ): Promise<{ agent: Agent; action: Action }> {
      const { organizationId } = principal;
      await get(organizationId, agentId);
      let agent: Agent | undefined;
      const action = await actions.create(principal, input, {
        ...rules,
        afterInsert: async (tx, created) => {
          await rules.afterInsert?.(tx, created);
          agent = await attach(tx, organizationId, agentId, created.id);
        },
      });
      return { agent: agent ?? (await get(organizationId, agentId)), action };
    },

    /**
     * What the agent's published version serves: the action versions it froze, as actions. An action
     * deleted or deactivated since is left out, since it cannot run. 409 if it was never published.
     */
    async publishedActions(organizationId: string, agentId: string): Promise<Action[]> {
      const agent = await get(organizationId, agentId);
      if (agent.publishedVersion === null)
        throw new AppError(
          'CONFLICT',
          `Agent "${agent.name}" has never been published; publish it first (POST /v1/agents/${agent.id}/publish)`,
          { details: { agent_status: agent.status } },
        );
      const version = await store.agents.getVersion(organizationId, agentId, agent.publishedVersion);
      if (!version) throw notFound('Agent version');
      const frozen = new Map(
        (await store.agents.frozenActions(organizationId, version.actions)).map((f) => [f.actionId, f]),
      );
      return version.actions.flatMap(({ actionId }) => {
        const found = frozen.get(actionId);
        if (!found || found.currentStatus !== 'active' || found.definition.status !== 'active') return [];
        return [
          {
            ...found.definition,
            id: actionId,
            organizationId,
            version: found.version,
            createdAt: found.createdAt,
            updatedAt: found.createdAt,
          },
        ];
      });
    },
  };
}
