import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { AgentService } from '../../app/agents.ts';
import { CHANNELS } from '../../core/actions/model.ts';
import { AGENT_LIMITS, AGENT_STATUSES, type Agent, type AgentVersion } from '../../core/agents.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, Timestamp, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';

const fields = {
  name: Type.String({ minLength: 1, maxLength: AGENT_LIMITS.name }),
  instructions: Type.Optional(
    Type.String({
      maxLength: AGENT_LIMITS.instructions,
      description: 'What the agent is told; empty by default',
    }),
  ),
  channels: Type.Optional(
    Type.Array(Type.Enum(CHANNELS), {
      maxItems: CHANNELS.length,
      uniqueItems: true,
      description: 'Where the agent talks; web by default',
    }),
  ),
  action_ids: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      maxItems: AGENT_LIMITS.actions,
      description: 'The actions it may use, each an action of the organization; none by default',
    }),
  ),
};

export const AgentView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  instructions: Type.String(),
  channels: Type.Array(Type.String()),
  action_ids: Type.Array(Type.String()),
  status: Type.Enum(AGENT_STATUSES, {
    description:
      'draft until published; any change to the agent or to one of its actions makes it a draft again',
  }),
  published_version: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The version it serves; null until first published',
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const agentView = (a: Agent): Static<typeof AgentView> => ({
  id: a.id,
  name: a.name,
  instructions: a.instructions,
  channels: a.channels,
  action_ids: a.actionIds,
  status: a.status,
  published_version: a.publishedVersion,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

export const AgentVersionView = Type.Object({
  agent_id: Type.String(),
  version: Type.Integer(),
  name: Type.String(),
  instructions: Type.String(),
  channels: Type.Array(Type.String()),
  actions: Type.Array(Type.Object({ action_id: Type.String(), version: Type.Integer() }), {
    description: 'The action versions this version serves',
  }),
  published_at: Timestamp,
  published_by: Type.Union([Type.String(), Type.Null()], { description: 'The API key that published it' }),
});

export const agentVersionView = (v: AgentVersion): Static<typeof AgentVersionView> => ({
  agent_id: v.agentId,
  version: v.version,
  name: v.name,
  instructions: v.instructions,
  channels: v.channels,
  actions: v.actions.map((a) => ({ action_id: a.actionId, version: a.version })),
  published_at: v.publishedAt,
  published_by: v.publishedBy,
});

const PublishedView = Type.Object({ ...AgentView.properties, published: AgentVersionView });

const tags = ['agents'];

export const agentRoutes: FastifyPluginAsyncTypebox<{ agents: AgentService }> = async (app, { agents }) => {
  app.post(
    '/agents',
    {
      config: { scope: 'agents:write' },
      schema: {
        operationId: 'createAgent',
        tags,
        summary: 'Create an agent (a draft)',
        body: Type.Object(fields, { additionalProperties: false }),
        response: { 201: AgentView },
      },
    },
    async (request, reply) => {
      const { name, instructions, channels, action_ids } = request.body;
      const agent = await agents.create(principalOf(request), {
        name,
        instructions,
        channels,
        actionIds: action_ids,
      });
      return reply.code(201).send(agentView(agent));
    },
  );

  app.get(
    '/agents',
    {
      config: { scope: 'agents:read' },
      schema: {
        operationId: 'listAgents',
        tags,
        summary: 'List agents, newest first',
        querystring: Type.Object({
          ...PageQuery.properties,
          status: Type.Optional(Type.Enum(AGENT_STATUSES)),
        }),
        response: { 200: pageOf(AgentView) },
      },
    },
    async (request) =>
      toPageResponse(
        await agents.list(
          principalOf(request).organizationId,
          { status: request.query.status },
          toPageRequest(request.query),
        ),
        agentView,
      ),
  );

  app.get(
    '/agents/:id',
    {
      config: { scope: 'agents:read' },
      schema: {
        operationId: 'getAgent',
        tags,
        summary: 'Get an agent',
        params: IdParams,
        response: { 200: AgentView },
      },
    },
    async (request) => agentView(await agents.get(principalOf(request).organizationId, request.params.id)),
  );

  app.patch(
    '/agents/:id',
    {
      config: { scope: 'agents:write' },
      schema: {
        operationId: 'updateAgent',
        tags,
        summary: 'Change an agent',
        description:
          'Fields given replace the current ones (`action_ids` replaces the whole list). A change puts the agent back to draft; its published version is served until it is published again.',
        params: IdParams,
        body: Type.Object(
          { ...fields, name: Type.Optional(fields.name) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: AgentView },
      },
    },
    async (request) => {
      const { name, instructions, channels, action_ids } = request.body;
      const agent = await agents.update(principalOf(request), request.params.id, {
        name,
        instructions,
        channels,
        actionIds: action_ids,
      });
      return agentView(agent);
    },
  );

  app.delete(
    '/agents/:id',
    {
      config: { scope: 'agents:write' },
      schema: {
        operationId: 'deleteAgent',
        tags,
        summary: 'Delete an agent and its published versions (its actions stay)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await agents.remove(principalOf(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/agents/:id/publish',
    {
      config: { scope: 'agents:write' },
      schema: {
        operationId: 'publishAgent',
        tags,
        summary: 'Publish an agent: freeze the current version of each of its actions',
        description:
          'The agent serves the new version (`GET /v1/tools?agent_id=`) until it is published again. 409 when one of its ' +
          'actions is inactive or was deleted: activate it or take it off `action_ids`. Publishing an agent that is ' +
          'already published answers its current version.',
        params: IdParams,
        response: { 200: PublishedView },
      },
    },
    async (request) => {
      const { agent, version } = await agents.publish(principalOf(request), request.params.id);
      return { ...agentView(agent), published: agentVersionView(version) };
    },
  );

  app.get(
    '/agents/:id/versions/:version',
    {
      config: { scope: 'agents:read' },
      schema: {
        operationId: 'getAgentVersion',
        tags,
        summary: 'Get a published version of an agent',
        params: Type.Object({ ...IdParams.properties, version: Type.Integer({ minimum: 1 }) }),
        response: { 200: AgentVersionView },
      },
    },
    async (request) =>
      agentVersionView(
        await agents.version(principalOf(request).organizationId, request.params.id, request.params.version),
      ),
  );
};
