/**
 * One operation → the http action it becomes (name, description, tool name, variables, request
 * template, auth), or the reason it cannot be imported. The action is the body POST /v1/actions takes,
 * and it has already passed the http kind's own save-time checks, so a preview shows what would be saved.
 */
import {
  HTTP_METHODS,
  type HttpConfigInput,
  type HttpMethod,
  type HttpSerialization,
  checkHttpConfig,
  normalizeHttpConfig,
} from '../actions/kinds/http.ts';
import { checkVariables } from '../actions/check-variables.ts';
import { VARIABLE_LIMITS, type Variable } from '../actions/variable-model.ts';
import type { Serialization } from '../templates/index.ts';
import { toolNameFor } from '../tools/names.ts';
import { planBody } from './body.ts';
import { NameClaims } from './names.ts';
import { planParameters } from './parameters.ts';
import { type SchemeCredential, authFor } from './security.ts';
import { type ServerContext, serverFor } from './servers.ts';
import { ImportProblem, type Json, cleanText, stringList, text } from './values.ts';

/** The create-action body (POST /v1/actions) an operation becomes. */
export interface PlannedAction {
  name: string;
  description: string;
  kind: 'http';
  tool_name: string;
  tags: string[];
  variables: Variable[];
  secrets: Record<string, string>;
  http: HttpConfigInput;
}

export interface PlannedOperation {
  key: string;
  operationId: string | null;
  method: string;
  path: string;
  action: PlannedAction;
  /** What was approximated, renamed or left out. */
  notes: string[];
}

export interface SkippedOperation {
  key: string;
  operationId: string | null;
  method: string | null;
  path: string | null;
  reason: string;
}

export interface OperationContext {
  root: Json;
  credentials: Readonly<Record<string, SchemeCredential>>;
  server: ServerContext;
  /** Tool names taken so far: the organization's, then those given to earlier operations. */
  toolNames: Set<string>;
}

export interface OperationRef {
  key: string;
  path: string;
  method: string;
  pathItem: Json;
  operation: Json;
}

const METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);
/** Variable fields that can be dropped when the save-time check refuses them. */
const DROPPABLE: ReadonlySet<string> = new Set([
  'description',
  'example',
  'default',
  'max_length',
  'minimum',
  'maximum',
]);

export function planOperation(ctx: OperationContext, ref: OperationRef): PlannedOperation | SkippedOperation {
  const method = ref.method.toUpperCase();
  const operationId = text(ref.operation.operationId) ?? null;
  const where = { key: ref.key, operationId, method, path: ref.path };
  if (!METHODS.has(method))
    return { ...where, reason: `http actions send ${HTTP_METHODS.join(', ')}, not ${method}` };
  const problem = text(ref.operation['x-import-problem']);
  if (problem !== undefined) return { ...where, reason: problem };
  try {
    return { ...where, ...build(ctx, ref, method as HttpMethod, operationId) };
  } catch (error) {
    if (error instanceof ImportProblem) return { ...where, reason: error.message };
    throw error;
  }
}

function build(ctx: OperationContext, ref: OperationRef, method: HttpMethod, operationId: string | null) {
  const { root } = ctx;
  const { operation, pathItem } = ref;
  const server = serverFor(root, pathItem, operation, ctx.server);
  const auth = authFor(root, operation.security ?? root.security, ctx.credentials, server);
  if ('problem' in auth) throw new ImportProblem(auth.problem);
  const claims = new NameClaims();
  const parameters = planParameters(root, ref.path, pathItem, operation, claims, auth);
  const body = planBody(root, operation, method, claims);
  const notes = [...auth.notes, ...parameters.notes, ...(body?.notes ?? [])];
  if (operation.deprecated === true) notes.push('the operation is deprecated');
  const variables = fitVariables([...parameters.variables, ...(body?.variables ?? [])], notes);
  const headers = { ...parameters.headers, ...auth.headers };
  if (body?.contentType) headers['Content-Type'] = body.contentType;
  const query = { ...parameters.query, ...auth.query };
  const http: HttpConfigInput = {
    method,
    url: `${server}${parameters.path}`,
    ...(Object.keys(query).length > 0 ? { query } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(body?.body === undefined ? {} : { body: body.body, body_type: body.bodyType }),
    ...serializationOf(parameters.serialization, body?.body === undefined ? undefined : body.serialization),
    ...(auth.auth ? { auth: auth.auth } : {}),
  };
  if (http.url.length > 2048) throw new ImportProblem('its URL is longer than 2048 characters');
  const issues = checkHttpConfig(normalizeHttpConfig(http), {
    variables,
    contextVariables: [],
    secretNames: new Set(Object.keys(auth.secrets)),
    baseUrl: null,
  });
  if (issues.length > 0) throw new ImportProblem(issues.map((i) => i.message).join('; '));

  const summary = text(operation.summary);
  const name = oneLine(summary ?? (operationId ? humanize(operationId) : `${method} ${ref.path}`), 200);
  const toolName = toolNameFor(operationId ?? name, ctx.toolNames);
  ctx.toolNames.add(toolName);
  const action: PlannedAction = {
    name,
    description: cleanText(text(operation.description) ?? summary ?? name, 4000),
    kind: 'http',
    tool_name: toolName,
    tags: [
      'openapi',
      ...stringList(operation.tags)
        .map((tag) => oneLine(tag, 64))
        .filter(Boolean),
    ].slice(0, 50),
    variables,
    secrets: auth.secrets,
    http,
  };
  return { action, notes };
}

/**
 * Within the action's limits, and passing the save-time variable check: a field the check refuses (an
 * odd default) is dropped and noted. An operation with more inputs than an action takes is skipped:
 * leaving some out would send requests its template can no longer fill.
 */
function fitVariables(variables: Variable[], notes: string[]): Variable[] {
  const fitted = variables;
  const max = VARIABLE_LIMITS.maxVariables;
  if (fitted.length > max)
    throw new ImportProblem(
      `it has ${fitted.length} parameters and body fields (${fitted.filter((v) => v.required).length} required); an action takes at most ${max} inputs`,
    );
  for (let round = 0; round < 7 * fitted.length + 1; round++) {
    const [issue] = checkVariables(fitted);
    if (issue === undefined) return fitted;
    const [, index, field] = /^\/variables\/(\d+)\/(\w+)$/.exec(issue.path) ?? [];
    const variable = fitted[Number(index)];
    if (!variable || field === undefined || !DROPPABLE.has(field))
      throw new ImportProblem(`its inputs cannot be saved: ${issue.message}`);
    delete (variable as unknown as Json)[field];
    notes.push(`variable ${variable.name}: ${field} left out (${issue.message})`);
  }
  throw new ImportProblem('its inputs cannot be saved');
}

/** The config's serialization: the parameters', and the form body's fields'; absent when empty. */
function serializationOf(
  parameters: HttpSerialization,
  body: Record<string, Serialization> | undefined,
): { serialization?: HttpSerialization } {
  const serialization = body === undefined ? parameters : { ...parameters, body };
  return Object.keys(serialization).length > 0 ? { serialization } : {};
}

function humanize(operationId: string): string {
  const words = operationId
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.\s]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function oneLine(value: string, max: number): string {
  return cleanText(value.replace(/\s+/g, ' '), max);
}
