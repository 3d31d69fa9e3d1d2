/**
 * A Talkover action ⇄ a native action.
 *
 * | Talkover | native |
 * |---|---|
 * | `webhook` | kind http: POST `url` with the inputs as a JSON body (`{"date": "{{date}}"}`) |
 * | `external` | the same, with execution_mode post_call unless `execution_mode` says during_call |
 * | `transfer`, `transfer_to` | kind transfer, destination `transfer_to` (E.164) |
 * | `hold`, `hold_duration` | kind hold, seconds `hold_duration` |
 * | `inputs` | variables (`value` is the default) |
 * | `custom_headers` | http.headers (values may use `{{secrets.NAME}}`) |
 * | `authorization_scheme` | http.auth: none (or none given) → the integration's default auth, none without one; bearer, basic, api_key (header `api_key_header`, default X-API-Key) with `secret_id` (and `username`); custom → auth none: the custom headers carry the credential |
 * | `authorization_url` | http.auth token_url: the token it answers is sent as Bearer (api_key: in the api_key_header); `secret_id` (and `username`, for basic) is what the URL is called with |
 * | `integration.id` | integration_id when it names an integration of the organization; otherwise kept as a `talkover-integration:<id>` tag |
 * | `node_id` | a `talkover-node:<id>` tag: the key an update finds the agent's action by |
 * | `current_status`, `speak_on_send`, `speak_on_receive` | status, the spoken messages |
 *
 * A replacement (same node_id) replaces every Talkover field and keeps what only the native API sets:
 * channels, other tags, context variables, tool name, confirmation, an http action's timeout, retries
 * and response shaping, a transfer's announcement.
 */
import type { ActionInput } from '../../../app/actions.ts';
import type { AuthConfig } from '../../../core/actions/kinds/http.ts';
import type { Action, Channel } from '../../../core/actions/model.ts';
import type { Variable } from '../../../core/actions/variables.ts';
import type { ActionType, TalkoverActionRequest } from './request.ts';

export const NODE_TAG = 'talkover-node:';
const INTEGRATION_TAG = 'talkover-integration:';
/** Marks an `external` action that runs during the call, which its execution mode cannot tell. */
const EXTERNAL_TAG = 'talkover-type:external';
const DEFAULT_API_KEY_HEADER = 'X-API-Key';
/** Talkover's agents are voice agents. */
const VOICE_CHANNELS: readonly Channel[] = ['phone_voice', 'web_voice'];

export const nodeTag = (nodeId: string): string => `${NODE_TAG}${nodeId}`;

const KIND_OF_TYPE: Readonly<Record<ActionType, string>> = {
  webhook: 'http',
  external: 'http',
  transfer: 'transfer',
  hold: 'hold',
};

export const kindOf = (type: ActionType): string => KIND_OF_TYPE[type];

/** The Talkover type of a native action; other kinds (added through the native API) show their kind. */
export function typeOf(action: Action): string {
  if (action.kind !== 'http') return action.kind;
  return action.executionMode === 'post_call' || action.tags.includes(EXTERNAL_TAG) ? 'external' : 'webhook';
}

export interface MappingContext {
  /** The integration `integration.id` names, when it is one of the organization's. */
  integrationId: string | null;
  /** The action a replacement replaces. */
  current: Action | undefined;
}

export function actionInputFrom(request: TalkoverActionRequest, context: MappingContext): ActionInput {
  const { current } = context;
  const ownTags = (current?.tags ?? []).filter((tag) => !tag.startsWith('talkover-'));
  const external = request.type === 'external';
  const unlinked = request.integrationId !== undefined && context.integrationId === null;
  return {
    name: request.name,
    description: request.description,
    kind: kindOf(request.type),
    status: request.currentStatus ?? 'active',
    channels: current?.channels ?? [...VOICE_CHANNELS],
    tags: [
      ...ownTags,
      ...(external ? [EXTERNAL_TAG] : []),
      ...(unlinked ? [`${INTEGRATION_TAG}${request.integrationId}`] : []),
    ],
    variables: request.inputs.map(variableOf),
    integrationId: context.integrationId,
    secrets: request.secrets ?? {},
    executionMode:
      request.executionMode === 'post_call' || (external && request.executionMode === undefined)
        ? 'post_call'
        : 'sync',
    messages: { speakOnSend: request.speakOnSend ?? null, speakOnReceive: request.speakOnReceive ?? null },
    config: configOf(request, current),
  };
}

function variableOf(input: TalkoverActionRequest['inputs'][number]): Variable {
  return {
    name: input.name,
    type: input.type,
    required: input.required,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.value === undefined ? {} : { default: input.value }),
    ...(input.enum === undefined ? {} : { enum: input.enum as string[] }),
  };
}

function configOf(request: TalkoverActionRequest, current: Action | undefined): unknown {
  if (request.type === 'transfer') {
    const announce = current?.kind === 'transfer' ? current.config.announce : null;
    return { destination: request.transferTo, ...(announce ? { announce } : {}) };
  }
  if (request.type === 'hold') return { seconds: request.holdDuration };
  const kept = current?.kind === 'http' ? current.config : undefined;
  const body = Object.fromEntries(request.inputs.map((input) => [input.name, `{{${input.name}}}`]));
  const auth = authOf(request);
  return {
    method: 'POST',
    url: request.url,
    headers: Object.fromEntries(request.customHeaders.map((header) => [header.key, header.value])),
    ...(request.inputs.length > 0 ? { body } : {}),
    ...(auth === null ? {} : { auth }),
    ...(kept?.timeout_ms ? { timeout_ms: kept.timeout_ms } : {}),
    ...(kept?.retry ? { retry: kept.retry } : {}),
    ...(kept ? { response: kept.response } : {}),
  };
}

/**
 * null (none, or no scheme): the integration's default auth applies, none without one. custom: auth
 * none, so only the custom headers authenticate.
 */
function authOf(request: TalkoverActionRequest): AuthConfig | null {
  const { authorizationScheme: scheme, secretId, username } = request;
  const header = request.apiKeyHeader ?? DEFAULT_API_KEY_HEADER;
  if (request.authorizationUrl !== undefined) {
    return {
      type: 'token_url',
      url: request.authorizationUrl,
      ...(secretId === undefined ? {} : { secret_id: secretId }),
      ...(scheme === 'basic' && username !== undefined ? { username } : {}),
      ...(scheme === 'api_key' ? { header, prefix: '' } : {}),
    };
  }
  if (scheme === undefined || scheme === 'none') return null;
  if (scheme === 'bearer') return { type: 'bearer', secret_id: secretId ?? '' };
  if (scheme === 'basic') return { type: 'basic', username: username ?? '', secret_id: secretId ?? '' };
  if (scheme === 'api_key') return { type: 'api_key', in: 'header', name: header, secret_id: secretId ?? '' };
  return { type: 'none' };
}
