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

export interface ToolDeps {
  store: Pick<Store, 'actions'>;
  actions: ActionService;
  agents?: Pick<AgentService, 'publishedActions'> | undefined;
}

export function createToolService({ store, actions, agents }: ToolDeps) {
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
  };
}
