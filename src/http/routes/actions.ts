import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ActionInput, ActionService } from '../../app/actions.ts';
import type { KindRegistry } from '../../app/kinds/registry.ts';
import type { Action } from '../../core/actions/model.ts';
import { AppError } from '../../core/errors.ts';
import { principalOf } from '../plugins/auth.ts';
import { IdParams, PageQuery, pageOf, toPageRequest, toPageResponse } from '../schemas.ts';
import {
  ActionVersionView,
  ActionView,
  SavedActionView,
  createActionBody,
  updateActionBody,
} from './action-schemas.ts';
import { actionInputFrom, actionView, versionView } from './action-views.ts';

export interface ActionRouteOptions {
  actions: ActionService;
  kinds: KindRegistry;
}

const tags = ['actions'];
const CODE_NOTE =
  'A `code` action whose code can read secrets (its own `secrets`, or its integration’s) also needs the `secrets:use` scope, and may fetch only the hosts those secrets are bound to (`allowed_hosts`). The answer’s `warnings` says what will not work as saved.';

export const actionRoutes: FastifyPluginAsyncTypebox<ActionRouteOptions> = async (
  app,
  { actions, kinds },
) => {
  const view = (action: Action) => actionView(action, actions.inputSchema(action));
  const saved = async (action: Action) => ({ ...view(action), warnings: await actions.warnings(action) });
  const kindSchemas = kinds.all();

  app.post(
    '/actions',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'createAction',
        tags,
        summary: 'Create an action',
        description: `The kind's document goes under the kind's name: ${kindSchemas.map((k) => `\`${k.kind}\``).join(', ')}. ${CODE_NOTE}`,
        body: createActionBody(kindSchemas),
        response: { 201: SavedActionView },
      },
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown> & { kind: string };
      if (body[body.kind] === undefined) {
        throw new AppError('VALIDATION_FAILED', `A ${body.kind} action needs its "${body.kind}" document`, {
          path: `/${body.kind}`,
        });
      }
      const other = kindSchemas.map((k) => k.kind).find((k) => k !== body.kind && body[k] !== undefined);
      if (other)
        throw new AppError('VALIDATION_FAILED', `A ${body.kind} action has no "${other}" document`, {
          path: `/${other}`,
        });
      const input = { ...actionInputFrom(body, body.kind), config: body[body.kind] } as ActionInput;
      return reply.code(201).send(await saved(await actions.create(principalOf(request), input)));
    },
  );

  app.get(
    '/actions',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'listActions',
        tags,
        summary: 'List actions',
        querystring: Type.Object({
          ...PageQuery.properties,
          kind: Type.Optional(Type.String({ maxLength: 32 })),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive')])),
          integration_id: Type.Optional(Type.String({ maxLength: 64 })),
          tag: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: { 200: pageOf(ActionView) },
      },
    },
    async (request) => {
      const { kind, status, integration_id, tag } = request.query;
      const page = await actions.list(
        principalOf(request).organizationId,
        { kind, status, integrationId: integration_id, tag },
        toPageRequest(request.query),
      );
      return toPageResponse(page, view);
    },
  );

  app.get(
    '/actions/:id',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'getAction',
        tags,
        summary: 'Get an action',
        params: IdParams,
        response: { 200: ActionView },
      },
    },
    async (request) => view(await actions.get(principalOf(request).organizationId, request.params.id)),
  );

  app.patch(
    '/actions/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'updateAction',
        tags,
        summary: 'Change an action (stored as a new version)',
        description: `Fields given replace the current ones; the kind document is replaced whole. The previous versions stay readable. ${CODE_NOTE}`,
        params: IdParams,
        body: updateActionBody(kindSchemas),
        response: { 200: SavedActionView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const body = request.body as Record<string, unknown> & { version?: number };
      const current = await actions.get(principal.organizationId, request.params.id);
      const config = body[current.kind];
      const patch = {
        ...actionInputFrom(body, current.kind),
        expectedVersion: body.version,
        ...(config === undefined ? {} : { config }),
      };
      return saved(await actions.update(principal, request.params.id, patch));
    },
  );

  app.delete(
    '/actions/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'deleteAction',
        tags,
        summary: 'Delete an action (its versions and executions stay readable)',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await actions.remove(principalOf(request).organizationId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/actions/:id/versions',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'listActionVersions',
        tags,
        summary: "List an action's versions, newest first",
        params: IdParams,
        querystring: PageQuery,
        response: { 200: pageOf(ActionVersionView) },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await actions.versions(principalOf(request).organizationId, request.params.id, {
        limit: Math.min(limit ?? 50, 100),
        cursor: cursor === undefined ? undefined : versionCursor(cursor),
      });
      return { data: page.items.map(versionView), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/actions/:id/versions/:version',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'getActionVersion',
        tags,
        summary: 'Get one version of an action',
        params: Type.Object({ ...IdParams.properties, version: Type.Integer({ minimum: 1 }) }),
        response: { 200: ActionVersionView },
      },
    },
    async (request) =>
      versionView(
        await actions.version(principalOf(request).organizationId, request.params.id, request.params.version),
      ),
  );
};

function versionCursor(cursor: string): string {
  if (!/^\d{1,9}$/.test(cursor))
    throw new AppError('VALIDATION_FAILED', 'cursor is not a next_cursor this API returned', {
      path: '/cursor',
    });
  return cursor;
}
