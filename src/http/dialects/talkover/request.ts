/**
 * The body of Talkover's Create/Update Action, read with Laravel's rules (rules.ts): every field
 * Talkover documents, with its type, bounds and cross-field rules (what each action type requires and
 * what it does not take), plus Switchboard's few additions for credentials, which Talkover keeps in its
 * own integrations: `secret_id`, `username`, `api_key_header` and `secrets`. Fields Talkover does not
 * document are ignored, as Laravel ignores them.
 */
import { VARIABLE_TYPES, type VariableType } from '../../../core/actions/variables.ts';
import { normalizeE164 } from '../../../core/phone.ts';
import { HOLD_MAX_SECONDS } from '../../../core/actions/kinds/hold.ts';
import { FieldChecker, message, type FieldErrors } from './rules.ts';

export const ACTION_TYPES = ['webhook', 'transfer', 'hold', 'external'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];
export const AUTHORIZATION_SCHEMES = ['none', 'bearer', 'basic', 'api_key', 'custom'] as const;
export type AuthorizationScheme = (typeof AUTHORIZATION_SCHEMES)[number];
export const EXECUTION_MODES = ['during_call', 'post_call'] as const;
export type TalkoverExecutionMode = (typeof EXECUTION_MODES)[number];
export const CURRENT_STATUSES = ['active', 'inactive'] as const;
export type CurrentStatus = (typeof CURRENT_STATUSES)[number];

export const TALKOVER_LIMITS = Object.freeze({
  /** The node id is kept in a tag (`talkover-node:<id>`), and a tag holds at most 64 characters. */
  nodeId: 50,
  name: 255,
  description: 4_000,
  inputs: 100,
  inputName: 64,
  inputDescription: 1_000,
  url: 2_048,
  customHeaders: 50,
  headerValue: 8_192,
  speech: 1_000,
  transferTo: 40,
  holdSeconds: HOLD_MAX_SECONDS,
  id: 64,
  username: 256,
  secrets: 50,
});

const L = TALKOVER_LIMITS;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** The schemes that send a credential of their own, and so need a secret when there is no token URL. */
const SECRET_SCHEMES: ReadonlySet<AuthorizationScheme> = new Set(['bearer', 'basic', 'api_key']);

export interface TalkoverInput {
  name: string;
  type: VariableType;
  required: boolean;
  description?: string | undefined;
  /** Its default; any JSON value. */
  value?: unknown;
  /** Options, for type enum. */
  enum?: unknown;
}

export interface TalkoverActionRequest {
  nodeId: string;
  name: string;
  description: string;
  type: ActionType;
  inputs: TalkoverInput[];
  integrationId: string | undefined;
  url: string | undefined;
  authorizationUrl: string | undefined;
  authorizationScheme: AuthorizationScheme | undefined;
  customHeaders: { key: string; value: string }[];
  speakOnSend: string | undefined;
  speakOnReceive: string | undefined;
  executionMode: TalkoverExecutionMode | undefined;
  holdDuration: number | undefined;
  /** In E.164. */
  transferTo: string | undefined;
  currentStatus: CurrentStatus | undefined;
  secretId: string | undefined;
  username: string | undefined;
  apiKeyHeader: string | undefined;
  secrets: Record<string, string> | undefined;
}

export type ParsedRequest = { ok: true; request: TalkoverActionRequest } | { ok: false; errors: FieldErrors };

const isCall = (type: ActionType | undefined) => type === 'webhook' || type === 'external';

export function parseActionRequest(body: unknown): ParsedRequest {
  const c = new FieldChecker(body);
  const type = c.oneOf('type', ACTION_TYPES, true);
  const request: TalkoverActionRequest = {
    nodeId: c.string('node_id', L.nodeId, true) ?? '',
    name: c.string('name', L.name, true) ?? '',
    description: c.string('description', L.description, true) ?? '',
    type: type ?? 'webhook',
    inputs: inputsOf(c),
    integrationId: integrationOf(c),
    url: c.url('url', L.url),
    authorizationUrl: c.url('authorization_url', L.url),
    authorizationScheme: c.oneOf('authorization_scheme', AUTHORIZATION_SCHEMES),
    customHeaders: customHeadersOf(c),
    speakOnSend: c.string('speak_on_send', L.speech),
    speakOnReceive: c.string('speak_on_receive', L.speech),
    executionMode: c.oneOf('execution_mode', EXECUTION_MODES),
    holdDuration: c.integer('hold_duration', 1, L.holdSeconds),
    transferTo: transferToOf(c),
    currentStatus: c.oneOf('current_status', CURRENT_STATUSES),
    secretId: c.string('secret_id', L.id),
    username: c.string('username', L.username),
    apiKeyHeader: headerName(c, 'api_key_header'),
    secrets: secretsOf(c),
  };
  if (type !== undefined) checkByType(c, request);
  return Object.keys(c.errors).length > 0 ? { ok: false, errors: c.errors } : { ok: true, request };
}

function inputsOf(c: FieldChecker): TalkoverInput[] {
  return c.array('inputs', L.inputs).flatMap((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      return c.fail(`inputs.${index}`, message.object(c.name(`inputs.${index}`))) ?? [];
    const field = c.nested(`inputs.${index}`, item);
    const input: TalkoverInput = {
      name: field.string('name', L.inputName, true) ?? '',
      type: field.oneOf('type', VARIABLE_TYPES, true) ?? 'string',
      required: field.boolean('required') ?? false,
      description: field.string('description', L.inputDescription),
    };
    const value = field.raw('value');
    if (value !== undefined && value !== null) input.value = value;
    if (field.present('enum')) input.enum = field.array('enum', 100);
    return [input];
  });
}

function integrationOf(c: FieldChecker): string | undefined {
  const integration = c.object('integration');
  if (integration === undefined) return undefined;
  return c.nested('integration', integration).string('id', 255, true);
}

function customHeadersOf(c: FieldChecker): { key: string; value: string }[] {
  const seen = new Set<string>();
  return c.array('custom_headers', L.customHeaders).flatMap((item, index) => {
    const header = c.nested(`custom_headers.${index}`, item);
    const key = headerName(header, 'key', true);
    const value = header.string('value', L.headerValue, true);
    if (key === undefined || value === undefined) return [];
    if (seen.has(key.toLowerCase())) return header.fail('key', message.distinct(header.name('key'))) ?? [];
    seen.add(key.toLowerCase());
    return [{ key, value }];
  });
}

function headerName(c: FieldChecker, field: string, required = false): string | undefined {
  const name = c.string(field, 128, required);
  if (name !== undefined && !HEADER_NAME.test(name)) return c.fail(field, message.format(c.name(field)));
  return name;
}

function transferToOf(c: FieldChecker): string | undefined {
  const number = c.string('transfer_to', L.transferTo);
  if (number === undefined) return undefined;
  const result = normalizeE164(number);
  if (!result.ok)
    return c.fail(
      'transfer_to',
      `The transfer to must be a phone number in E.164 format, such as +14155550100: ${result.reason}.`,
    );
  return result.e164;
}

function secretsOf(c: FieldChecker): Record<string, string> | undefined {
  const secrets = c.object('secrets');
  if (secrets === undefined) return undefined;
  const names = Object.keys(secrets);
  if (names.length > L.secrets) return c.fail('secrets', message.maxItems('secrets', L.secrets));
  const nested = c.nested('secrets', secrets);
  return Object.fromEntries(names.map((name) => [name, nested.string(name, L.id, true) ?? '']));
}

/** What each type requires, and what it does not take. */
function checkByType(c: FieldChecker, request: TalkoverActionRequest): void {
  const { type } = request;
  if (isCall(type)) {
    if (!c.present('url') && !c.failed('url')) c.fail('url', message.requiredWhen('url', 'type', type));
    checkAuthorization(c, request);
  } else {
    for (const field of [
      'url',
      'authorization_url',
      'custom_headers',
      'secret_id',
      'username',
      'api_key_header',
      'secrets',
    ])
      c.prohibit(field, 'type', type);
    if (request.authorizationScheme !== undefined && request.authorizationScheme !== 'none')
      c.fail('authorization_scheme', message.prohibitedWhen('authorization_scheme', 'type', type));
  }
  if (request.executionMode === 'post_call' && type !== 'external')
    c.fail('execution_mode', 'The execution mode post_call is only valid for external actions.');
  requireFor(c, 'hold_duration', type, 'hold');
  requireFor(c, 'transfer_to', type, 'transfer');
}

/** `field` is required when the type is `owner`, and prohibited for the other types. */
function requireFor(c: FieldChecker, field: string, type: ActionType, owner: ActionType): void {
  if (type !== owner) c.prohibit(field, 'type', type);
  else if (!c.present(field) && !c.failed(field)) c.fail(field, message.requiredWhen(field, 'type', owner));
}

/** The credentials each scheme needs (see mapping.ts for what each becomes). */
function checkAuthorization(c: FieldChecker, request: TalkoverActionRequest): void {
  const scheme = request.authorizationScheme ?? 'none';
  const tokenUrl = request.authorizationUrl !== undefined;
  const need = (field: string) => {
    if (!c.present(field) && !c.failed(field))
      c.fail(field, message.requiredWhen(field, 'authorization_scheme', scheme));
  };
  if (scheme === 'basic') {
    need('username');
    need('secret_id');
  } else {
    c.prohibit('username', 'authorization_scheme', scheme);
    if (SECRET_SCHEMES.has(scheme) && !tokenUrl) need('secret_id');
    else if (!tokenUrl) c.prohibit('secret_id', 'authorization_scheme', scheme);
  }
  if (scheme !== 'api_key' && c.present('api_key_header'))
    c.fail('api_key_header', message.prohibitedUnless('api_key_header', 'authorization_scheme', 'api_key'));
}
