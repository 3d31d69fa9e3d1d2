/**
 * OpenCX's workflows API under /workflows (docs/dialects/opencx.md, "Workflows"): create (the fixed
 * contract), and list, read, change (a new version, as PATCH /v1/workflows/{workflow_id}) and delete. The
 * workflows are native ones: they run through POST /v1/workflows/{workflow_id}/runs, their webhook URL or
 * POST /v1/events like any other.
 *
 * Scopes: reading needs `workflows:read`, writing `workflows:write`. Errors answer ErrorDto.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { WorkflowService } from '../../../app/workflows/definitions.ts';
import { MAX_PAGE_SIZE } from '../../../core/pagination.ts';
import type { WorkflowVersion } from '../../../core/workflows/model.ts';
import { principalOf } from '../../plugins/auth.ts';
import type { ErrorHandlingOptions } from '../../plugins/errors.ts';
import { installDialectErrors } from '../dialect.ts';
import { creation } from '../../routes/workflows.ts';
import { inWireTerms } from './blocks.ts';
import { ERRORS_NOTE as NOTE, LIST_LIMIT, OPENCX_ERRORS as errors, OPENCX_TAGS as tags } from './schemas.ts';
import { isNumbered, opencxWorkflows as dialect, type NumberedVersion } from './workflow-mapping.ts';
import {
  CreateWorkflowBody,
  UpdateWorkflowBody,
  WorkflowParams,
  WorkflowVersionView,
} from './workflow-schemas.ts';

export interface OpenCxWorkflowRouteOptions extends ErrorHandlingOptions {
  workflows: WorkflowService;
}

const originOf = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

export const opencxWorkflowRoutes: FastifyPluginAsyncTypebox<OpenCxWorkflowRouteOptions> = async (
  app,
  options,
) => {
  const { workflows } = options;
  installDialectErrors(app, dialect, options);

  /**
   * The version with its serial. The service answers a version it saved as it built it, before the store
   * numbered it, so that one is read back; should a later edit have been saved in between, the answer is
   * the workflow as it now is.
   */
  async function numbered(organizationId: string, version: WorkflowVersion): Promise<NumberedVersion> {
    const found = isNumbered(version) ? version : await workflows.active(organizationId, version.workflowId);
    if (!isNumbered(found)) throw new Error(`workflow version ${found.id} has no serial`);
    return found;
  }

  const view = async (request: FastifyRequest, version: WorkflowVersion) =>
    dialect.encode({
      version: await numbered(principalOf(request).organizationId, version),
      origin: originOf(request),
    });

  app.post(
    '',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'opencxCreateWorkflow',
        tags,
        summary: '[Beta] Create a workflow (OpenCX)',
        description: `Version 1 of a new workflow, active. Blocks are checked when saved: a reference to a step that cannot have run before, or a step that names no action, is a 400 naming the step. ${NOTE}`,
        body: CreateWorkflowBody,
        response: { 201: WorkflowVersionView, ...errors },
      },
    },
    async (request, reply) => {
      const input = dialect.decode({ body: request.body });
      const version = await inWireTerms(
        workflows.create(principalOf(request), creation(input, request.body)),
      );
      return reply.code(201).send(await view(request, version));
    },
  );

  app.get(
    '',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'opencxListWorkflows',
        tags,
        summary: 'List workflows (OpenCX)',
        description: `The active version of every workflow of the organization, newest first, whichever API made it. ${NOTE}`,
        response: { 200: Type.Array(WorkflowVersionView), ...errors },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const found: WorkflowVersion[] = [];
      let cursor: string | undefined;
      do {
        const page = await workflows.list(organizationId, { limit: MAX_PAGE_SIZE, cursor });
        found.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && found.length < LIST_LIMIT);
      return Promise.all(found.map((version) => view(request, version)));
    },
  );

  app.get(
    '/:workflow_id',
    {
      config: { scope: 'workflows:read' },
      schema: {
        operationId: 'opencxGetWorkflow',
        tags,
        summary: 'Get a workflow (OpenCX)',
        description: `Its active version. ${NOTE}`,
        params: WorkflowParams,
        response: { 200: WorkflowVersionView, ...errors },
      },
    },
    async (request) =>
      view(request, await workflows.active(principalOf(request).organizationId, request.params.workflow_id)),
  );

  app.patch(
    '/:workflow_id',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'opencxUpdateWorkflow',
        tags,
        summary: 'Change a workflow (OpenCX)',
        description: `A new version from the active one and the fields given; it becomes the active one (the previous one answers is_active false). Runs already started finish on the version they started on; a webhook_url stays the same. ${NOTE}`,
        params: WorkflowParams,
        body: UpdateWorkflowBody,
        response: { 200: WorkflowVersionView, ...errors },
      },
    },
    async (request) => {
      const patch = dialect.decode({ body: request.body });
      const version = await inWireTerms(
        workflows.update(principalOf(request), request.params.workflow_id, patch),
      );
      return view(request, version);
    },
  );

  app.delete(
    '/:workflow_id',
    {
      config: { scope: 'workflows:write' },
      schema: {
        operationId: 'opencxDeleteWorkflow',
        tags,
        summary: 'Delete a workflow (OpenCX)',
        description: `Answers its active version as it was. Its versions stay readable through the runs that used them. ${NOTE}`,
        params: WorkflowParams,
        response: { 200: WorkflowVersionView, ...errors },
      },
    },
    async (request) => {
      const { organizationId } = principalOf(request);
      const version = await workflows.active(organizationId, request.params.workflow_id);
      const answer = await view(request, version);
      await workflows.remove(organizationId, version.workflowId);
      return answer;
    },
  );
};
