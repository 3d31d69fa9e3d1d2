/** Actions and executions as the native API shows them (snake_case; secrets already redacted). */
import type { Static } from 'typebox';
import type { ActionInput, ActionPatch } from '../../app/actions.ts';
import type { DryRun } from '../../app/executions/service.ts';
import type { Action, ActionDefinition, ActionVersion } from '../../core/actions/model.ts';
import type { JsonSchemaObject, Variable } from '../../core/actions/variables.ts';
import { AppError } from '../../core/errors.ts';
import type { ExecutionError, ExecutionRecord, RecordedRequest } from '../../core/executions.ts';
import type {
  ActionVersionView,
  DryRunView,
  ExecutionSummaryView,
  ExecutionView,
  envelopeProperties,
} from './action-schemas.ts';

type Envelope = {
  [K in keyof ReturnType<typeof envelopeProperties>]?: Static<ReturnType<typeof envelopeProperties>[K]>;
};

export function definitionView(d: ActionDefinition) {
  return {
    name: d.name,
    description: d.description,
    kind: d.kind,
    status: d.status,
    channels: d.channels,
    tags: d.tags,
    variables: d.variables,
    context_variables: d.contextVariables,
    integration_id: d.integrationId,
    secrets: d.secrets,
    tool_name: d.toolName,
    requires_confirmation: d.requiresConfirmation,
    execution_mode: d.executionMode,
    speak_on_send: d.messages.speakOnSend,
    speak_on_receive: d.messages.speakOnReceive,
    config: d.config,
    [d.kind]: d.kind === 'code' ? { ...d.config, integration_id: d.integrationId } : d.config,
  };
}

export function actionView(action: Action, inputSchema: JsonSchemaObject) {
  return {
    id: action.id,
    version: action.version,
    ...definitionView(action),
    input_schema: inputSchema,
    created_at: action.createdAt,
    updated_at: action.updatedAt,
  };
}

export const versionView = (v: ActionVersion): Static<typeof ActionVersionView> => ({
  action_id: v.actionId,
  version: v.version,
  created_at: v.createdAt,
  created_by: v.createdBy,
  definition: definitionView(v.definition),
});

/**
 * Maps the wire body to the use case's input; the kind's document travels under the kind's name. A code
 * document may name its integration (`"code": {"source", "integration_id"}`, docs/code-actions.md): it is the
 * action's integration, so it may not contradict the envelope's.
 */
export function actionInputFrom(
  body: Envelope & { kind?: string | undefined } & Record<string, unknown>,
  kind?: string,
): Partial<ActionInput> {
  const document = kind === undefined ? undefined : body[kind];
  let integrationId = body.integration_id;
  if (document !== null && typeof document === 'object' && 'integration_id' in document) {
    const named = (document as { integration_id?: string | null }).integration_id;
    if (integrationId !== undefined && named !== undefined && named !== integrationId)
      throw new AppError(
        'VALIDATION_FAILED',
        `integration_id and ${kind}.integration_id name different integrations; give one of them`,
        { path: `/${kind}/integration_id` },
      );
    integrationId ??= named;
  }
  const input: ActionPatch = {
    name: body.name,
    description: body.description,
    kind: body.kind,
    status: body.status,
    channels: body.channels,
    tags: body.tags,
    variables: body.variables as Variable[] | undefined,
    contextVariables: body.context_variables,
    integrationId,
    secrets: body.secrets,
    toolName: body.tool_name,
    requiresConfirmation: body.requires_confirmation,
    executionMode: body.execution_mode,
    messages:
      body.speak_on_send === undefined && body.speak_on_receive === undefined
        ? undefined
        : {
            ...(body.speak_on_send === undefined ? {} : { speakOnSend: body.speak_on_send }),
            ...(body.speak_on_receive === undefined ? {} : { speakOnReceive: body.speak_on_receive }),
          },
  };
  return input;
}

/** ErrorView's fields only, whatever else a kind put on the error. */
const errorView = (e: ExecutionError | null): ExecutionError | null =>
  e && {
    category: e.category,
    message: e.message,
    detail: e.detail,
    status: e.status,
    code: e.code,
    line: e.line,
    issues: e.issues?.map(({ field, message, expected }) => ({ field, message, expected })),
  };

/** RequestView's fields only. */
const requestView = (r: RecordedRequest | null): RecordedRequest | null =>
  r && { method: r.method, url: r.url, headers: r.headers, body: r.body };

/**
 * The views below hold exactly their schema's fields (undefined ones are left out of the JSON), so a route
 * may write them with JSON.stringify instead of the schema's serializer.
 */
export const executionSummaryView = (r: ExecutionRecord): Static<typeof ExecutionSummaryView> => ({
  id: r.id,
  action_id: r.actionId,
  action_version: r.actionVersion,
  action_name: r.actionName,
  kind: r.kind,
  status: r.status,
  output: r.output,
  output_truncated: r.outputTruncated,
  error: errorView(r.error),
  attempts: r.attempts,
  duration_ms: r.durationMs,
  started_at: r.startedAt,
  finished_at: r.finishedAt,
  inputs: r.inputs,
  idempotency_key: r.idempotencyKey,
  extra: r.extra,
  speak_on_send: r.speech?.speakOnSend ?? null,
  speak_on_receive: r.speech?.speakOnReceive ?? null,
  ...(r.speech && Object.keys(r.speech.omitted).length > 0 ? { speech_omitted: r.speech.omitted } : {}),
  ...(r.expiresAt === undefined ? {} : { expires_at: r.expiresAt }),
  ...(r.status === 'awaiting_confirmation' ? { request: requestView(r.request) } : {}),
});

export const executionView = (r: ExecutionRecord): Static<typeof ExecutionView> => ({
  ...executionSummaryView(r),
  context: r.context,
  request: r.request,
  response: r.response && {
    status: r.response.status,
    headers: r.response.headers,
    body: r.response.body,
    body_truncated: r.response.bodyTruncated,
  },
});

export const dryRunView = (d: DryRun): Static<typeof DryRunView> => ({
  dry_run: true,
  status: 'dry_run',
  action_id: d.actionId,
  action_version: d.actionVersion,
  inputs: d.inputs,
  request: requestView(d.request),
  error: errorView(d.error),
});
