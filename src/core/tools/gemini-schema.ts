import type { JsonSchemaObject } from '../actions/input-schema.ts';

/**
 * Gemini's FunctionDeclaration.parameters is not JSON Schema but its own Schema object, "a select subset
 * of an OpenAPI 3.0 schema object" (generativelanguage v1beta Schema). The API refuses any other field
 * with "Unknown name ... Cannot find field" (seen for additionalProperties, $schema, const), refuses an
 * OBJECT whose properties are empty ("should be non-empty for OBJECT type") and an ARRAY without items.
 * For string formats the Gemini Developer API accepts only "enum" and "date-time" (Firebase AI Logic
 * SchemaShared.format). `parametersJsonSchema` (plain JSON Schema, v1beta) exists but is newer and not
 * accepted everywhere, so the portable `parameters` form is produced.
 *
 * These are the fields of that Schema object; the conversion below emits only a subset of them.
 */
export const GEMINI_SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

export type GeminiType = 'STRING' | 'NUMBER' | 'INTEGER' | 'BOOLEAN' | 'ARRAY' | 'OBJECT';
export type GeminiSchema = { [keyword: string]: unknown };

const FORMATS: Readonly<Record<string, readonly string[]>> = {
  STRING: ['date-time', 'enum'],
  NUMBER: ['float', 'double'],
  INTEGER: ['int32', 'int64'],
};

const FORMAT_NOTES: Readonly<Record<string, string>> = {
  date: 'Format: a date as YYYY-MM-DD.',
  email: 'Format: an email address.',
  uri: 'Format: a URI.',
  uuid: 'Format: a UUID.',
};

/** Deeper than this, a value is described as JSON text instead of being typed further. */
const MAX_DEPTH = 16;

/**
 * The `parameters` of a Gemini function declaration, or undefined when the tool takes no arguments
 * (Gemini refuses an OBJECT with no properties, so the field is left out).
 */
export function toGeminiParameters(schema: JsonSchemaObject): GeminiSchema | undefined {
  const properties = schema.properties;
  if (!isRecord(properties) || Object.keys(properties).length === 0) return undefined;
  return convert(schema, 0);
}

/** One JSON Schema node to Gemini's Schema: same meaning where it can be said, notes where it cannot. */
export function convert(node: unknown, depth: number): GeminiSchema {
  if (!isRecord(node)) return asJsonText(undefined, 'any JSON value');
  const notes: string[] = [];
  const { type, nullable } = typeOf(node);
  if (depth > MAX_DEPTH) return asJsonText(node.description, 'a JSON value');

  if (type === undefined && Array.isArray(node.anyOf)) {
    const anyOf = (node.anyOf as unknown[]).map((branch) => convert(branch, depth + 1));
    return withDescription({ anyOf }, node, notes);
  }

  const out: GeminiSchema = {};
  switch (type) {
    case 'OBJECT': {
      const properties = isRecord(node.properties) ? node.properties : {};
      const names = Object.keys(properties);
      if (names.length === 0) return asJsonText(node.description, 'a JSON object');
      out.type = 'OBJECT';
      out.properties = Object.fromEntries(names.map((name) => [name, convert(properties[name], depth + 1)]));
      const required = Array.isArray(node.required)
        ? (node.required as unknown[]).filter(
            (name): name is string => typeof name === 'string' && names.includes(name),
          )
        : [];
      if (required.length > 0) out.required = required;
      copyCount(node, out, 'minProperties');
      copyCount(node, out, 'maxProperties');
      break;
    }
    case 'ARRAY':
      out.type = 'ARRAY';
      out.items = convert(node.items ?? {}, depth + 1);
      copyCount(node, out, 'minItems');
      copyCount(node, out, 'maxItems');
      break;
    case 'STRING': {
      out.type = 'STRING';
      const options = stringOptions(node);
      if (options) out.enum = options;
      copyCount(node, out, 'minLength');
      copyCount(node, out, 'maxLength');
      if (typeof node.pattern === 'string') out.pattern = node.pattern;
      break;
    }
    case 'INTEGER':
    case 'NUMBER':
      out.type = type;
      if (typeof node.minimum === 'number' && Number.isFinite(node.minimum)) out.minimum = node.minimum;
      if (typeof node.maximum === 'number' && Number.isFinite(node.maximum)) out.maximum = node.maximum;
      if (Array.isArray(node.enum))
        notes.push(`One of: ${(node.enum as unknown[]).map(optionText).join(', ')}.`);
      break;
    case 'BOOLEAN':
      out.type = 'BOOLEAN';
      break;
    default:
      return asJsonText(node.description, 'a JSON value');
  }
  if (nullable) out.nullable = true;
  translateFormat(node, out, notes);
  if (Array.isArray(node.examples) && node.examples.length > 0) {
    notes.push(`Example: ${JSON.stringify(node.examples[0])}.`);
  }
  if (isScalar(node.default)) out.default = node.default;
  return withDescription(out, node, notes);
}

function typeOf(node: Record<string, unknown>): { type: GeminiType | undefined; nullable: boolean } {
  const declared: unknown[] = Array.isArray(node.type) ? (node.type as unknown[]) : [node.type];
  const nullable = declared.includes('null');
  const named = declared.find((type) => typeof type === 'string' && type !== 'null');
  let type = typeof named === 'string' ? named.toUpperCase() : undefined;
  if (type === undefined) {
    // No type: infer it from the keywords present, as JSON Schema readers do.
    if (isRecord(node.properties)) type = 'OBJECT';
    else if (node.items !== undefined) type = 'ARRAY';
    else if (Array.isArray(node.enum) || typeof node.const === 'string') type = 'STRING';
  }
  const known = ['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT'];
  return { type: type !== undefined && known.includes(type) ? (type as GeminiType) : undefined, nullable };
}

function stringOptions(node: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(node.enum)) return (node.enum as unknown[]).map(optionText);
  if (typeof node.const === 'string') return [node.const];
  return undefined;
}

function translateFormat(node: Record<string, unknown>, out: GeminiSchema, notes: string[]): void {
  const format = node.format;
  if (typeof format !== 'string') return;
  if ((FORMATS[String(out.type)] ?? []).includes(format)) out.format = format;
  else notes.push(FORMAT_NOTES[format] ?? `Format: ${format}.`);
}

/** Values Gemini cannot type (free-form objects, unknown shapes) are asked for as JSON text. */
function asJsonText(description: unknown, what: string): GeminiSchema {
  const note = `Send ${what} encoded as a JSON string.`;
  return {
    type: 'STRING',
    description: typeof description === 'string' && description ? `${description} ${note}` : note,
  };
}

function withDescription(out: GeminiSchema, node: Record<string, unknown>, notes: string[]): GeminiSchema {
  const own = typeof node.description === 'string' ? node.description.trim() : '';
  // The notes are sentences, so the description before them must end like one.
  const lead = own !== '' && notes.length > 0 && !/[.!?)]$/.test(own) ? `${own}.` : own;
  const parts = [lead, ...notes].filter((part) => part !== '');
  if (parts.length > 0) out.description = parts.join(' ');
  return out;
}

function copyCount(node: Record<string, unknown>, out: GeminiSchema, keyword: string): void {
  const value = node[keyword];
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) out[keyword] = value;
}

function optionText(option: unknown): string {
  return typeof option === 'string' ? option : (JSON.stringify(option) ?? 'null');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isScalar(value: unknown): value is string | number | boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
