/**
 * A JSON Schema read one level at a time: `$ref` chains followed, `allOf` merged, `oneOf`/`anyOf`
 * reduced to one best-effort type, 3.1 type lists and `const` read. Children (properties, items) stay
 * unread with the references expanded on the way to them, so a schema that refers back to an ancestor
 * is seen as recursive (and becomes a free-form object) instead of being expanded forever.
 */
import { deref } from './refs.ts';
import { ImportProblem, type Json, entries, isRecord, list, setEntry, stringList, text } from './values.ts';

export type ShapeType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'any';

export interface Child {
  schema: unknown;
  /** References being expanded on the way to this child. */
  stack: readonly string[];
}

export interface Shape {
  type: ShapeType;
  format?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  example?: unknown;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  readOnly?: boolean;
  /** `additionalProperties: false`: an object with no properties is then always empty. */
  closed?: boolean;
  properties: Record<string, Child>;
  required: string[];
  items?: Child;
  /** Why the shape is only an approximation (recursion, oneOf, a type list). */
  note?: string;
}

const MAX_DEPTH = 32;
const TYPES: ReadonlySet<string> = new Set(['string', 'integer', 'number', 'boolean', 'object', 'array']);

/**
 * Schemas read per document. allOf / oneOf can share members without a cycle (A: allOf [B, B], B: allOf
 * [C, C], ...), which doubles the work at each level; a document needing more than this is refused.
 */
const MAX_READS = 500_000;
const reads = new WeakMap<object, number>();

export function shapeOf(root: unknown, schema: unknown, stack: readonly string[] = [], depth = 0): Shape {
  if (depth > MAX_DEPTH) return freeObject('nested too deeply to read; taken as a free-form object');
  if (isRecord(root)) {
    const count = (reads.get(root) ?? 0) + 1;
    if (count > MAX_READS)
      throw new ImportProblem('its schemas combine too many allOf / oneOf / anyOf parts to read');
    reads.set(root, count);
  }
  if (schema === undefined || schema === true || !isRecord(schema))
    return { type: 'any', properties: {}, required: [] };
  let cycle: string | undefined;
  const { value, refs } = deref(root, schema, stack, (ref) => {
    cycle = ref;
    return {};
  });
  if (cycle !== undefined)
    return { ...freeObject(`${cycle} refers to itself; taken as a free-form object`), ...own(value) };
  const expanded = [...stack, ...refs];
  const here = ownShape(value, expanded);
  const parts = list(value.allOf).map((member) => shapeOf(root, member, expanded, depth + 1));
  const alternatives = [...list(value.oneOf), ...list(value.anyOf)];
  if (alternatives.length > 0) {
    const variants = alternatives.map((variant) => shapeOf(root, variant, expanded, depth + 1));
    parts.push(combineAlternatives(variants, value.oneOf === undefined ? 'anyOf' : 'oneOf'));
  }
  return parts.length === 0 ? here : merge([here, ...parts]);
}

function freeObject(note: string): Shape {
  return { type: 'object', properties: {}, required: [], note };
}

/** Annotations a schema carries itself. */
function own(value: Json): Partial<Shape> {
  const out: Partial<Shape> = {};
  const description = text(value.description) ?? text(value.title);
  if (description !== undefined) out.description = description;
  if (typeof value.format === 'string') out.format = value.format;
  if (Array.isArray(value.enum)) out.enum = value.enum;
  else if (value.const !== undefined) out.enum = [value.const];
  if (value.default !== undefined) out.default = value.default;
  const example = value.example ?? list(value.examples)[0];
  if (example !== undefined) out.example = example;
  if (typeof value.minimum === 'number') out.minimum = value.minimum;
  if (typeof value.maximum === 'number') out.maximum = value.maximum;
  if (typeof value.maxLength === 'number') out.maxLength = value.maxLength;
  if (value.readOnly === true) out.readOnly = true;
  if (value.additionalProperties === false) out.closed = true;
  return out;
}

function ownShape(value: Json, stack: readonly string[]): Shape {
  const shape: Shape = { type: 'any', properties: {}, required: stringList(value.required), ...own(value) };
  for (const [name, schema] of entries(value.properties)) setEntry(shape.properties, name, { schema, stack });
  if (value.items !== undefined) shape.items = { schema: value.items, stack };
  const declared = Array.isArray(value.type)
    ? stringList(value.type).filter((t) => t !== 'null')
    : [value.type];
  const types = declared.filter((t): t is ShapeType => typeof t === 'string' && TYPES.has(t));
  if (types.length === 1) shape.type = types[0] as ShapeType;
  else if (types.length > 1) {
    shape.type = types.every((t) => t === 'integer' || t === 'number') ? 'number' : 'string';
    shape.note = `accepts ${types.join(' or ')}; taken as ${shape.type}`;
  } else if (Object.keys(shape.properties).length > 0 || isRecord(value.additionalProperties))
    shape.type = 'object';
  else if (shape.items) shape.type = 'array';
  else if (shape.enum?.length) shape.type = enumType(shape.enum);
  return shape;
}

function enumType(values: unknown[]): ShapeType {
  const kinds = new Set(
    values.filter((v) => v !== null).map((v) => (Number.isInteger(v) ? 'integer' : typeof v)),
  );
  if (kinds.size !== 1) return 'string';
  const [kind] = kinds;
  return kind === 'integer' || kind === 'number' || kind === 'boolean' ? kind : 'string';
}

/** oneOf / anyOf: one type when every variant has it, else an object if any variant is one, else text. */
function combineAlternatives(variants: Shape[], keyword: string): Shape {
  const typed = variants.filter((v) => v.type !== 'any');
  const types = new Set(typed.map((v) => v.type));
  if (types.size === 1 && typed[0] && typed[0].type !== 'object') {
    const values = typed.every((v) => v.enum) ? typed.flatMap((v) => v.enum ?? []) : undefined;
    return { ...typed[0], ...(values ? { enum: values } : {}), properties: {}, required: [] };
  }
  const type: ShapeType = types.has('object') ? 'object' : 'string';
  return {
    type,
    properties: {},
    required: [],
    note: `${keyword}: one of several shapes; taken as ${type === 'object' ? 'a free-form object' : 'text'}`,
  };
}

const FIRST_WINS = [
  'description',
  'format',
  'enum',
  'default',
  'example',
  'minimum',
  'maximum',
  'maxLength',
  'items',
  'note',
  'closed',
] as const;

/** allOf: properties and required lists merged; for the rest, the first part that says wins (the schema's own). */
function merge(parts: Shape[]): Shape {
  const out: Shape = { type: 'any', properties: {}, required: [] };
  for (const part of parts) {
    for (const [name, child] of Object.entries(part.properties))
      if (!Object.hasOwn(out.properties, name)) setEntry(out.properties, name, child);
    out.required.push(...part.required.filter((name) => !out.required.includes(name)));
    for (const key of FIRST_WINS)
      if (out[key] === undefined && part[key] !== undefined) (out as unknown as Json)[key] = part[key];
    if (part.readOnly) out.readOnly = true;
    if (out.type === 'any') out.type = part.type;
    else if (part.type === 'object' && out.type !== 'object' && Object.keys(part.properties).length > 0)
      out.type = 'object';
  }
  if (out.type === 'any' && Object.keys(out.properties).length > 0) out.type = 'object';
  return out;
}
