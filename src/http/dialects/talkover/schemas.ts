/**
 * Wire schemas of Talkover's agent actions API. The request body's schema documents it; the body is checked
 * by request.ts with Talkover's (Laravel's) rules, which report every failing field at once in a 422, where
 * JSON Schema validation stops at the first.
 */
import Type, { type TSchema } from 'typebox';
import { VARIABLE_TYPES } from '../../../core/actions/variables.ts';
import { AGENT_STATUSES } from '../../../core/agents.ts';
import {
  ACTION_TYPES,
  AUTHORIZATION_SCHEMES,
  CURRENT_STATUSES,
  EXECUTION_MODES,
  TALKOVER_LIMITS as L,
} from './request.ts';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const optional = <T extends TSchema>(schema: T) => Type.Optional(nullable(schema));
const Url = Type.String({ format: 'uri', maxLength: L.url });

const Input = Type.Object({
  name: Type.String({ maxLength: L.inputName, description: 'The input’s name, used as {{name}}' }),
  type: Type.Enum(VARIABLE_TYPES),
  required: Type.Optional(Type.Boolean({ default: false })),
  description: optional(Type.String({ maxLength: L.inputDescription })),
  value: Type.Optional(Type.Unknown({ description: 'Its default value' })),
  enum: Type.Optional(Type.Array(Type.String(), { description: 'Type enum: the options' })),
});

const Header = Type.Object({
  key: Type.String({ maxLength: 128 }),
  value: Type.String({ maxLength: L.headerValue }),
});

export const ActionBody = Type.Object({
  node_id: Type.String({
    maxLength: L.nodeId,
    description:
      'Action node ID for workflow integration: a second request with the same node_id updates the action',
  }),
  name: Type.String({ maxLength: L.name }),
  description: Type.String({ maxLength: L.description }),
  type: Type.Enum(ACTION_TYPES),
  inputs: optional(Type.Array(Input, { maxItems: L.inputs })),
  integration: optional(
    Type.Object({
      id: Type.String({
        description:
          'Joins the Switchboard integration with this id (its base URL, default auth and secrets); another id is kept as a reference',
      }),
    }),
  ),
  url: optional(Url),
  authorization_url: optional(Url),
  authorization_scheme: optional(Type.Enum(AUTHORIZATION_SCHEMES, { default: 'none' })),
  custom_headers: optional(Type.Array(Header, { maxItems: L.customHeaders })),
  speak_on_send: optional(Type.String({ maxLength: L.speech })),
  speak_on_receive: optional(Type.String({ maxLength: L.speech })),
  execution_mode: optional(Type.Enum(EXECUTION_MODES, { description: 'post_call only for external' })),
  hold_duration: optional(Type.Integer({ minimum: 1, maximum: L.holdSeconds })),
  transfer_to: optional(Type.String({ maxLength: L.transferTo, description: 'E.164, such as +14155550100' })),
  current_status: optional(Type.Enum(CURRENT_STATUSES, { default: 'active' })),
  secret_id: optional(
    Type.String({
      maxLength: L.id,
      description:
        'Switchboard: the secret bearer, basic (the password) and api_key send; with authorization_url, what that URL is called with',
    }),
  ),
  username: optional(Type.String({ maxLength: L.username, description: 'Switchboard: basic’s username' })),
  api_key_header: optional(
    Type.String({ maxLength: 128, description: 'Switchboard: the header api_key uses (default X-API-Key)' }),
  ),
  secrets: optional(
    Type.Record(Type.String(), Type.String({ maxLength: L.id }), {
      description: 'Switchboard: secrets custom_headers may use as {{secrets.NAME}}: NAME → secret id',
    }),
  ),
});

const InputView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  required: Type.Boolean(),
  description: Type.Optional(Type.String()),
  value: Type.Optional(Type.Unknown()),
  enum: Type.Optional(Type.Array(Type.String())),
});

export const ActionView = Type.Object({
  id: Type.String(),
  node_id: nullable(Type.String()),
  name: Type.String(),
  label: Type.String(),
  description: Type.String(),
  type: Type.String({
    description: 'webhook, transfer, hold or external (another kind’s name for an action made natively)',
  }),
  input_schema: Type.Array(InputView),
  config: nullable(
    Type.Record(Type.String(), Type.Unknown(), { description: 'transfer_to or hold_duration' }),
  ),
  action_trigger: Type.Null(),
  url: nullable(Type.String()),
  authorization_url: nullable(Type.String()),
  authorization_scheme: nullable(Type.Enum(AUTHORIZATION_SCHEMES)),
  custom_headers: Type.Array(Header),
  speak_on_send: nullable(Type.String()),
  speak_on_receive: nullable(Type.String()),
  execution_mode: Type.Enum(EXECUTION_MODES),
  transfer_to: nullable(Type.String()),
  hold_duration: nullable(Type.Integer()),
  current_status: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const AgentView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  instructions: Type.String(),
  channels: Type.Array(Type.String()),
  status: Type.Enum(AGENT_STATUSES, { description: 'draft after any change to the agent or its actions' }),
  published_version: nullable(Type.Integer()),
  actions: Type.Array(ActionView),
  created_at: Type.String(),
  updated_at: Type.String(),
});

/** Talkover's success envelope. */
export const envelope = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Literal(true), message: Type.String(), data });

export const TalkoverError = Type.Object(
  {
    success: Type.Literal(false),
    message: Type.String(),
    errors: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String()), {
        description: '422: the messages of each field',
      }),
    ),
  },
  { description: 'Every error of the Talkover-compatible routes' },
);

export const AgentParams = Type.Object({ agent_id: Type.String({ description: 'The agent’s id' }) });
export const ActionParams = Type.Object({ ...AgentParams.properties, action_id: Type.String() });
