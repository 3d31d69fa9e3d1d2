/**
 * Parameters → variables: path parameters become `{{name}}` path segments, query and header parameters
 * the http config's query and headers. Path-item parameters apply unless the operation redefines one of
 * the same name and location. A list or object parameter is sent as its `style` and `explode` say (the
 * config's serialization); one described by `content` is sent as that media type's text, which is JSON
 * text. What cannot be sent (cookies, headers Switchboard sets itself, a style no http action knows) is
 * left out when optional, and skips the operation when required.
 */
import { type HttpSerialization, RESERVED_HEADERS } from '../actions/kinds/http.ts';
import type { Variable } from '../actions/variable-model.ts';
import {
  PARAMETER_STYLES,
  type ParameterPlace,
  type ParameterStyle,
  type Serialization,
  serializationProblem,
} from '../templates/index.ts';
import type { NameClaims } from './names.ts';
import { deref } from './refs.ts';
import { shapeOf } from './schemas.ts';
import type { AuthPlan } from './security.ts';
import { toVariable } from './variables.ts';
import {
  ImportProblem,
  type Json,
  entries,
  isRecord,
  list,
  quote,
  record,
  setEntry,
  text,
} from './values.ts';

export interface ParameterPlan {
  /** The path with `{{variable}}` for each parameter. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  serialization: HttpSerialization;
  variables: Variable[];
  notes: string[];
}

const DEFAULT_STYLE: Readonly<Record<ParameterPlace, ParameterStyle>> = {
  query: 'form',
  header: 'simple',
  path: 'simple',
  form: 'form',
};

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** OpenAPI ignores these header parameters; the others Switchboard sets itself. */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const PLACEHOLDER = /\{([^{}]+)\}/g;
/** Characters a path may carry as written; others in the document's path text are percent-encoded. */
const UNSAFE_PATH_TEXT = /[^A-Za-z0-9\-._~!$&'()*+,;=:@%/]/g;

export function planParameters(
  root: Json,
  path: string,
  pathItem: Json,
  operation: Json,
  claims: NameClaims,
  auth: AuthPlan,
): ParameterPlan {
  const plan: ParameterPlan = { path, query: {}, headers: {}, serialization: {}, variables: [], notes: [] };
  const parameters = merged(root, pathItem, operation);
  const inPath = [...new Set([...path.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
  const names = new Map<string, string>();
  for (const name of inPath) {
    const declared = parameters.get(`path:${name}`);
    if (!declared) plan.notes.push(`path parameter ${quote(name)} is not described; taken as required text`);
    const variable = add(root, declared ?? { name, in: 'path', schema: { type: 'string' } }, claims, plan);
    names.set(name, variable ?? name);
  }
  for (const place of ['query', 'header', 'cookie'] as const)
    for (const parameter of parameters.values())
      if (parameter.in === place && !sentByAuth(parameter, auth)) {
        const name = add(root, parameter, claims, plan);
        if (name !== undefined)
          setEntry(place === 'query' ? plan.query : plan.headers, String(parameter.name), `{{${name}}}`);
      }
  for (const parameter of parameters.values())
    if (parameter.in === 'path' && !inPath.includes(String(parameter.name)))
      plan.notes.push(
        `path parameter ${quote(String(parameter.name))} does not appear in the path; left out`,
      );
  plan.path = path
    .split(PLACEHOLDER)
    .map((part, i) =>
      i % 2 === 1 ? `{{${names.get(part) ?? part}}}` : part.replace(UNSAFE_PATH_TEXT, encodeURIComponent),
    )
    .join('');
  return plan;
}

function merged(root: Json, pathItem: Json, operation: Json): Map<string, Json> {
  const byKey = new Map<string, Json>();
  for (const raw of [...list(pathItem.parameters), ...list(operation.parameters)]) {
    const parameter = deref(root, raw).value;
    if (typeof parameter.name !== 'string' || typeof parameter.in !== 'string') continue;
    byKey.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  return byKey;
}

function sentByAuth(parameter: Json, auth: AuthPlan): boolean {
  const name = String(parameter.name);
  return auth.carries.some((c) =>
    c.in !== parameter.in
      ? false
      : c.in === 'header'
        ? c.name.toLowerCase() === name.toLowerCase()
        : c.name === name,
  );
}

/** Adds the parameter's variable; undefined when it is left out (and noted). */
function add(root: Json, parameter: Json, claims: NameClaims, plan: ParameterPlan): string | undefined {
  const raw = String(parameter.name);
  const where = String(parameter.in);
  const label = `${where} parameter ${quote(raw)}`;
  const required = where === 'path' || parameter.required === true;
  const refuse = (why: string): undefined => {
    if (required) throw new ImportProblem(`${label} ${why}`);
    plan.notes.push(`${label} ${why}; left out (it is optional)`);
    return undefined;
  };
  if (where === 'cookie') return refuse('is a cookie, and http actions send no cookies');
  if (where === 'header') {
    if (IGNORED_HEADERS.has(raw.toLowerCase())) {
      plan.notes.push(`${label} is left out: Switchboard sets ${raw} itself`);
      return undefined;
    }
    if (RESERVED_HEADERS.has(raw.toLowerCase()) || !HEADER_NAME.test(raw))
      return refuse('cannot be set by an http action');
  }
  if (where === 'query' && (raw === '' || raw.length > 128))
    return refuse('has a name of more than 128 characters');
  const name = claims.claim(raw, where, label, plan.notes);
  const mapped = toVariable(
    root,
    {
      name,
      shape: shapeOf(root, parameter.schema ?? firstContentSchema(parameter)),
      required,
      description: text(parameter.description),
      example: parameter.example ?? firstExample(parameter.examples),
    },
    label,
  );
  if ('problem' in mapped) return refuse(mapped.problem.slice(label.length + 1));
  const serialization = serializationFor(parameter, where as ParameterPlace, mapped.variable);
  if (typeof serialization === 'string') return refuse(serialization);
  plan.variables.push(mapped.variable);
  plan.notes.push(...mapped.notes);
  if (parameter.deprecated === true) plan.notes.push(`${label} is deprecated`);
  if (serialization !== undefined) {
    const place = where === 'header' ? 'headers' : (where as 'query' | 'path');
    const key = where === 'path' ? name : raw;
    setEntry((plan.serialization[place] ??= {}), key, serialization);
  }
  return name;
}

/**
 * The parameter's style and explode, or undefined where today's rendering already sends the same (a
 * scalar in form or simple style, or a parameter described by `content`); a string says why it cannot
 * be sent.
 */
export function serializationFor(
  parameter: Json,
  place: ParameterPlace,
  variable: Variable,
): Serialization | string | undefined {
  if (parameter.schema === undefined && parameter.content !== undefined) return undefined;
  const style = text(parameter.style) ?? DEFAULT_STYLE[place];
  if (!(PARAMETER_STYLES as readonly string[]).includes(style))
    return `has the style ${quote(style)}, which an http action cannot send`;
  const serialization: Serialization = {
    style: style as ParameterStyle,
    ...(typeof parameter.explode === 'boolean' ? { explode: parameter.explode } : {}),
  };
  const problem = serializationProblem(place, serialization);
  if (problem !== undefined) return `cannot be sent: ${problem}`;
  if (!serializationWanted(serialization, variable)) return undefined;
  if (style === 'matrix' && String(parameter.name) !== variable.name)
    serialization.name = String(parameter.name);
  return serialization;
}

/**
 * Lists, objects, and scalars in label or matrix style need a serialisation; any other scalar is sent
 * as `name=value`, which is also what a document that gives a scalar deepObject means (Stripe encodes
 * `trial_end: "now" | integer` so).
 */
function serializationWanted(s: Serialization, variable: Variable): boolean {
  return (
    variable.type === 'array' || variable.type === 'object' || s.style === 'label' || s.style === 'matrix'
  );
}

/** A parameter described by `content` (3.x) rather than `schema`. */
function firstContentSchema(parameter: Json): unknown {
  const [first] = entries(parameter.content);
  return first ? record(first[1]).schema : undefined;
}

function firstExample(examples: unknown): unknown {
  const [first] = entries(examples);
  return first && isRecord(first[1]) ? first[1].value : undefined;
}
