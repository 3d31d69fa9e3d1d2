/**
 * A request body → variables and a body template. A JSON (or form-encoded) object's top-level
 * properties become variables and the template names each (`{"name": "{{name}}"}`); a nested object is
 * one object variable; any other body is one variable sent as the whole body. A body that can hold
 * nothing (an object with no properties and no others allowed) is not sent, and neither is an optional
 * or empty one on GET, HEAD or DELETE, whose servers read no body. Bodies in other media types
 * (multipart, XML, binary) cannot be sent, so their operations are skipped.
 */
import type { Variable } from '../actions/variable-model.ts';
import type { Serialization } from '../templates/index.ts';
import type { NameClaims } from './names.ts';
import { serializationFor } from './parameters.ts';
import { deref } from './refs.ts';
import { type Shape, shapeOf } from './schemas.ts';
import { toVariable } from './variables.ts';
import { ImportProblem, type Json, quote, record, setEntry, text } from './values.ts';

export interface BodyPlan {
  /** undefined: the request is sent without a body. */
  body: unknown;
  bodyType: 'json' | 'form';
  /** Set when the API wants a JSON type other than application/json. */
  contentType?: string;
  /** Form fields holding a list or object: how each is sent (the media type's `encoding`). */
  serialization?: Record<string, Serialization>;
  variables: Variable[];
  notes: string[];
}

const FORM = 'application/x-www-form-urlencoded';
/** Methods an http action sends without a body unless the document requires one (GET and HEAD never). */
const BODY_OPTIONAL: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE']);
const BODYLESS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

const baseType = (type: string) => (type.split(';')[0] ?? '').trim().toLowerCase();
const isJson = (type: string) =>
  /^(application\/json|text\/json|application\/[\w.-]+\+json|\*\/\*|application\/\*)$/.test(baseType(type));

export function planBody(
  root: Json,
  operation: Json,
  method: string,
  claims: NameClaims,
): BodyPlan | undefined {
  if (operation.requestBody === undefined) return undefined;
  const requestBody = deref(root, operation.requestBody).value;
  const content = record(requestBody.content);
  const types = Object.keys(content);
  if (types.length === 0) return undefined;
  const json = types.find((t) => baseType(t) === 'application/json') ?? types.find(isJson);
  const chosen = json ?? types.find((t) => baseType(t) === FORM);
  const shape = chosen === undefined ? undefined : shapeOf(root, record(content[chosen]).schema);
  const empty = shape !== undefined && isEmpty(shape);
  const without = (why: string): BodyPlan => ({
    body: undefined,
    bodyType: 'json',
    variables: [],
    notes: [`request body: ${why}; the request is sent without one`],
  });
  if (BODY_OPTIONAL.has(method) && (requestBody.required !== true || empty))
    return without(empty ? 'it holds no fields' : `it is optional on ${method}`);
  if (BODYLESS.has(method))
    throw new ImportProblem(`it requires a request body with ${method}, which an http action cannot send`);
  if (empty) return without('it holds no fields');
  if (chosen === undefined || shape === undefined)
    throw new ImportProblem(
      `its request body is only ${types.join(', ')}; an http action sends a JSON or form-encoded body`,
    );
  const bodyType = json === undefined ? 'form' : 'json';
  const contentType =
    bodyType === 'json' && !['application/json', '*/*', 'application/*'].includes(baseType(chosen))
      ? chosen
      : undefined;
  const plan: BodyPlan = { body: null, bodyType, variables: [], notes: [] };
  if (contentType) plan.contentType = contentType;
  if (shape.note) plan.notes.push(`request body: ${shape.note}`);
  const encoding = record(record(content[chosen]).encoding);
  if (shape.type === 'object' && Object.keys(shape.properties).length > 0)
    fields(root, shape, claims, plan, encoding);
  else whole(root, shape, requestBody, claims, plan);
  return plan;
}

const isEmpty = (shape: Shape): boolean =>
  shape.type === 'object' && shape.closed === true && Object.keys(shape.properties).length === 0;

/** Each top-level property is a variable; optional ones the agent leaves out are left out of the body. */
function fields(root: Json, shape: Shape, claims: NameClaims, plan: BodyPlan, encoding: Json): void {
  const template: Record<string, string> = {};
  for (const [field, child] of Object.entries(shape.properties)) {
    const fieldShape = shapeOf(root, child.schema, child.stack);
    if (fieldShape.readOnly) continue; // set by the server, never sent
    const label = `body field ${quote(field)}`;
    const required = shape.required.includes(field);
    const name = claims.claim(field, 'body', label, plan.notes);
    const mapped = toVariable(root, { name, shape: fieldShape, required }, label);
    if ('problem' in mapped) {
      if (required) throw new ImportProblem(mapped.problem);
      plan.notes.push(`${mapped.problem}; left out (it is optional)`);
      continue;
    }
    if (plan.bodyType === 'form') {
      // a form field is sent as a query parameter would be: its encoding's style, form by default
      const serialization = serializationFor(record(encoding[field]), 'form', mapped.variable);
      if (typeof serialization === 'string') {
        if (required) throw new ImportProblem(`${label} ${serialization}`);
        plan.notes.push(`${label} ${serialization}; left out (it is optional)`);
        continue;
      }
      if (serialization !== undefined) setEntry((plan.serialization ??= {}), field, serialization);
    }
    plan.variables.push(mapped.variable);
    plan.notes.push(...mapped.notes);
    setEntry(template, field, `{{${name}}}`);
  }
  plan.body = template;
}

/** The body as one variable: a list, a scalar, an untyped or oneOf body. */
function whole(root: Json, shape: Shape, requestBody: Json, claims: NameClaims, plan: BodyPlan): void {
  if (plan.bodyType === 'form') throw new ImportProblem('its form-encoded body is not an object of fields');
  const label = 'request body';
  const name = claims.claim('body', 'request', label, plan.notes);
  const bodyShape: Shape = shape.type === 'any' ? { ...shape, type: 'object' } : shape;
  if (shape.type === 'any') plan.notes.push('request body: no schema; taken as a free-form object');
  const mapped = toVariable(
    root,
    {
      name,
      shape: bodyShape,
      required: requestBody.required === true,
      description: text(requestBody.description),
    },
    label,
  );
  if ('problem' in mapped) throw new ImportProblem(mapped.problem);
  plan.variables.push(mapped.variable);
  plan.notes.push(...mapped.notes);
  plan.body = `{{${name}}}`;
}
