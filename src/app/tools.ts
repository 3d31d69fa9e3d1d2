/** The tool list agents receive: active actions, filtered by channel, with their input schemas. */
import type { Channel } from '../core/actions/model.ts';
import type { Store } from '../core/ports/store.ts';
import type { ToolSource } from '../core/tools/export.ts';
import type { ActionService } from './actions.ts';

export interface ToolFilter {
  channel?: Channel | undefined;
}

export type ToolService = ReturnType<typeof createToolService>;

export function createToolService({ store, actions }: { store: Store; actions: ActionService }) {
  return {
    async list(organizationId: string, filter: ToolFilter): Promise<(ToolSource & { actionId: string })[]> {
      const active = await store.actions.listActive(organizationId);
      return active
        .filter((action) => filter.channel === undefined || action.channels.includes(filter.channel))
        .map((action) => ({
          actionId: action.id,
          name: action.toolName,
          description: action.description,
          inputSchema: actions.inputSchema(action),
          requiresConfirmation: action.requiresConfirmation,
        }));
    },
  };
}
