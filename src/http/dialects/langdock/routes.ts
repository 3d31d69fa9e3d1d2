/**
 * Langdock's integrations API for actions, under /integrations/v1 (its Create, Update and Delete Action
 * pages; docs/dialects/langdock.md): create, replace and delete the code actions of an integration. The
 * actions are native code actions, run by POST /v1/actions/{id}/execute like any other.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ActionService } from '../../../app/actions.ts';
import type { IntegrationService } from '../../../app/integrations.ts';
import { AppError, notFound } from '../../../core/errors.ts';
import type { Principal } from '../../../core/tenancy.ts';
import { principalOf } from '../../plugins/auth.ts';
import type { ErrorHandlingOptions } from '../../plugins/errors.ts';
import { installDialectErrors } from '../dialect.ts';
import { langdockActions as dialect } from './actions.ts';
import { actionSlugFor } from './names.ts';
import {
  ActionBody,
  ActionParams,
  ActionResponse,
  DeleteResponse,
  IntegrationParams,
  LangdockError,
} from './schemas.ts';

export interface LangdockRouteOptions extends ErrorHandlingOptions {
  actions: ActionService;
  integrations: IntegrationService;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tags = ['langdock'];
const errors = { '4xx': LangdockError, '5xx': LangdockError };
const SCOPE_NOTE =
  'Scope: `actions:write`, and `secrets:use` to create or replace code in an integration that has secrets (Langdock’s `INTEGRATION_API` grants both); the code may fetch only the hosts those secrets are bound to. Errors answer `{message, error, statusCode, request_id}`.';

/** Ids in the path are UUIDs (400 otherwise, as Langdock answers), compared in lower case. */
function uuid(value: string, name: string): string {
  if (!UUID.test(value)) throw new AppError('VALIDATION_FAILED', `${name} must be a UUID, not "${value}"`);
  return value.toLowerCase();
}

export const langdockRoutes: FastifyPluginAsyncTypebox<LangdockRouteOptions> = async (app, options) => {
  const { actions, integrations } = options;
  installDialectErrors(app, dialect, options);

  /** The integration of the path (403 when it is another organization's), and the action in it. */
  async function actionIn(principal: Principal, params: { integrationId: string; actionId: string }) {
    const integrationId = uuid(params.integrationId, 'integrationId');
    const actionId = uuid(params.actionId, 'actionId');
    await integrations.access(principal.organizationId, integrationId);
    const action = await actions.get(principal.organizationId, actionId);
    if (action.integrationId !== integrationId) throw notFound('Action');
    return { action, integrationId };
  }

  app.post(
    '/:integrationId/actions/create',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'langdockCreateAction',
        tags,
        summary: 'Create an action in an integration (Langdock)',
        description: `A code action: \`code\` runs in the sandbox with \`inputs\`, the integration's \`secrets\` and a guarded \`fetch\`. Each input field becomes a variable named by its slug. ${SCOPE_NOTE}`,
        params: IntegrationParams,
        body: ActionBody,
        response: { 201: ActionResponse, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const integrationId = uuid(request.params.integrationId, 'integrationId');
      await integrations.access(principal.organizationId, integrationId);
      const action = await actions.create(principal, dialect.decode({ body: request.body, integrationId }), {
        uniqueNameInIntegration: true,
        toolNameFor: actionSlugFor,
      });
      return reply.code(201).send({ action: dialect.encode(action) });
    },
  );

  app.put(
    '/:integrationId/actions/:actionId',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'langdockReplaceAction',
        tags,
        summary: 'Replace an action of an integration (Langdock)',
        description: `Replaces the name, description, code and input fields; what is not given is emptied. The slug and order stay. ${SCOPE_NOTE}`,
        params: ActionParams,
        body: ActionBody,
        response: { 200: ActionResponse, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { action: current, integrationId } = await actionIn(principal, request.params);
      const input = dialect.decode({ body: request.body, integrationId, current });
      const action = await actions.update(principal, current.id, input, { uniqueNameInIntegration: true });
      return { action: dialect.encode(action) };
    },
  );

  app.delete(
    '/:integrationId/actions/:actionId',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'langdockDeleteAction',
        tags,
        summary: 'Delete an action of an integration (Langdock)',
        description: `Its versions and executions stay readable through the native API. ${SCOPE_NOTE}`,
        params: ActionParams,
        response: { 200: DeleteResponse, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { action } = await actionIn(principal, request.params);
      await actions.remove(principal.organizationId, action.id);
      return { message: 'Action deleted' as const, id: action.id };
    },
  );
};
