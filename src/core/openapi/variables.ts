/**
 * A parameter's or body field's schema → one action variable: its type (string formats date and email,
 * enums, lists of scalars, free-form objects), bounds, description, example and default. A value the
 * variable could not take (an example of the wrong type) is left out and noted rather than saved.
 */
import { coerceValue } from '../actions/coerce.ts';
import { textProblem } from '../actions/text.ts';
import {
  type ItemType,
  type Variable,
  type VariableItems,
  type VariableType,
  VARIABLE_LIMITS,
  enumKey,
} from '../actions/variable-model.ts';
import { type Shape, shapeOf } from './schemas.ts';
import { cleanText } from './values.ts';

export interface VariableSource {
  name: string;
  shape: Shape;
  required: boolean;
  /** A parameter's own description and example win over its schema's. */
  description?: string | undefined;
  example?: unknown;
}

export type Mapped = { variable: Variable; notes: string[] } | { problem: string };

interface Typed {
  type: VariableType;
  enum?: string[];
  items?: VariableItems;
  /** Said to the model beside the description: formats, numeric options. */
  hint?: string;
  /** The shape bounds are read from: the items of a list, else the shape itself. */
  element: Shape;
}

/** Defaults and examples are judged with a fixed clock, as the save-time check does. */
const FIXED_CONTEXT = { now: new Date(0), timeZone: 'UTC' };
const LENGTH_TYPES: ReadonlySet<string> = new Set(['string', 'email']);
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['integer', 'number']);

export function toVariable(root: unknown, source: VariableSource, label: string): Mapped {
  const { shape } = source;
  const notes = shape.note ? [`${label}: ${shape.note}`] : [];
  const typed = typeFor(root, shape);
  if ('problem' in typed) return { problem: `${label} is ${typed.problem}` };
  const variable: Variable = { name: source.name, type: typed.type, required: source.required };
  if (typed.enum) variable.enum = typed.enum;
  if (typed.items) variable.items = typed.items;
  const description = [source.description ?? shape.description, typed.hint].filter(Boolean).join(' ');
  if (description !== '') variable.description = cleanText(description, VARIABLE_LIMITS.maxDescriptionLength);
  addBounds(variable, typed.element);

  const example = source.example ?? shape.example;
  if (example !== undefined) {
    if (coerceValue(variable, example, FIXED_CONTEXT).ok) variable.example = example;
    else notes.push(`${label}: its example is not a valid ${variable.type}; left out`);
  }
  if (shape.default !== undefined) {
    const coerced = coerceValue(variable, shape.default, FIXED_CONTEXT);
    if (coerced.ok) variable.default = coerced.value;
    else notes.push(`${label}: its default is not a valid ${variable.type}; left out`);
  }
  return { variable, notes };
}

function typeFor(root: unknown, shape: Shape): Typed | { problem: string } {
  if (shape.type === 'object') return { type: 'object', element: shape };
  if (shape.type !== 'array') return { ...scalarFor(shape), element: shape };
  const item = shape.items ? shapeOf(root, shape.items.schema, shape.items.stack) : undefined;
  if (item === undefined) return { type: 'array', items: { type: 'string' }, element: shape };
  if (item.type === 'object' || item.type === 'array')
    return {
      problem: `a list of ${item.type === 'object' ? 'objects' : 'lists'}, which an action variable cannot hold`,
    };
  const scalar = scalarFor(item);
  const items: VariableItems = { type: scalar.type };
  if (scalar.enum) items.enum = scalar.enum;
  return { type: 'array', items, ...(scalar.hint ? { hint: scalar.hint } : {}), element: item };
}

function scalarFor(shape: Shape): { type: ItemType; enum?: string[]; hint?: string } {
  const values = (shape.enum ?? []).filter((value) => value !== null);
  if (values.length > 0 && (shape.type === 'string' || shape.type === 'any') && usableOptions(values))
    return { type: 'enum', enum: values };
  const hint =
    values.length > 0
      ? cleanText(`One of: ${values.map((v) => JSON.stringify(v)).join(', ')}.`, 400)
      : undefined;
  const withHint = <T extends object>(value: T) => (hint ? { ...value, hint } : value);
  switch (shape.type) {
    case 'integer':
    case 'number':
    case 'boolean':
      return withHint({ type: shape.type });
    default: {
      if (shape.format === 'date') return withHint({ type: 'date' });
      if (shape.format === 'email') return withHint({ type: 'email' });
      const format = shape.format && shape.format !== 'binary' ? `Format: ${shape.format}.` : undefined;
      const hints = [hint, format].filter(Boolean).join(' ');
      return hints === '' ? { type: 'string' } : { type: 'string', hint: hints };
    }
  }
}

function usableOptions(values: unknown[]): values is string[] {
  const { minEnumOptions, maxEnumOptions, maxEnumOptionLength } = VARIABLE_LIMITS;
  if (values.length < minEnumOptions || values.length > maxEnumOptions) return false;
  const keys = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.trim() === '' || value.length > maxEnumOptionLength) return false;
    if (textProblem(value) !== undefined || keys.has(enumKey(value))) return false;
    keys.add(enumKey(value));
  }
  return true;
}

function addBounds(variable: Variable, element: Shape): void {
  const type = variable.type === 'array' ? (variable.items?.type ?? 'string') : variable.type;
  if (LENGTH_TYPES.has(type) && element.maxLength !== undefined && element.maxLength >= 1)
    variable.max_length = Math.min(Math.floor(element.maxLength), VARIABLE_LIMITS.maxMaxLength);
  if (NUMERIC_TYPES.has(type)) {
    if (element.minimum !== undefined && Number.isFinite(element.minimum)) variable.minimum = element.minimum;
    if (element.maximum !== undefined && Number.isFinite(element.maximum)) variable.maximum = element.maximum;
  }
}
