import { E164_PATTERN } from '../phone.ts';
import { type ItemType, type Variable, VARIABLE_LIMITS, optionsOf } from './variable-model.ts';

/** A JSON Schema (2020-12 keywords) as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** The root schema of a tool's arguments. */
export type JsonSchemaObject = JsonSchema & {
  readonly type: 'object';
  readonly properties?: { readonly [name: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
};

/**
 * The input schema the agent sees and the inputs are checked against after coercion (docs/security.md G-05):
 * a closed object (`additionalProperties: false`), a type on every property and a `maxLength` on every
 * string. The result is deep-frozen and the same object for the same variables array.
 */
export function compileInputSchema(variables: readonly Variable[]): JsonSchemaObject {
  let schema = compiled.get(variables);
  if (!schema) {
    const properties: Record<string, JsonSchema> = {};
    for (const variable of variables) properties[variable.name] = propertySchema(variable);
    schema = deepFreeze({
      type: 'object',
      properties,
      required: variables.filter((variable) => variable.required === true).map((variable) => variable.name),
      additionalProperties: false,
    });
    compiled.set(variables, schema);
  }
  return schema;
}

const compiled = new WeakMap<readonly Variable[], JsonSchemaObject>();

/** The schema of one variable's value, with the annotations the model reads. */
export function propertySchema(variable: Variable): JsonSchema {
  const schema: Record<string, unknown> = {
    ...(variable.type === 'array' ? arraySchema(variable) : valueSchema(variable.type, variable)),
  };
  const description = [variable.description ?? '', variable.type === 'object' ? OBJECT_LIMIT_NOTE : '']
    .filter((text) => text !== '')
    .join(' ');
  if (variable.label !== undefined) schema.title = variable.label;
  if (description !== '') schema.description = description;
  if (variable.example !== undefined) schema.examples = [variable.example];
  if (variable.default !== undefined && variable.required !== true) schema.default = variable.default;
  return schema;
}

/**
 * A free-form object cannot have its serialized size bounded in JSON Schema, so the limit is stated in
 * the description for the model and enforced by prepareInputs.
 */
export const OBJECT_LIMIT_NOTE = `(A JSON object: at most ${VARIABLE_LIMITS.maxObjectBytes} bytes serialized, ${VARIABLE_LIMITS.maxObjectKeys} keys per object and ${VARIABLE_LIMITS.maxObjectDepth} levels of nesting.)`;

function arraySchema(variable: Variable): JsonSchema {
  return {
    type: 'array',
    items: valueSchema(variable.items?.type ?? 'string', variable),
    maxItems: VARIABLE_LIMITS.maxArrayItems,
  };
}

/** One scalar (or free-form object) value; bounds and options come from the variable. */
function valueSchema(type: ItemType | 'object', variable: Variable): JsonSchema {
  switch (type) {
    case 'string':
      return { type: 'string', maxLength: variable.max_length ?? VARIABLE_LIMITS.defaultMaxLength };
    case 'email':
      return {
        type: 'string',
        format: 'email',
        maxLength: Math.min(
          variable.max_length ?? VARIABLE_LIMITS.maxEmailLength,
          VARIABLE_LIMITS.maxEmailLength,
        ),
      };
    case 'phone':
      return { type: 'string', pattern: E164_PATTERN, maxLength: 16 };
    case 'date':
      return { type: 'string', format: 'date', maxLength: 10 };
    case 'enum': {
      const options = optionsOf(variable);
      return {
        type: 'string',
        enum: [...options],
        maxLength: Math.max(1, ...options.map((option) => [...option].length)),
      };
    }
    case 'integer':
    case 'number':
      return {
        type,
        ...(variable.minimum === undefined ? {} : { minimum: variable.minimum }),
        ...(variable.maximum === undefined ? {} : { maximum: variable.maximum }),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'object':
      return { type: 'object', maxProperties: VARIABLE_LIMITS.maxObjectKeys };
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
