/** Wire schemas of the native action API. Kind documents come from the kinds themselves. */
import Type, { type TSchema } from 'typebox';
import { ACTION_STATUSES, CHANNELS, EXECUTION_MODES } from '../../core/actions/model.ts';
import { VARIABLE_TYPES, WIDGETS } from '../../core/actions/variables.ts';
import { EXECUTION_STATUSES } from '../../core/executions.ts';
import { TOOL_NAME_PATTERN } from '../../core/tools/names.ts';
import { Timestamp, Warnings } from '../schemas.ts';

export const VariableSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$',
      description: 'How templates refer to it: {{name}}',
    }),
    type: Type.Enum(VARIABLE_TYPES),
    description: Type.Optional(
      Type.String({ maxLength: 1_000, description: 'What to collect; the model reads this' }),
    ),
    example: Type.Optional(Type.Unknown()),
    required: Type.Optional(Type.Boolean()),
    default: Type.Optional(Type.Unknown()),
    enum: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { minItems: 1, maxItems: 100 })),
    items: Type.Optional(
      Type.Object(
        { type: Type.String(), enum: Type.Optional(Type.Array(Type.String({ maxLength: 256 }))) },
        { additionalProperties: false },
      ),
    ),
    max_length: Type.Optional(Type.Integer({ minimum: 1, maximum: 32_768 })),
    minimum: Type.Optional(Type.Number()),
    maximum: Type.Optional(Type.Number()),
    label: Type.Optional(Type.String({ maxLength: 100, description: 'What a form labels the field with' })),
    placeholder: Type.Optional(
      Type.String({ maxLength: 200, description: 'Sample text for the empty field' }),
    ),
    widget: Type.Optional(
      Type.Enum(WIDGETS, {
        description:
          'How a form shows it when the type does not say: multi_line_text, password (also kept out of execution records), id (strings), vector (array of number), file (object)',
      }),
    ),
    option_labels: Type.Optional(
      Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 100 }), {
        description: 'Display labels of enum options: option → label',
      }),
    ),
    options_from: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'The id of an action whose output lists the options; POST /v1/actions/{id}/variables/{name}/options runs it',
      }),
    ),
  },
  { additionalProperties: false },
);

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({
  maxLength: 4_000,
  description: 'What the action does and when to use it: the text a model reads to decide',
});

/** Fields every kind shares; `required` says which a create needs. */
export function envelopeProperties() {
  return {
    name: Name,
    description: Description,
    status: Type.Optional(Type.Enum(ACTION_STATUSES)),
    channels: Type.Optional(
      Type.Array(Type.Enum(CHANNELS), {
        maxItems: CHANNELS.length,
        description: 'Where agents may use it; web by default',
      }),
    ),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
    variables: Type.Optional(
      Type.Array(VariableSchema, {
        maxItems: 100,
        description: 'What the agent collects; compiled to the input schema',
      }),
    ),
    context_variables: Type.Optional(
      Type.Array(Type.String({ maxLength: 64 }), {
        maxItems: 100,
        description: 'Dynamic-context keys the templates use, given per run in `context`',
      }),
    ),
    integration_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    secrets: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 64 }), {
        description: 'Secrets usable as {{secrets.NAME}}: NAME → secret id',
      }),
    ),
    tool_name: Type.Optional(
      Type.String({
        pattern: TOOL_NAME_PATTERN.source,
        description: 'The name agents call it by; derived from the name if omitted',
      }),
    ),
    requires_confirmation: Type.Optional(Type.Boolean()),
    execution_mode: Type.Optional(Type.Enum(EXECUTION_MODES)),
    speak_on_send: Type.Optional(Type.Union([Type.String({ maxLength: 1_000 }), Type.Null()])),
    speak_on_receive: Type.Optional(Type.Union([Type.String({ maxLength: 1_000 }), Type.Null()])),
  };
}

export function createActionBody(kinds: readonly { kind: string; configSchema: TSchema }[]) {
  return Type.Object(
    {
      ...envelopeProperties(),
      kind: Type.Union(kinds.map((k) => Type.Literal(k.kind))),
      ...Object.fromEntries(kinds.map((k) => [k.kind, Type.Optional(k.configSchema)])),
    },
    { additionalProperties: false },
  );
}

export function updateActionBody(kinds: readonly { kind: string; configSchema: TSchema }[]) {
  const properties = envelopeProperties();
  return Type.Object(
    {
      ...Object.fromEntries(
        Object.entries(properties).map(([key, schema]) => [
          key,
          key === 'name' || key === 'description' ? Type.Optional(schema) : schema,
        ]),
      ),
      kind: Type.Optional(Type.String()),
      version: Type.Optional(
        Type.Integer({
          minimum: 1,
          description: 'Apply only if the action is still at this version (optimistic concurrency)',
        }),
      ),
      ...Object.fromEntries(kinds.map((k) => [k.kind, Type.Optional(k.configSchema)])),
    },
    { additionalProperties: false, minProperties: 1 },
  );
}

const Document = Type.Object({}, { additionalProperties: true });

export const ActionView = Type.Object(
  {
    id: Type.String(),
    version: Type.Integer(),
    kind: Type.String(),
    ...envelopeProperties(),
    status: Type.Enum(ACTION_STATUSES),
    channels: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    variables: Type.Array(Type.Unknown()),
    context_variables: Type.Array(Type.String()),
    integration_id: Type.Union([Type.String(), Type.Null()]),
    secrets: Type.Record(Type.String(), Type.String()),
    tool_name: Type.String(),
    requires_confirmation: Type.Boolean(),
    execution_mode: Type.String(),
    speak_on_send: Type.Union([Type.String(), Type.Null()]),
    speak_on_receive: Type.Union([Type.String(), Type.Null()]),
    config: Type.Unknown({
      description: 'The kind’s document, also under the kind’s own name (e.g. `http`)',
    }),
    input_schema: Type.Unknown({ description: 'The JSON Schema agents see for the inputs' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: true },
);

/** The answer to a create or change: the action, and what will not work as saved. */
export const SavedActionView = Type.Object(
  { ...ActionView.properties, warnings: Warnings },
  { additionalProperties: true },
);

export const ActionVersionView = Type.Object({
  action_id: Type.String(),
  version: Type.Integer(),
  created_at: Timestamp,
  created_by: Type.Union([Type.String(), Type.Null()]),
  definition: Document,
});

const ErrorView = Type.Object({
  category: Type.String(),
  message: Type.String({ description: 'A sentence the agent can say' }),
  detail: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer()),
  code: Type.Optional(
    Type.String({ description: 'A precise reason: SANDBOX_TIMEOUT, SECRET_IN_OUTPUT, ...' }),
  ),
  line: Type.Optional(Type.Integer({ description: 'The line of a code action’s source that failed' })),
  issues: Type.Optional(
    Type.Array(Type.Object({ field: Type.String(), message: Type.String(), expected: Type.String() })),
  ),
});

const RequestView = Type.Union([
  Type.Object({
    method: Type.String(),
    url: Type.String(),
    headers: Type.Record(Type.String(), Type.String()),
    body: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Null(),
]);

export const ExecutionSummaryView = Type.Object(
  {
    id: Type.String(),
    action_id: Type.String(),
    action_version: Type.Integer(),
    action_name: Type.String(),
    kind: Type.String(),
    status: Type.Enum(EXECUTION_STATUSES),
    output: Type.Unknown({
      description: 'For http actions the response body, parsed when it is JSON, shaped and capped',
    }),
    output_truncated: Type.Boolean(),
    error: Type.Union([ErrorView, Type.Null()]),
    attempts: Type.Integer(),
    duration_ms: Type.Number(),
    started_at: Timestamp,
    finished_at: Type.Union([Timestamp, Type.Null()]),
    inputs: Document,
    idempotency_key: Type.Union([Type.String(), Type.Null()]),
    extra: Document,
    speak_on_send: Type.Union([Type.String(), Type.Null()], {
      description:
        'The action’s speak_on_send, rendered for this run: what a voice runtime says while it runs',
    }),
    speak_on_receive: Type.Union([Type.String(), Type.Null()], {
      description:
        'The action’s speak_on_receive after success, rendered with the output’s fields ({{order.status}})',
    }),
    speech_omitted: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description:
          'Why a configured message is null: a placeholder that named nothing or had nothing to say in this run',
      }),
    ),
    // for an action that requires confirmation: until when it waits for POST /v1/executions/{id}/confirm
    // (or /decline), and while it waits, the request it would send (secrets masked)
    expires_at: Type.Optional(Timestamp),
    request: Type.Optional(RequestView),
  },
  {
    description:
      'What an execution did, for the agent. GET /v1/executions/{id} adds the recorded request and response.',
  },
);

export const ExecutionView = Type.Object(
  {
    ...ExecutionSummaryView.properties,
    context: Document,
    request: RequestView,
    response: Type.Union([
      Type.Object({
        status: Type.Integer(),
        headers: Type.Record(Type.String(), Type.String()),
        body: Type.Union([Type.String(), Type.Null()]),
        body_truncated: Type.Boolean(),
      }),
      Type.Null(),
    ]),
  },
  {
    description:
      'The whole execution record: the summary plus the context, the rendered request and the upstream response, secrets redacted',
  },
);

export const DryRunView = Type.Object({
  dry_run: Type.Literal(true),
  status: Type.Literal('dry_run'),
  action_id: Type.String(),
  action_version: Type.Integer(),
  inputs: Document,
  request: RequestView,
  error: Type.Union([ErrorView, Type.Null()]),
});
