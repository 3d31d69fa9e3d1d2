/**
 * AI triggers: the workflow is offered to agents as a tool. Each version that is active keeps one action of
 * kind `workflow` in step with it (name and description from the workflow, inputs from
 * `trigger_configuration.input_schema`, tool name from `tool_name` or the workflow's name), so it is in
 * every tool list and on MCP, can be given to agents, and each call leaves an execution record. The
 * action goes when the workflow is deleted or leaves ai-trigger; the actions API may not change it.
 */
import { readAiTrigger } from '../../../core/actions/kinds/workflow.ts';
import { CHANNELS } from '../../../core/actions/model.ts';
import { AppError } from '../../../core/errors.ts';
import type { WorkflowVersion } from '../../../core/workflows/model.ts';
import type { ActionService } from '../../actions.ts';
import type { TriggerKind } from './kind.ts';

function toolOf(configuration: unknown) {
  const read = readAiTrigger(configuration);
  if (!read.ok) throw new AppError('VALIDATION_FAILED', read.issue.message, { path: read.issue.path });
  return read.tool;
}

export function aiTrigger(actions: Pick<ActionService, 'putManaged' | 'removeManaged'>): TriggerKind {
  return {
    async configure(_organizationId, configuration) {
      toolOf(configuration);
      return configuration ?? null;
    },

    async activated(tx, version: WorkflowVersion) {
      const { organizationId, workflowId } = version;
      const tool = toolOf(version.triggerConfiguration);
      const linked = await tx.workflowTools.get(organizationId, workflowId);
      const current = linked === undefined ? undefined : await tx.actions.get(organizationId, linked);
      if (tool.toolName !== undefined) {
        const holder = await tx.actions.findByToolName(organizationId, tool.toolName);
        if (holder && holder.id !== current?.id)
          throw new AppError(
            'CONFLICT',
            `Another action already has the tool name "${tool.toolName}"; choose another trigger_configuration.tool_name`,
            { path: '/trigger_configuration/tool_name' },
          );
      }
      const action = await actions.putManaged(tx, { organizationId, keyId: version.createdBy }, current, {
        name: version.name,
        description: version.description ?? `Runs the workflow "${version.name}"`,
        kind: 'workflow',
        // the workflow decides nothing about channels; an agent's own channels filter its tools
        channels: [...CHANNELS],
        variables: tool.variables,
        toolName: tool.toolName,
        config: { workflow_id: workflowId },
      });
      if (action.id !== linked) await tx.workflowTools.put(organizationId, workflowId, action.id);
    },

    async retired(tx, version: WorkflowVersion) {
      const { organizationId, workflowId } = version;
      const linked = await tx.workflowTools.get(organizationId, workflowId);
      if (linked === undefined) return;
      await actions.removeManaged(tx, organizationId, linked);
      await tx.workflowTools.delete(organizationId, workflowId);
    },
  };
}
