/**
 * The variables of an action: the inputs an agent collects from the conversation before calling it (the
 * Custom Actions guide's name / type / description / example / required / default), plus the bounds that
 * make every argument a language model sends checkable (docs/security.md, "Limits" and G-05).
 */
/** The types a list may hold: every variable type but the two containers. */
export const ITEM_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'date',
  'email',
  'phone',
  'enum',
] as const;
export type ItemType = (typeof ITEM_TYPES)[number];

export const VARIABLE_TYPES = [...ITEM_TYPES, 'object', 'array'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/**
 * How a form shows a variable when its type alone does not say (Langdock's field types): the type keeps
 * deciding what is valid. `password` also keeps the value out of execution records, like a secret.
 */
export const WIDGETS = ['multi_line_text', 'password', 'id', 'vector', 'file'] as const;
export type Widget = (typeof WIDGETS)[number];

export interface VariableItems {
  type: ItemType;
  enum?: string[];
}

export interface Variable {
  /** `^[A-Za-z_][A-Za-z0-9_]{0,63}$`, the name used in `{{name}}` and as the tool argument. */
  name: string;
  type: VariableType;
  /** What the model reads to know what to collect. */
  description?: string;
  example?: unknown;
  /** Default false. */
  required?: boolean;
  /** Used when the variable is optional and not provided; must itself be valid for the type. */
  default?: unknown;
  /** Type `enum`: the options (1 to 100). */
  enum?: string[];
  /** Type `array`: the item type (default string). */
  items?: VariableItems;
  /** Types string and email, and arrays of them: default 4096, at most 32768. */
  max_length?: number;
  /** Types integer and number, and arrays of them. */
  minimum?: number;
  maximum?: number;
  /** What a form labels it with (at most 100 characters). */
  label?: string;
  /** Sample text a form shows in the empty field (at most 200 characters). */
  placeholder?: string;
  widget?: Widget;
  /** Enum options' display labels: option → label. */
  option_labels?: Record<string, string>;
  /** An action whose output lists the options (a string, or a list of strings), run on demand. */
  options_from?: string;
}

/** Filled by the runtime from the execution's context, so a variable may not take one of these names. */
export const RUNTIME_VARIABLES = [
  'current_datetime',
  'timezone',
  'contact_number',
  'direction',
  'medium',
  'agent_uuid',
  'agent_number',
] as const;

export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Names that would reach Object.prototype if ever used as a plain-object key. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export const VARIABLE_LIMITS = Object.freeze({
  maxVariables: 100,
  /** docs/security.md, "Limits": 4 KB per string unless the schema says otherwise. */
  defaultMaxLength: 4096,
  maxMaxLength: 32_768,
  maxDescriptionLength: 1000,
  maxLabelLength: 100,
  maxPlaceholderLength: 200,
  minEnumOptions: 1,
  maxEnumOptions: 100,
  maxEnumOptionLength: 200,
  maxArrayItems: 100,
  /** RFC 5321: a forward path holds at most 254 characters. */
  maxEmailLength: 254,
  /** Free-form `object` inputs: serialized size, nesting and key count. */
  maxObjectBytes: 8192,
  maxObjectDepth: 8,
  maxObjectKeys: 50,
  /** docs/security.md, "Limits": tool-call arguments at most 32 KB in total, serialized. */
  maxArgumentBytes: 32 * 1024,
});

/** The type and item type each widget shows; `undefined` items means any or none. */
export const WIDGET_TYPES: Readonly<Record<Widget, { type: VariableType; items?: ItemType }>> = {
  multi_line_text: { type: 'string' },
  password: { type: 'string' },
  id: { type: 'string' },
  vector: { type: 'array', items: 'number' },
  file: { type: 'object' },
};

/** Types whose values are text with a length the action author may choose. */
export const LENGTH_TYPES: ReadonlySet<string> = new Set(['string', 'email']);
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(['integer', 'number']);

/** The type an array's items have, or the variable's own type; used for bounds that apply to either. */
export function elementType(variable: Variable): VariableType {
  return variable.type === 'array' ? (variable.items?.type ?? 'string') : variable.type;
}

export function optionsOf(variable: Variable): readonly string[] {
  return (variable.type === 'array' ? variable.items?.enum : variable.enum) ?? [];
}

/** Enum options match case-insensitively and ignoring spacing, "_" and "-": "Next Day" is "next_day". */
export function enumKey(option: string): string {
  return option
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');
}
