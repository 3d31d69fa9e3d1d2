/**
 * Wire schemas of OpenCX's workflows API: the create body and the version it answers, as OpenCX's API
 * reference defines them (test/fixtures/opencx/workflows/*.schema.json). The body keeps their openness
 * (fields they do not name are ignored); Switchboard adds only the bounds the native model has (name and
 * description length, block count), so breaking one is a 400 that says so. The answer is closed: exactly the
 * fields OpenCX lists.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { TRIGGER_TYPES, WORKFLOW_LIMITS } from '../../../core/workflows/model.ts';

const nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Union([schema, Type.Null()], options);

const createProperties = {
  name: Type.String({ minLength: 1, maxLength: WORKFLOW_LIMITS.name, description: 'Workflow name' }),
  trigger_type: Type.Enum(TRIGGER_TYPES, {
    description:
      'What starts the workflow. manual-trigger: POST /v1/workflows/{workflow_id}/runs; webhook: POST to its webhook_url; event types (ticket-created, ...): POST /v1/events. ai-trigger, cron-trigger and form-trigger are stored as given.',
  }),
  workflow_blocks: Type.Array(Type.Unknown(), {
    maxItems: WORKFLOW_LIMITS.blocks,
    description:
      'Steps `{"$kind": "Action", "id", "type": "action"|"http"|"set"|"delay", "name", "input"}` and control-flow blocks `{"$kind": "Block", "type": "if-else", "id", "inputs": {"condition": {"operatorName", "left", "right"}}, "branches": {"then": [...], "else": [...]}}`. `{{step_id.output.field}}` and `{{trigger.field}}` reach earlier results.',
  }),
  description: Type.Optional(
    Type.String({ maxLength: WORKFLOW_LIMITS.description, description: 'Workflow description' }),
  ),
  trigger_configuration: Type.Optional(
    Type.Unknown({
      description:
        'Trigger-specific configuration (for webhook: `signing_secret_id` for Standard Webhooks signatures)',
    }),
  ),
  trigger_constraints: Type.Optional(
    Type.Unknown({ description: 'JSON Logic that must be satisfied by the trigger data for a run to start' }),
  ),
  workflow_editor_state: Type.Optional(
    Type.Unknown({
      description:
        'React Flow editor state, kept as given (readable through GET /v1/workflows/{workflow_id})',
    }),
  ),
};

export const CreateWorkflowBody = Type.Object(createProperties);
export type CreateWorkflowBody = Static<typeof CreateWorkflowBody>;

/** PATCH: any field of the create body; what is not given stays. */
export const UpdateWorkflowBody = Type.Partial(Type.Object(createProperties));
export type UpdateWorkflowBody = Static<typeof UpdateWorkflowBody>;

export const WorkflowVersionView = Type.Object(
  {
    id: Type.Number({ description: 'Version serial ID' }),
    workflow_id: Type.String({ description: 'Workflow UUID (groups all versions of the same workflow)' }),
    name: Type.String({ description: 'Workflow name' }),
    description: nullable(Type.String(), { description: 'Workflow description' }),
    is_active: nullable(Type.Boolean(), { description: 'Whether this version is currently active' }),
    trigger_type: Type.String(),
    version_number: Type.Number({ description: 'Version number (increments with each edit)' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    workflow_blocks: nullable(Type.Array(Type.Unknown()), {
      description: 'Workflow step/block definitions',
    }),
    trigger_configuration: Type.Unknown({ description: 'Trigger-specific configuration' }),
    trigger_constraints: Type.Unknown({ description: 'Trigger constraint rules (JSON Logic)' }),
    webhook_url: nullable(Type.String(), {
      description:
        'For webhook workflows: POST here to trigger it (no API key: the URL is the credential). Null otherwise.',
    }),
  },
  { additionalProperties: false },
);
export type WorkflowVersionView = Static<typeof WorkflowVersionView>;

export const WorkflowParams = Type.Object({ workflow_id: Type.String({ maxLength: 256 }) });
