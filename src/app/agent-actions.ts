/**
 * An agent's own actions, each found again by a key its caller chooses (a vendor's node id), kept as a
 * tag on the action: list them, create or replace the one with a key, delete one. No new table: the key
 * lives in the versioned definition, so it survives every change and shows in the native API's `tags`.
 *
 * Creating, replacing or deleting one puts the agent back to draft: creating through
 * AgentService.createAction, the rest through the action service's change hook (agentDraftReset).
 */
import type { Action } from '../core/actions/model.ts';
import type { Agent } from '../core/agents.ts';
import { AppError, isAppError, notFound } from '../core/errors.ts';
import type { Repositories } from '../core/ports/store.ts';
import type { Principal } from '../core/tenancy.ts';
import type { ActionInput, ActionService } from './actions.ts';
import type { AgentService } from './agents.ts';

export interface AgentActionDeps {
  agents: AgentService;
  actions: ActionService;
}

/** How many times a save starts over when a concurrent save created an action with the same key. */
const SAVE_ATTEMPTS = 5;
const KEY_TAKEN = 'key_taken';

export type AgentActionService = ReturnType<typeof createAgentActionService>;

export function createAgentActionService({ agents, actions }: AgentActionDeps) {
  /** The agent's live actions, in its order. */
  async function list(organizationId: string, agentId: string): Promise<{ agent: Agent; actions: Action[] }> {
    const agent = await agents.get(organizationId, agentId);
    const found = await Promise.all(
      agent.actionIds.map((id) => actions.get(organizationId, id).catch(ignoreNotFound)),
    );
    return { agent, actions: found.filter((action): action is Action => action !== undefined) };
  }

  async function find(organizationId: string, agentId: string, tag: string): Promise<Action | undefined> {
    return (await list(organizationId, agentId)).actions.find((action) => action.tags.includes(tag));
  }

  /**
   * Inside the transaction that inserts `created`: with the agent locked, no other of its actions may
   * carry the key (a concurrent save that got there first); the save then starts over and updates it.
   */
  async function claimKey(
    tx: Repositories<'agents' | 'actions'>,
    organizationId: string,
    agentId: string,
    created: Action,
    tag: string,
  ) {
    const agent = await tx.agents.lock(organizationId, agentId);
    if (!agent) throw notFound('Agent');
    for (const id of agent.actionIds) {
      if (id === created.id) continue;
      const other = await tx.actions.get(organizationId, id);
      if (other?.tags.includes(tag))
        throw new AppError(
          'CONFLICT',
          'Another request saved an action with this key at the same time; send this one again',
          { details: { reason: KEY_TAKEN, action_id: id } },
        );
    }
  }

  return {
    list,
    find,

    /**
     * Creates the agent's action with the key `tag`, or replaces the one that has it (same id, a new
     * version). `build` makes the input from the action being replaced, if any; the tag is added to it.
     */
    async save(
      principal: Principal,
      agentId: string,
      tag: string,
      build: (current: Action | undefined) => ActionInput,
    ): Promise<{ action: Action; created: boolean }> {
      const { organizationId } = principal;
      const tagged = (input: ActionInput): ActionInput => ({
        ...input,
        tags: [...(input.tags ?? []).filter((t) => t !== tag), tag],
      });
      for (let attempt = 1; ; attempt++) {
        const current = await find(organizationId, agentId, tag);
        if (current) {
          try {
            const action = await actions.update(principal, current.id, tagged(build(current)));
            return { action, created: false };
          } catch (error) {
            // another save replaced it between our read and our write: the last one wins, so build again
            const raced = isAppError(error) && error.code === 'CONFLICT';
            if (!raced || attempt >= SAVE_ATTEMPTS) throw error;
            continue;
          }
        }
        try {
          const { action } = await agents.createAction(principal, agentId, tagged(build(undefined)), {
            afterInsert: (tx, created) => claimKey(tx, organizationId, agentId, created, tag),
          });
          return { action, created: true };
        } catch (error) {
          const raced = isAppError(error) && error.details?.reason === KEY_TAKEN;
          if (!raced || attempt >= SAVE_ATTEMPTS) throw error;
        }
      }
    },

    /** Deletes one of the agent's actions (404 if the agent does not list it); it leaves every agent. */
    async remove(organizationId: string, agentId: string, actionId: string): Promise<void> {
      const agent = await agents.get(organizationId, agentId);
      if (!agent.actionIds.includes(actionId)) throw notFound('Action');
      await actions.remove(organizationId, actionId);
    },
  };
}

function ignoreNotFound(error: unknown): undefined {
  if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
  throw error;
}
