/**
 * The workflow kind: the tool an `ai-trigger` workflow is offered to agents as (docs/workflows.md,
 * "ai-trigger"). Its config names the workflow; everything else (name, description, inputs) comes from the
 * workflow's active version, whose `trigger_configuration` is read here:
 *
 * | field | meaning |
 * |---|---|
 * | `input_schema` | a JSON Schema object; each property becomes a variable of the tool (as OpenAPI import maps fields) |
 * | `tool_name` | the tool's name (default: a slug of the workflow's name) |
 * | `wait_seconds` | how long a call waits for the run to finish before answering its run id (0 to 30, default 10) |
 *
 * Execution lives in app/kinds/workflow/; the tool is kept by app/workflows/trigger-kinds/ai.ts.
 */
import Type, { type Static } from 'typebox';
import { shapeOf } from '../../openapi/schemas.ts';
import { ImportProblem } from '../../openapi/values.ts';
import { toVariable } from '../../openapi/variables.ts';
import { TOOL_NAME_PATTERN } from '../../tools/names.ts';
import type { DefinitionIssue } from '../model.ts';
import { checkVariables } from '../check-variables.ts';
import { VARIABLE_NAME_PATTERN, type Variable } from '../variable-model.ts';

export const WorkflowConfigSchema = Type.Object(
  { workflow_id: Type.String({ minLength: 1, description: 'The ai-trigger workflow this tool starts' }) },
  {
    additionalProperties: false,
    description:
      'Made by saving a workflow with trigger_type ai-trigger, never through this API. A call starts a run of the workflow with the inputs as {{trigger.*}} and answers {"run_id", "status": "succeeded", "output", "steps"} when it finishes within wait_seconds, else {"run_id", "status": "running"}',
  },
);
export type WorkflowConfig = Static<typeof WorkflowConfigSchema>;

export const WAIT_SECONDS = Object.freeze({ default: 10, max: 30 });

/** What an ai-trigger's configuration makes of the tool. */
export interface AiTool {
  /** Absent: derived from the workflow's name. */
  toolName: string | undefined;
  waitSeconds: number;
  variables: Variable[];
}

export type AiToolResult = { ok: true; tool: AiTool } | { ok: false; issue: DefinitionIssue };

const BASE = '/trigger_configuration';
const FIELDS: ReadonlySet<string> = new Set(['input_schema', 'tool_name', 'wait_seconds']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A JSON Pointer segment (RFC 6901). */
const pointer = (name: string) => name.replaceAll('~', '~0').replaceAll('/', '~1');

const fail = (path: string, message: string): AiToolResult => ({
  ok: false,
  issue: { path: `${BASE}${path}`, message: `trigger_configuration${path.replaceAll('/', '.')}: ${message}` },
});

/**
 * Reads an ai-trigger's `trigger_configuration` (null: a tool without inputs). The first problem is
 * answered with its path (`/trigger_configuration/input_schema/properties/email`).
 */
export function readAiTrigger(configuration: unknown): AiToolResult {
  if (configuration === null || configuration === undefined)
    return { ok: true, tool: { toolName: undefined, waitSeconds: WAIT_SECONDS.default, variables: [] } };
  if (!isRecord(configuration))
    return fail('', 'must be an object with input_schema, tool_name and wait_seconds, each optional');
  const unknown = Object.keys(configuration).find((key) => !FIELDS.has(key));
  if (unknown !== undefined)
    return fail(
      `/${unknown}`,
      'is not a setting of an ai-trigger; use input_schema, tool_name or wait_seconds',
    );

  const { tool_name: toolName, wait_seconds: wait } = configuration;
  if (toolName !== undefined && (typeof toolName !== 'string' || !TOOL_NAME_PATTERN.test(toolName)))
    return fail('/tool_name', 'a tool name is 1 to 63 letters, digits, _ or -, starting with a letter or _');
  if (
    wait !== undefined &&
    (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0 || wait > WAIT_SECONDS.max)
  )
    return fail('/wait_seconds', `must be a number of seconds from 0 to ${WAIT_SECONDS.max}`);

  const variables =
    configuration.input_schema === undefined ? [] : safeVariablesOf(configuration.input_schema);
  if (!Array.isArray(variables)) return variables;
  return {
    ok: true,
    tool: { toolName, waitSeconds: wait ?? WAIT_SECONDS.default, variables },
  };
}

/** A schema too costly to read (allOf parts that multiply) is a problem of the schema, not a crash. */
function safeVariablesOf(schema: unknown): Variable[] | AiToolResult {
  try {
    return variablesOf(schema);
  } catch (error) {
    if (error instanceof ImportProblem) return fail('/input_schema', error.message);
    throw error;
  }
}

/** An object schema's properties as variables, mapped as OpenAPI import maps a request body's fields. */
function variablesOf(schema: unknown): Variable[] | AiToolResult {
  const path = '/input_schema';
  if (!isRecord(schema) || schema.type !== 'object')
    return fail(
      path,
      'must be a JSON Schema object: {"type": "object", "properties": {...}, "required": [...]}',
    );
  const properties = schema.properties ?? {};
  if (!isRecord(properties)) return fail(`${path}/properties`, 'must be an object of name → schema');
  const required = schema.required ?? [];
  if (
    !Array.isArray(required) ||
    required.some((name) => typeof name !== 'string' || !Object.hasOwn(properties, name))
  )
    return fail(`${path}/required`, 'must list names of properties');

  const variables: Variable[] = [];
  const names = Object.keys(properties);
  for (const name of names) {
    const at = `${path}/properties/${pointer(name)}`;
    if (!VARIABLE_NAME_PATTERN.test(name))
      return fail(at, 'a property name is a letter or _ then up to 63 letters, digits or _');
    if (!isRecord(properties[name])) return fail(at, 'must be a JSON Schema object');
    const shape = shapeOf(schema, properties[name]);
    const mapped = toVariable(schema, { name, shape, required: required.includes(name) }, `property ${name}`);
    if ('problem' in mapped) return fail(at, mapped.problem);
    variables.push(mapped.variable);
  }
  const [issue] = checkVariables(variables);
  if (issue) {
    const [, index, ...rest] = issue.path.split('/').slice(1);
    const name = names[Number(index)];
    if (name === undefined) return fail(`${path}/properties`, issue.message);
    return fail([`${path}/properties/${pointer(name)}`, ...rest].join('/'), issue.message);
  }
  return variables;
}
