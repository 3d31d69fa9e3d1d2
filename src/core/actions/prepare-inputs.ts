import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { coerceValue, expectedFor, isPlainObject } from './coerce.ts';
import { isIsoDate } from './dates.ts';
import { normalizeEmail } from './email.ts';
import { compileInputSchema } from './input-schema.ts';
import { displayKey, utf8ByteLength } from './text.ts';
import { type Variable, VARIABLE_LIMITS } from './variable-model.ts';

/** One refused input: which, why, and what would have been accepted. */
export interface InputIssue {
  field: string;
  message: string;
  expected: string;
}

export type PreparedInputs =
  { ok: true; inputs: Record<string, unknown> } | { ok: false; issues: InputIssue[]; message: string };

export interface PrepareContext {
  /** The moment "today" is relative to. */
  now: Date;
  /** IANA time zone of the conversation, for today / tomorrow / yesterday. */
  timeZone: string;
  /** Operator's cap on the serialized arguments, 32 KB by default (docs/security.md, "Limits"). */
  maxArgumentBytes?: number;
}

const MAX_LISTED = 10;

/**
 * Turns the arguments of a tool call into an action's inputs: refuses undeclared arguments (B09) and
 * oversized ones (2.1), coerces each declared one the way a voice transcript needs, validates the result
 * against the compiled input schema (G-05), then fills in defaults. On failure, `message` is one sentence
 * an agent can say or act on, and `issues` has the details per field.
 */
export function prepareInputs(
  variables: readonly Variable[],
  raw: unknown,
  context: PrepareContext,
): PreparedInputs {
  const args = raw ?? {};
  if (!isPlainObject(args)) {
    return refuse(
      [{ field: '', message: 'the arguments must be a JSON object', expected: 'a JSON object' }],
      [],
    );
  }
  const sizeIssue = checkSize(args, context.maxArgumentBytes ?? VARIABLE_LIMITS.maxArgumentBytes);
  if (sizeIssue) return refuse([sizeIssue], []);

  const declared = new Map(variables.map((variable) => [variable.name, variable]));
  const unknown = Object.keys(args).filter((key) => !declared.has(key));
  const issues: InputIssue[] = [];
  const entries: [string, unknown][] = [];

  for (const variable of variables) {
    const value = Object.hasOwn(args, variable.name) ? args[variable.name] : undefined;
    if (isAbsent(value)) {
      if (variable.required === true) {
        issues.push({
          field: variable.name,
          message: `${variable.name} is required`,
          expected: expectedFor(variable),
        });
      } else if (variable.default !== undefined) {
        entries.push([variable.name, copyJson(variable.default)]);
      }
      continue;
    }
    const result = coerceValue(variable, value, context);
    if (result.ok) entries.push([variable.name, result.value]);
    else {
      const message = `${variable.name} ${result.detail ?? `must be ${result.expected}`}`;
      issues.push({ field: variable.name, message, expected: result.expected });
    }
  }
  if (issues.length > 0 || unknown.length > 0) return refuse(issues, unknown, variables);

  // Defaults were checked at save time, but the schema is the contract: nothing reaches a request
  // that it does not allow.
  const inputs = Object.fromEntries(entries);
  const validate = validatorFor(variables);
  if (!validate(inputs))
    return refuse(
      (validate.errors ?? []).map((error) => schemaIssue(error, declared)),
      [],
    );
  return { ok: true, inputs };
}

/** Missing, null, or only whitespace: the model did not collect it. */
function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function checkSize(args: Record<string, unknown>, maxBytes: number): InputIssue | undefined {
  let text: string;
  try {
    text = JSON.stringify(args);
  } catch {
    return { field: '', message: 'the arguments are not plain JSON', expected: 'a JSON object' };
  }
  if (utf8ByteLength(text) <= maxBytes) return undefined;
  return {
    field: '',
    message: `the arguments are larger than ${maxBytes} bytes; send shorter values`,
    expected: `at most ${maxBytes} bytes of JSON`,
  };
}

function refuse(
  issues: InputIssue[],
  unknown: string[],
  variables: readonly Variable[] = [],
): PreparedInputs {
  const all = [...issues];
  const clauses = issues.slice(0, MAX_LISTED).map((issue) => issue.message);
  if (issues.length > MAX_LISTED) clauses.push(`and ${issues.length - MAX_LISTED} more problems`);
  if (unknown.length > 0) {
    const names = variables.map((variable) => variable.name);
    const takes = names.length > 0 ? `this action takes ${names.join(', ')}` : 'this action takes no inputs';
    const shown = unknown.slice(0, MAX_LISTED).map(displayKey);
    const more = unknown.length > MAX_LISTED ? ` and ${unknown.length - MAX_LISTED} more` : '';
    clauses.push(`unknown input${unknown.length > 1 ? 's' : ''} ${shown.join(', ')}${more} (${takes})`);
    const expected = names.length > 0 ? `one of ${names.join(', ')}` : 'no inputs';
    for (const key of unknown) {
      all.push({ field: key, message: `unknown input ${displayKey(key)} (${takes})`, expected });
    }
  }
  return { ok: false, issues: all, message: clauses.join('; ') };
}

function schemaIssue(error: ErrorObject, declared: ReadonlyMap<string, Variable>): InputIssue {
  const field = error.instancePath.split('/')[1] ?? '';
  const variable = declared.get(field);
  return {
    field,
    message: `${field || 'the arguments'} ${error.message ?? 'is not valid'}`,
    expected: variable ? expectedFor(variable) : 'a value the input schema allows',
  };
}

function copyJson(value: unknown): unknown {
  return value !== null && typeof value === 'object' ? (JSON.parse(JSON.stringify(value)) as unknown) : value;
}

// One Ajv for every action. Its own cache is emptied after each compile (removeSchema), so the only
// reference to a compiled validator is this WeakMap, which lets it go with the variables array.
const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false });
ajv.addFormat('date', isIsoDate);
ajv.addFormat('email', (text: string) => normalizeEmail(text, VARIABLE_LIMITS.maxEmailLength).ok);
const validators = new WeakMap<readonly Variable[], ValidateFunction>();

function validatorFor(variables: readonly Variable[]): ValidateFunction {
  let validate = validators.get(variables);
  if (!validate) {
    const schema = compileInputSchema(variables);
    validate = ajv.compile(schema);
    ajv.removeSchema(schema);
    validators.set(variables, validate);
  }
  return validate;
}
