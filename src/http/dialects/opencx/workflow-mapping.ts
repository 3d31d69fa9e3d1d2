/**
 * An OpenCX workflow ⇄ a native workflow version. The native API answers OpenCX's block shape too
 * (blocks.ts, the codec both use), so this is the native view (routes/workflows.ts) with three
 * differences:
 *
 * | OpenCX | native |
 * |---|---|
 * | `id`: a number, "Version serial ID" | the version's `serial`, assigned by the store; the native `id` is text |
 * | `webhook_url`: an absolute URL | `/v1/hooks/<token>` on the origin the request came to |
 * | no `workflow_editor_state` in the answer | kept as given, read through GET /v1/workflows/{workflow_id} |
 */
import type { WorkflowInput } from '../../../app/workflows/definitions.ts';
import { AppError } from '../../../core/errors.ts';
import type { WorkflowVersion } from '../../../core/workflows/model.ts';
import { toInput, workflowView } from '../../routes/workflows.ts';
import type { Dialect } from '../dialect.ts';
import { opencxErrorAnswer } from './errors.ts';
import type { UpdateWorkflowBody, WorkflowVersionView } from './workflow-schemas.ts';

/** A version read from the store, which carries its serial. */
export type NumberedVersion = WorkflowVersion & { serial: number };

export const isNumbered = (version: WorkflowVersion): version is NumberedVersion =>
  typeof version.serial === 'number' && Number.isSafeInteger(version.serial);

/** The native input for the fields given; a PATCH must give at least one. */
export function workflowInput(body: UpdateWorkflowBody): Partial<WorkflowInput> {
  const input: Partial<WorkflowInput> = toInput(body);
  if (Object.values(input).every((value) => value === undefined))
    throw new AppError(
      'VALIDATION_FAILED',
      'Give at least one of name, description, trigger_type, workflow_blocks, trigger_configuration, trigger_constraints or workflow_editor_state',
    );
  return input;
}

/** `origin`: scheme and host the request came to (behind a trusted proxy, the forwarded ones). */
export function workflowVersionView(version: NumberedVersion, origin: string): WorkflowVersionView {
  const native = workflowView(version);
  return {
    id: version.serial,
    workflow_id: native.workflow_id,
    name: native.name,
    description: native.description,
    is_active: native.is_active,
    trigger_type: native.trigger_type,
    version_number: native.version_number,
    created_at: native.created_at,
    updated_at: native.updated_at,
    workflow_blocks: native.workflow_blocks,
    trigger_configuration: native.trigger_configuration,
    trigger_constraints: native.trigger_constraints,
    webhook_url: native.webhook_url === null ? null : new URL(native.webhook_url, origin).href,
  };
}

/** A version to answer, with the origin its webhook URL is on. */
export interface VersionAnswer {
  version: NumberedVersion;
  origin: string;
}

/** OpenCX's workflows: its create and update bodies in, a version view out, ErrorDto for errors. */
export const opencxWorkflows = {
  decode: ({ body }: { body: UpdateWorkflowBody }) => workflowInput(body),
  encode: ({ version, origin }: VersionAnswer) => workflowVersionView(version, origin),
  errorAnswer: opencxErrorAnswer,
} satisfies Dialect<{ body: UpdateWorkflowBody }, Partial<WorkflowInput>, VersionAnswer, WorkflowVersionView>;
