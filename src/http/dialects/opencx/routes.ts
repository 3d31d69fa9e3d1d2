/**
 * OpenCX's actions API under /actions (docs/dialects/opencx.md): create (the fixed contract), and list, read,
 * change and delete. The actions are native http actions (mapping.ts, payload.ts), run by
 * POST /v1/actions/{id}/execute like any other; what OpenCX gives that the native model has no field
 * for is kept in the action's `opencx` annotation, saved in the same transaction.
 *
 * Scopes: reading needs `actions:read`, writing `actions:write`. Errors answer ErrorDto.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { ActionService } from '../../../app/actions.ts';
import type { Action } from '../../../core/actions/model.ts';
import { MAX_PAGE_SIZE } from '../../../core/pagination.ts';
import { principalOf } from '../../plugins/auth.ts';
import type { ErrorHandlingOptions } from '../../plugins/errors.ts';
import { installDialectErrors } from '../dialect.ts';
import { NAMESPACE, opencxActions as dialect, type Annotation } from './mapping.ts';
import {
  ActionParams,
  ActionView,
  CreateActionBody,
  ERRORS_NOTE as NOTE,
  LIST_LIMIT,
  OPENCX_ERRORS as errors,
  OPENCX_TAGS as tags,
  UpdateActionBody,
} from './schemas.ts';

export interface OpenCxRouteOptions extends ErrorHandlingOptions {
  actions: ActionService;
}

export const opencxRoutes: FastifyPluginAsyncTypebox<OpenCxRouteOptions> = async (app, options) => {
  const { actions } = options;
  installDialectErrors(app, dialect, options);

  const annotationOf = async (organizationId: string, id: string) =>
    (await actions.annotation(organizationId, id, NAMESPACE)) as Annotation | undefined;

  app.post(
    '',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'opencxCreateAction',
        tags,
        summary: 'Create an action (OpenCX)',
        description: `The payload (an OpenAPI operation: parameters with JSON Schemas, requestBody, responses) becomes an http action whose input schema is built from the parameters and the body schema; it runs through POST /v1/actions/{id}/execute. ${NOTE}`,
        body: CreateActionBody,
        response: { 201: ActionView, ...errors },
      },
    },
    async (request, reply) => {
      const { input, annotation } = dialect.decode({ body: request.body });
      const action = await actions.create(principalOf(request), input, {
        annotation: { namespace: NAMESPACE, document: annotation },
      });
      return reply.code(201).send(dialect.encode({ action, annotation }));
    },
  );

  app.get(
    '',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'opencxListActions',
        tags,
        summary: 'List actions (OpenCX)',
        description: `Every action of the organization, newest first, whichever API made it. ${NOTE}`,
        response: { 200: Type.Array(ActionView), ...errors },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const found: Action[] = [];
      let cursor: string | undefined;
      do {
        const page = await actions.list(organizationId, {}, { limit: MAX_PAGE_SIZE, cursor });
        found.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && found.length < LIST_LIMIT);
      const annotations = await actions.annotations(
        organizationId,
        found.map((action) => action.id),
        NAMESPACE,
      );
      return found.map((action) =>
        dialect.encode({ action, annotation: annotations.get(action.id) as Annotation | undefined }),
      );
    },
  );

  app.get(
    '/:id',
    {
      config: { scope: 'actions:read' },
      schema: {
        operationId: 'opencxGetAction',
        tags,
        summary: 'Get an action (OpenCX)',
        description: NOTE,
        params: ActionParams,
        response: { 200: ActionView, ...errors },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const action = await actions.get(organizationId, request.params.id);
      return dialect.encode({ action, annotation: await annotationOf(organizationId, action.id) });
    },
  );

  app.patch(
    '/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'opencxUpdateAction',
        tags,
        summary: 'Change an action (OpenCX)',
        description: `Any field of the create body; what is not given stays. Giving api_endpoint, request_type or payload rebuilds the request and inputs; credentials and other settings made through the native API stay. ${NOTE}`,
        params: ActionParams,
        body: UpdateActionBody,
        response: { 200: ActionView, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const current = await actions.get(principal.organizationId, request.params.id);
      const stored = await annotationOf(principal.organizationId, current.id);
      const { input, annotation } = dialect.decode({
        body: request.body,
        current: { action: current, annotation: stored },
      });
      const action = await actions.update(
        principal,
        current.id,
        { ...input, expectedVersion: current.version },
        annotation ? { annotation: { namespace: NAMESPACE, document: annotation } } : {},
      );
      return dialect.encode({ action, annotation: annotation ?? stored });
    },
  );

  app.delete(
    '/:id',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'opencxDeleteAction',
        tags,
        summary: 'Delete an action (OpenCX)',
        description: `Answers the action as it was. Its versions and executions stay readable through the native API. ${NOTE}`,
        params: ActionParams,
        response: { 200: ActionView, ...errors },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const action = await actions.get(organizationId, request.params.id);
      const annotation = await annotationOf(organizationId, action.id);
      await actions.remove(organizationId, action.id);
      return dialect.encode({ action, annotation });
    },
  );
};
