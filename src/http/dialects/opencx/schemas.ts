/**
 * Wire schemas of OpenCX's actions API: CreateActionPublicDto, ActionPublicResponseDto and ErrorDto as
 * OpenCX's API reference defines them (kept in test/fixtures/opencx/*.schema.json). The request keeps
 * their openness (fields they do not name are ignored); Switchboard adds only bounds the native model needs,
 * so a too-long name is a 400 that says so rather than a failure later.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { CHANNELS } from '../../../core/actions/model.ts';

export const OPENCX_REQUEST_TYPES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const JsonSchema = Type.Record(Type.String(), Type.Unknown());

const SessionChannel = Type.Enum(CHANNELS);

/** The request's payload: open, as OpenCX defines it (`additionalProperties: {}`). */
const Parameter = Type.Object({
  name: Type.String({ minLength: 1, description: 'Parameter name' }),
  in: Type.Enum(['query', 'path', 'header', 'cookie'], { description: 'Where the parameter is sent' }),
  description: Type.Optional(Type.String()),
  required: Type.Optional(Type.Boolean()),
  schema: Type.Optional(JsonSchema),
});

const RequestBody = Type.Object({
  description: Type.Optional(Type.String()),
  required: Type.Optional(Type.Boolean()),
  content: Type.Record(Type.String(), Type.Object({ schema: Type.Optional(JsonSchema) }), {
    description: 'Content type to schema mapping (e.g. "application/json": { schema: {...} })',
  }),
});

const payloadProperties = {
  base_url: Type.Optional(Type.String({ description: 'Base URL for the API endpoint' })),
  path: Type.Optional(Type.String({ description: 'API path (e.g. "/api/v1/bookings/{id}")' })),
  method: Type.Optional(Type.String({ description: 'HTTP method (get, post, put, delete, patch)' })),
  operationId: Type.Optional(Type.String()),
  summary: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Array(Parameter, { maxItems: 200 })),
  requestBody: Type.Optional(RequestBody),
  responses: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};

export const Payload = Type.Object(payloadProperties, {
  description:
    'OpenAPI-style operation spec: parameters, requestBody, responses, etc. It becomes the http request and the input schema.',
});

const EnabledOnChannel = Type.Object({
  channels: Type.Array(SessionChannel, { maxItems: CHANNELS.length }),
});

const createProperties = {
  name: Type.String({ minLength: 1, maxLength: 200, description: 'Action display name' }),
  description: Type.Optional(Type.String({ maxLength: 4_000, description: 'What this action does' })),
  api_endpoint: Type.String({
    minLength: 1,
    maxLength: 2_048,
    description:
      'The full API endpoint URL to call: an absolute http(s) URL as a WHATWG URL parser reads it, which may be a template such as https://api.example.com/v1/bookings/{id} (kept as given; its {id} is a path parameter unless payload.path gives the path)',
  }),
  request_type: Type.Enum(OPENCX_REQUEST_TYPES, { description: 'HTTP method' }),
  operation_id: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 63,
      description:
        'Unique operation ID (auto-generated from name if omitted): the tool name agents call it by',
    }),
  ),
  payload: Payload,
  enabled_on_channel: Type.Optional(EnabledOnChannel),
  pinned: Type.Optional(Type.Boolean({ description: 'Whether to pin this action prominently' })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
  require_form_submission: Type.Optional(
    Type.Boolean({ description: 'Require the user to confirm (submit a form) before it runs' }),
  ),
};

export const CreateActionBody = Type.Object(createProperties);
export type CreateActionBody = Static<typeof CreateActionBody>;

/** PATCH: any field of the create body; what is not given stays. */
export const UpdateActionBody = Type.Partial(Type.Object(createProperties));
export type UpdateActionBody = Static<typeof UpdateActionBody>;

/** The response's payload: parameter items and content entries are closed, as OpenCX defines them. */
const PayloadView = Type.Object(
  {
    ...payloadProperties,
    parameters: Type.Optional(Type.Array(Type.Object(Parameter.properties, { additionalProperties: false }))),
    requestBody: Type.Optional(
      Type.Object(
        {
          ...RequestBody.properties,
          content: Type.Record(
            Type.String(),
            Type.Object({ schema: Type.Optional(JsonSchema) }, { additionalProperties: false }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: true },
);

export const ActionView = Type.Object(
  {
    id: Type.String({ description: 'Unique action ID' }),
    name: Type.String(),
    description: nullable(Type.String()),
    api_endpoint: nullable(Type.String()),
    request_type: nullable(Type.String()),
    operation_id: nullable(Type.String()),
    payload: nullable(PayloadView),
    status: nullable(Type.String({ description: '"live", or "disabled" for an inactive action' })),
    pinned: Type.Boolean(),
    tags: Type.Array(Type.String()),
    enabled_on_channel: Type.Object(
      { channels: Type.Array(SessionChannel) },
      { additionalProperties: false },
    ),
    is_handoff_like: Type.Boolean({ description: 'True for a transfer (call handoff) action' }),
    require_form_submission: nullable(Type.Boolean()),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type ActionView = Static<typeof ActionView>;

export const ActionParams = Type.Object({ id: Type.String({ maxLength: 256 }) });

export const OpenCxError = Type.Object(
  {
    statusCode: Type.Integer(),
    message: Type.String({ description: 'What went wrong and what to change' }),
    error: Type.String({ description: 'The HTTP reason phrase, e.g. Bad Request' }),
  },
  { description: 'Every error of the OpenCX-compatible routes (ErrorDto)' },
);

/** What every OpenCX-compatible route shares in its schema: its tag, its error bodies and their note. */
export const OPENCX_TAGS = ['opencx'];
export const OPENCX_ERRORS = { '4xx': OpenCxError, '5xx': OpenCxError };
export const ERRORS_NOTE = 'Errors answer ErrorDto `{statusCode, message, error}`.';
/** The most items one list answers (OpenCX's lists are not paged, so neither are these). */
export const LIST_LIMIT = 10_000;
