/**
 * An OpenCX action ⇄ a native action.
 *
 * | OpenCX | native |
 * |---|---|
 * | `name`, `description` | name, description (none given: the payload's description or summary) |
 * | `operation_id` | tool_name: unique in the organization (409 when taken), derived from the name when omitted |
 * | `api_endpoint`, `request_type`, `payload` | kind http: the request template and variables (payload.ts) |
 * | `enabled_on_channel.channels` | channels (default web) |
 * | `tags` | tags |
 * | `require_form_submission` | requires_confirmation: a call waits for the user's confirmation |
 * | `status` | "live" for an active action, "disabled" for an inactive one |
 * | `is_handoff_like` | true for a transfer action |
 * | `pinned`, `api_endpoint` and `payload` as given | the action's `opencx` annotation (a side document) |
 *
 * Actions made through other APIs list here too, with what they lack as null (`payload`) or derived
 * (`api_endpoint` and `request_type` from an http action's request template).
 */
import { inputOf, type ActionInput } from '../../../app/actions.ts';
import type { Action } from '../../../core/actions/model.ts';
import { AppError } from '../../../core/errors.ts';
import { TOOL_NAME_PATTERN } from '../../../core/tools/names.ts';
import type { Dialect } from '../dialect.ts';
import { opencxErrorAnswer } from './errors.ts';
import { requestTemplate } from './payload.ts';
import type { ActionView, CreateActionBody, UpdateActionBody } from './schemas.ts';

export const NAMESPACE = 'opencx';

/** What OpenCX gave that the native model has no field for. */
export interface Annotation {
  /** Absent for an action made through another API and only pinned here. */
  api_endpoint?: string | undefined;
  payload?: Record<string, unknown> | undefined;
  pinned: boolean;
}

/** An action as this dialect reads it: the native action and the annotation kept beside it. */
export interface StoredAction {
  action: Action;
  annotation: Annotation | undefined;
}

/** A request that creates an action, or one that changes the action it read first. */
export type ActionRequest =
  { body: CreateActionBody; current?: undefined } | { body: UpdateActionBody; current: StoredAction };

/** The native input, with the annotation to save beside it (undefined: leave it as it is). */
export interface DecodedAction {
  input: ActionInput;
  annotation: Annotation | undefined;
}

/** Native http settings OpenCX cannot express, kept when an OpenCX update rebuilds the request. */
const NATIVE_HTTP_SETTINGS = ['auth', 'timeout_ms', 'retry', 'response'] as const;

function operationId(value: string | undefined): string | undefined {
  if (value !== undefined && !TOOL_NAME_PATTERN.test(value))
    throw new AppError(
      'VALIDATION_FAILED',
      `operation_id "${value}" must be 1 to 63 letters, digits, _ or -, starting with a letter or _ (it is the tool name agents call it by)`,
      { path: '/operation_id' },
    );
  return value;
}

function descriptionOf(description: string | undefined, payload: Record<string, unknown>): string {
  const fallback = [payload.description, payload.summary].find((v) => typeof v === 'string' && v !== '');
  return description ?? (fallback as string | undefined) ?? '';
}

export function createInput(body: CreateActionBody): DecodedAction {
  const { variables, http } = requestTemplate(body);
  const toolName = operationId(body.operation_id);
  return {
    input: {
      name: body.name,
      description: descriptionOf(body.description, body.payload),
      kind: 'http',
      channels: body.enabled_on_channel?.channels ?? ['web'],
      tags: body.tags ?? [],
      variables,
      ...(toolName === undefined ? {} : { toolName }),
      requiresConfirmation: body.require_form_submission ?? false,
      config: http,
    },
    annotation: { api_endpoint: body.api_endpoint, payload: body.payload, pinned: body.pinned ?? false },
  };
}

/**
 * The native input for an OpenCX PATCH: the action as stored, with the fields given. The request is
 * rebuilt when api_endpoint, request_type or payload is given, from those given and the rest as stored;
 * an action made through another API has none stored, so it needs all three.
 */
export function updateInput(
  body: UpdateActionBody,
  { action: current, annotation: stored }: StoredAction,
): DecodedAction {
  const rebuild =
    body.api_endpoint !== undefined || body.request_type !== undefined || body.payload !== undefined;
  const currentHttp = current.kind === 'http' ? current.config : undefined;
  const apiEndpoint = body.api_endpoint ?? stored?.api_endpoint;
  const requestType = body.request_type ?? currentHttp?.method;
  const payload = body.payload ?? stored?.payload;
  const input: ActionInput = {
    ...inputOf(current),
    name: body.name ?? current.name,
    description: body.description ?? current.description,
    toolName: operationId(body.operation_id) ?? current.toolName,
    channels: body.enabled_on_channel?.channels ?? current.channels,
    tags: body.tags ?? current.tags,
    requiresConfirmation: body.require_form_submission ?? current.requiresConfirmation,
  };
  if (rebuild) {
    if (current.kind !== 'http')
      throw new AppError(
        'VALIDATION_FAILED',
        `This is a ${current.kind} action; only an http action has an api_endpoint, request_type and payload`,
      );
    if (apiEndpoint === undefined || requestType === undefined || payload === undefined)
      throw new AppError(
        'VALIDATION_FAILED',
        'This action was not created through this API: give api_endpoint, request_type and payload together',
      );
    const { variables, http } = requestTemplate({
      api_endpoint: apiEndpoint,
      request_type: requestType,
      payload,
    });
    const kept = Object.fromEntries(
      NATIVE_HTTP_SETTINGS.filter((key) => currentHttp?.[key] != null).map((key) => [
        key,
        currentHttp?.[key],
      ]),
    );
    input.variables = variables;
    input.config = { ...http, ...kept };
    if (body.description === undefined && current.description === '')
      input.description = descriptionOf(undefined, payload);
  }
  const pinned = body.pinned ?? stored?.pinned ?? false;
  const annotation: Annotation | undefined = rebuild
    ? { api_endpoint: apiEndpoint, payload, pinned }
    : stored !== undefined || body.pinned !== undefined
      ? { ...stored, pinned }
      : undefined;
  return { input, annotation };
}

/** The payload as the response's schema has it: parameter items and content entries hold only its fields. */
function payloadView(payload: Record<string, unknown>): ActionView['payload'] {
  const view: Record<string, unknown> = { ...payload };
  if (Array.isArray(payload.parameters))
    view.parameters = (payload.parameters as Record<string, unknown>[]).map((parameter) =>
      pick(parameter, ['name', 'in', 'description', 'required', 'schema']),
    );
  const body = payload.requestBody as Record<string, unknown> | undefined;
  if (body !== undefined && typeof body === 'object' && body !== null) {
    const content = (body.content ?? {}) as Record<string, Record<string, unknown>>;
    view.requestBody = {
      ...pick(body, ['description', 'required']),
      content: Object.fromEntries(
        Object.entries(content).map(([type, entry]) => [type, pick(entry, ['schema'])]),
      ),
    };
  }
  return view;
}

function pick(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => value[key] !== undefined).map((key) => [key, value[key]]));
}

export function actionView(action: Action, annotation: Annotation | undefined): ActionView {
  const http = action.kind === 'http' ? action.config : undefined;
  return {
    id: action.id,
    name: action.name,
    description: action.description === '' ? null : action.description,
    api_endpoint: annotation?.api_endpoint ?? http?.url ?? null,
    request_type: http?.method ?? null,
    operation_id: action.toolName,
    payload: annotation?.payload ? payloadView(annotation.payload) : null,
    status: action.status === 'active' ? 'live' : 'disabled',
    pinned: annotation?.pinned ?? false,
    tags: action.tags,
    enabled_on_channel: { channels: action.channels },
    is_handoff_like: action.kind === 'transfer',
    require_form_submission: action.requiresConfirmation,
    created_at: action.createdAt,
    updated_at: action.updatedAt,
  };
}

/** OpenCX's actions: its create and update bodies in, ActionView out, ErrorDto for errors. */
export const opencxActions = {
  decode: (request: ActionRequest): DecodedAction =>
    request.current === undefined ? createInput(request.body) : updateInput(request.body, request.current),
  encode: ({ action, annotation }: StoredAction): ActionView => actionView(action, annotation),
  errorAnswer: opencxErrorAnswer,
} satisfies Dialect<ActionRequest, DecodedAction, StoredAction, ActionView>;
