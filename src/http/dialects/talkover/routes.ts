/**
 * Talkover's agent actions API under /api/v1/agents (docs/dialects/talkover.md): create or update an agent's
 * action by node_id, list and delete its actions, read the agent, publish it. The actions are native actions
 * (mapping.ts), run by POST /v1/actions/{id}/execute like any other; the agent is the native agent, back to
 * draft after any change to its actions until it is published.
 *
 * Scopes: writing an agent's actions needs `agents:write` and `actions:write`; publishing
 * `agents:write`; reading `agents:read`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AgentActionService } from '../../../app/agent-actions.ts';
import type { AgentService } from '../../../app/agents.ts';
import type { IntegrationService } from '../../../app/integrations.ts';
import { AppError, isAppError } from '../../../core/errors.ts';
import { hasScope, type Scope } from '../../../core/scopes.ts';
import type { Principal } from '../../../core/tenancy.ts';
import { principalOf } from '../../plugins/auth.ts';
import type { ErrorHandlingOptions } from '../../plugins/errors.ts';
import { installDialectErrors } from '../dialect.ts';
import { inRequestTerms, invalid } from './issues.ts';
import { kindOf, nodeTag, typeOf } from './mapping.ts';
import { parseActionRequest, type TalkoverActionRequest } from './request.ts';
import { agentView, talkoverActions as dialect } from './views.ts';
import {
  ActionBody,
  ActionParams,
  ActionView,
  AgentParams,
  AgentView,
  TalkoverError,
  envelope,
} from './schemas.ts';

export interface TalkoverRouteOptions extends ErrorHandlingOptions {
  agents: AgentService;
  agentActions: AgentActionService;
  integrations: IntegrationService;
}

const tags = ['talkover'];
const errors = { '4xx': TalkoverError, '5xx': TalkoverError };
const NOTE =
  'Answers `{success, message, data}`; errors `{success: false, message}`, with `errors` by field on a 422.';

/** A second scope a route needs beyond its `config.scope` (which the auth plugin checks first). */
function alsoNeeds(scope: Scope) {
  return async (request: FastifyRequest) => {
    if (!hasScope(principalOf(request).scopes, scope))
      throw new AppError('INSUFFICIENT_SCOPE', `This API key lacks the "${scope}" scope this route needs`);
  };
}

export const talkoverRoutes: FastifyPluginAsyncTypebox<TalkoverRouteOptions> = async (app, options) => {
  const { agents, agentActions, integrations } = options;
  installDialectErrors(app, dialect, options);
  // request.ts checks bodies with Talkover's rules, reporting every field; the schemas document them
  app.setValidatorCompiler(() => () => true);

  /** The integration `integration.id` names, when it is one of the organization's. */
  async function integrationOf(principal: Principal, request: TalkoverActionRequest): Promise<string | null> {
    if (request.integrationId === undefined) return null;
    try {
      return (await integrations.get(principal.organizationId, request.integrationId)).id;
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND') return null;
      throw error;
    }
  }

  app.post(
    '/:agent_id/actions',
    {
      config: {
        scope: 'agents:write',
        talkoverForbidden: 'You are not authorized to create actions for this agent.',
      },
      onRequest: alsoNeeds('actions:write'),
      schema: {
        operationId: 'talkoverSaveAgentAction',
        tags,
        summary: 'Create or update an agent’s action (Talkover)',
        description: `Creates the action, or updates the agent's action with the same \`node_id\`. The agent goes back to draft. ${NOTE} Scope: \`agents:write\` and \`actions:write\`.`,
        params: AgentParams,
        body: ActionBody,
        response: { 200: envelope(ActionView), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const agentId = request.params.agent_id;
      await agents.get(principal.organizationId, agentId);
      const parsed = parseActionRequest(request.body);
      if (!parsed.ok) throw invalid(parsed.errors);
      const body = parsed.request;
      const integrationId = await integrationOf(principal, body);
      const { action } = await agentActions
        .save(principal, agentId, nodeTag(body.nodeId), (current) => {
          if (current && current.kind !== kindOf(body.type))
            throw invalid({
              type: [
                `The type cannot change from ${typeOf(current)} to ${body.type}; delete the action and create it again.`,
              ],
            });
          return dialect.decode({ body, integrationId, current });
        })
        .catch((error: unknown) => {
          throw inRequestTerms(error, body.url);
        });
      return {
        success: true as const,
        message: 'Agent action updated successfully',
        data: dialect.encode(action),
      };
    },
  );

  app.get(
    '/:agent_id/actions',
    {
      config: {
        scope: 'agents:read',
        talkoverForbidden: 'You are not authorized to view actions of this agent.',
      },
      schema: {
        operationId: 'talkoverListAgentActions',
        tags,
        summary: 'List an agent’s actions (Talkover)',
        description: `In the agent's order. ${NOTE}`,
        params: AgentParams,
        response: { 200: envelope(Type.Array(ActionView)), ...errors },
      },
    },
    async (request) => {
      const { actions } = await agentActions.list(
        principalOf(request).organizationId,
        request.params.agent_id,
      );
      return {
        success: true as const,
        message: 'Agent actions retrieved successfully',
        data: actions.map((action) => dialect.encode(action)),
      };
    },
  );

  app.delete(
    '/:agent_id/actions/:action_id',
    {
      config: {
        scope: 'agents:write',
        talkoverForbidden: 'You are not authorized to delete actions of this agent.',
      },
      onRequest: alsoNeeds('actions:write'),
      schema: {
        operationId: 'talkoverDeleteAgentAction',
        tags,
        summary: 'Delete an agent’s action (Talkover)',
        description: `Deletes the action (it leaves every agent; its executions stay readable). The agent goes back to draft. ${NOTE} Scope: \`agents:write\` and \`actions:write\`.`,
        params: ActionParams,
        response: { 200: envelope(Type.Object({ id: Type.String() })), ...errors },
      },
    },
    async (request) => {
      const { agent_id: agentId, action_id: actionId } = request.params;
      await agentActions.remove(principalOf(request).organizationId, agentId, actionId);
      return { success: true as const, message: 'Agent action deleted successfully', data: { id: actionId } };
    },
  );

  app.get(
    '/:agent_id',
    {
      config: { scope: 'agents:read', talkoverForbidden: 'You are not authorized to view this agent.' },
      schema: {
        operationId: 'talkoverGetAgent',
        tags,
        summary: 'Get an agent with its actions (Talkover)',
        description: `\`status\` is draft after any change to its actions, until it is published. ${NOTE}`,
        params: AgentParams,
        response: { 200: envelope(AgentView), ...errors },
      },
    },
    async (request) => {
      const { agent, actions } = await agentActions.list(
        principalOf(request).organizationId,
        request.params.agent_id,
      );
      return {
        success: true as const,
        message: 'Agent retrieved successfully',
        data: agentView(agent, actions),
      };
    },
  );

  app.post(
    '/:agent_id/publish',
    {
      config: { scope: 'agents:write', talkoverForbidden: 'You are not authorized to publish this agent.' },
      schema: {
        operationId: 'talkoverPublishAgent',
        tags,
        summary: 'Publish an agent (Talkover)',
        description: `Freezes the current version of each of its actions; 409 while one of them is inactive. ${NOTE}`,
        params: AgentParams,
        response: { 200: envelope(AgentView), ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await agents.publish(principal, request.params.agent_id);
      const { agent, actions } = await agentActions.list(principal.organizationId, request.params.agent_id);
      return {
        success: true as const,
        message: 'Agent published successfully',
        data: agentView(agent, actions),
      };
    },
  );
};
