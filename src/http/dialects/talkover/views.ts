/**
 * A native action read back as Talkover's action object (its documented response `data`), with the request
 * fields it was saved from beside it: `node_id`, `authorization_scheme`, `custom_headers`, the spoken
 * messages, `execution_mode`, `transfer_to` and `hold_duration`, so what one request sent can be read
 * back. `config` holds the type's own setting (transfer_to or hold_duration); `action_trigger` is null.
 */
import type { AuthConfig } from '../../../core/actions/kinds/http.ts';
import type { Action } from '../../../core/actions/model.ts';
import type { Variable } from '../../../core/actions/variables.ts';
import type { Agent } from '../../../core/agents.ts';
import type { ActionInput } from '../../../app/actions.ts';
import type { Dialect } from '../dialect.ts';
import { talkoverErrorAnswer } from './errors.ts';
import { NODE_TAG, actionInputFrom, typeOf, type MappingContext } from './mapping.ts';
import type { AuthorizationScheme, TalkoverActionRequest } from './request.ts';

/** The scheme an auth reads back as. */
function schemeOf(auth: AuthConfig | null): AuthorizationScheme {
  switch (auth?.type) {
    case undefined:
      return 'none';
    case 'none':
      return 'custom';
    case 'bearer':
    case 'basic':
      return auth.type;
    case 'api_key':
      return 'api_key';
    case 'token_url':
      if (auth.header !== undefined && auth.header.toLowerCase() !== 'authorization') return 'api_key';
      if (auth.username !== undefined) return 'basic';
      return auth.secret_id === undefined ? 'none' : 'bearer';
    default:
      // body or OAuth client credentials, set through the native API: Talkover has no name for them
      return 'custom';
  }
}

export interface TalkoverInputView {
  name: string;
  type: string;
  required: boolean;
  description?: string;
  value?: unknown;
  enum?: string[];
}

export interface TalkoverActionView {
  id: string;
  node_id: string | null;
  name: string;
  label: string;
  description: string;
  type: string;
  input_schema: TalkoverInputView[];
  config: Record<string, unknown> | null;
  action_trigger: null;
  url: string | null;
  authorization_url: string | null;
  authorization_scheme: AuthorizationScheme | null;
  custom_headers: { key: string; value: string }[];
  speak_on_send: string | null;
  speak_on_receive: string | null;
  execution_mode: 'during_call' | 'post_call';
  transfer_to: string | null;
  hold_duration: number | null;
  current_status: string;
  created_at: string;
  updated_at: string;
}

export function talkoverAction(action: Action): TalkoverActionView {
  const http = action.kind === 'http' ? action.config : undefined;
  const transferTo = action.kind === 'transfer' ? action.config.destination : null;
  const seconds = action.kind === 'hold' ? action.config.seconds : null;
  const holdDuration = typeof seconds === 'number' ? seconds : null;
  const headers = Object.entries(http?.headers ?? {}).map(([key, value]) => ({ key, value }));
  const config =
    transferTo !== null
      ? { transfer_to: transferTo }
      : holdDuration !== null
        ? { hold_duration: holdDuration }
        : null;
  return {
    id: action.id,
    node_id: action.tags.find((tag) => tag.startsWith(NODE_TAG))?.slice(NODE_TAG.length) ?? null,
    name: action.name,
    label: action.name,
    description: action.description,
    type: typeOf(action),
    input_schema: action.variables.map(inputView),
    config,
    action_trigger: null,
    url: http?.url ?? null,
    authorization_url: http?.auth?.type === 'token_url' ? http.auth.url : null,
    authorization_scheme: http ? schemeOf(http.auth) : null,
    custom_headers: headers,
    speak_on_send: action.messages.speakOnSend,
    speak_on_receive: action.messages.speakOnReceive,
    execution_mode: action.executionMode === 'post_call' ? 'post_call' : 'during_call',
    transfer_to: transferTo,
    hold_duration: holdDuration,
    current_status: action.status,
    created_at: action.createdAt,
    updated_at: action.updatedAt,
  };
}

function inputView(variable: Variable): TalkoverInputView {
  return {
    name: variable.name,
    type: variable.type,
    required: variable.required === true,
    ...(variable.description === undefined ? {} : { description: variable.description }),
    ...(variable.default === undefined ? {} : { value: variable.default }),
    ...(variable.enum === undefined ? {} : { enum: variable.enum }),
  };
}

/** The agent, with its actions as Talkover action objects. */
export const agentView = (agent: Agent, actions: Action[]) => ({
  id: agent.id,
  name: agent.name,
  instructions: agent.instructions,
  channels: agent.channels,
  status: agent.status,
  published_version: agent.publishedVersion,
  actions: actions.map(talkoverAction),
  created_at: agent.createdAt,
  updated_at: agent.updatedAt,
});

/** A create or update of an agent's action (its body checked by request.ts), with what the route read. */
export interface ActionRequest extends MappingContext {
  body: TalkoverActionRequest;
}

/** Talkover's agent actions: its action body in, its action view out, its error body for errors. */
export const talkoverActions = {
  decode: ({ body, ...context }: ActionRequest): ActionInput => actionInputFrom(body, context),
  encode: talkoverAction,
  errorAnswer: talkoverErrorAnswer,
} satisfies Dialect<ActionRequest, ActionInput, Action, TalkoverActionView>;
