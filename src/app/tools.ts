/**
 * The tool list agents receive: active actions, filtered by channel, with their input schemas. With an
 * agent, the action versions its published version froze instead of the current ones.
 */
import type { Action, Channel } from '../core/actions/model.ts';
import type { Store } from '../core/ports/store.ts';
import type { ToolSource } from '../core/tools/export.ts';
import type { ActionService } from './actions.ts';
import type { AgentService } from './agents.ts';

export interface ToolFilter {
  channel?: Channel | undefined;
  /** The agent whose published version to serve (404 if none, 409 if never published). */
  agentId?: string | undefined;
}

export type ToolService = ReturnType<typeof createToolService>;

/** The action and version a tool call runs. */
export interface ToolTarget {
  actionId: string;
  actionVersion: number;
}

/** Tool names remembered per organization for find(); each use checks the action's version is still current. */
const NAMES_KEPT = 2_000;

export interface ToolDeps {
  store: Pick<Store, 'actions'>;
  actions: ActionService;
  agents?: Pick<AgentService, 'publishedActions'> | undefined;
}

export function createToolService({ store, actions, agents }: ToolDeps) {
  /**
   * Actions by tool name. Any change to an action (its name, status or channels, or deleting it) gives
   * it a new version or none, so an entry whose action is still at its version is what a fresh read of
   * that name would find: a name taken over by another action is found again once the first has moved on.
   */
  const byName = new Map<string, Action>();

  async function activeByName(organizationId: string, name: string): Promise<Action | undefined> {
    const key = `${organizationId}\u0000${name}`;
    const known = byName.get(key);
    if (known && (await store.actions.currentVersion(organizationId, known.id)) === known.version)
      return known;
    const action = await store.actions.findByToolName(organizationId, name);
    byName.delete(key);
    if (!action) return undefined;
    if (byName.size >= NAMES_KEPT) byName.delete(byName.keys().next().value as string);
    byName.set(key, action);
    return action;
  }

  function source(organizationId: string, agentId: string | undefined): Promise<Action[]> {
    if (agentId === undefined) return store.actions.listActive(organizationId);
    if (!agents) throw new Error('The tool service was built without agents');
    return agents.publishedActions(organizationId, agentId);
  }

  return {
    async list(
      organizationId: string,
      filter: ToolFilter,
    ): Promise<(ToolSource & { actionId: string; actionVersion: number })[]> {
      const active = await source(organizationId, filter.agentId);
      return active
        .filter((action) => filter.channel === undefined || action.channels.includes(filter.channel))
        .map((action) => ({
          actionId: action.id,
          // with an agent, the version it froze: executing the tool runs that version
          actionVersion: action.version,
          name: action.toolName,
          description: action.description,
          inputSchema: actions.inputSchema(action),
          requiresConfirmation: action.requiresConfirmation,
        }));
    },

    /**
     * The tool named `name` in the list `filter` selects, as list() would give it, without building the
     * list: a tools/call needs only the one it names.
     */
    async find(organizationId: string, name: string, filter: ToolFilter): Promise<ToolTarget | undefined> {
      const action =
        filter.agentId === undefined
          ? await activeByName(organizationId, name)
          : (await source(organizationId, filter.agentId)).find((candidate) => candidate.toolName === name);
      if (!action || action.status !== 'active') return undefined;
      if (filter.channel !== undefined && !action.channels.includes(filter.channel)) return undefined;
      return { actionId: action.id, actionVersion: action.version };
    },
  };
}
