/**
 * Langdock's input fields ⇄ Switchboard's variables. Every field type is a row in a table: the variable
 * type it stores as, and the widget that says how a form shows it. SELECT is the one type that needs
 * more: fixed options become an enum (option labels kept in option_labels), a contextActionId becomes
 * options_from, and allowMultiSelect makes either a list. The reverse mapping reads a variable back into
 * the field it came from, so a field survives the round trip.
 */
import {
  optionsOf,
  type ItemType,
  type Variable,
  type VariableType,
  type Widget,
} from '../../../core/actions/variable-model.ts';
import { fieldSlugs } from './names.ts';

export const FIELD_TYPES = [
  'TEXT',
  'MULTI_LINE_TEXT',
  'NUMBER',
  'BOOLEAN',
  'SELECT',
  'PASSWORD',
  'VECTOR',
  'OBJECT',
  'FILE',
  'ID',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldOption {
  label: string;
  value: string;
}

/** A field as a request gives it; nullable like the response, so a field read back can be sent again. */
export interface InputFieldInput {
  label: string;
  type?: FieldType | undefined;
  description?: string | null | undefined;
  placeholder?: string | null | undefined;
  required?: boolean | undefined;
  /** Options of a SELECT: `{label, value}` (label optional), or a bare value. */
  options?: (string | { label?: string | undefined; value: string })[] | null | undefined;
  allowMultiSelect?: boolean | null | undefined;
  contextActionId?: string | null | undefined;
}

/** A field as a response shows it. */
export interface InputField {
  slug: string;
  label: string;
  type: FieldType;
  description: string;
  placeholder: string | null;
  required: boolean;
  order: number;
  options: FieldOption[] | null;
  allowMultiSelect: boolean | null;
  contextActionId: string | null;
}

/** A problem with a field, in the request's terms (`inputFields[2].options`). */
export interface FieldIssue {
  path: string;
  message: string;
}

type Shape = { type: VariableType; items?: ItemType; widget?: Widget };

/** Every type but SELECT: what it stores as. */
const SHAPES: Readonly<Record<Exclude<FieldType, 'SELECT'>, Shape>> = {
  TEXT: { type: 'string' },
  MULTI_LINE_TEXT: { type: 'string', widget: 'multi_line_text' },
  NUMBER: { type: 'number' },
  BOOLEAN: { type: 'boolean' },
  PASSWORD: { type: 'string', widget: 'password' },
  VECTOR: { type: 'array', items: 'number', widget: 'vector' },
  OBJECT: { type: 'object' },
  FILE: { type: 'object', widget: 'file' },
  ID: { type: 'string', widget: 'id' },
};

const TYPE_OF_WIDGET: Readonly<Record<Widget, FieldType>> = {
  multi_line_text: 'MULTI_LINE_TEXT',
  password: 'PASSWORD',
  id: 'ID',
  vector: 'VECTOR',
  file: 'FILE',
};

/**
 * A variable without a widget or options: its type's field. Types Langdock lacks (made through the native
 * API) show as the nearest field.
 */
const TYPE_OF_VARIABLE: Readonly<Record<VariableType, FieldType>> = {
  string: 'TEXT',
  integer: 'NUMBER',
  number: 'NUMBER',
  boolean: 'BOOLEAN',
  date: 'TEXT',
  email: 'TEXT',
  phone: 'TEXT',
  enum: 'SELECT',
  object: 'OBJECT',
  array: 'TEXT',
};

/** The variables the fields store as, each named by its field's slug; issues say what to fix. */
export function variablesFromFields(fields: readonly InputFieldInput[]): {
  variables: Variable[];
  issues: FieldIssue[];
} {
  const issues: FieldIssue[] = [];
  const slugs = fieldSlugs(fields.map((field) => field.label));
  const variables = fields.map((field, index) => {
    const add = (where: string, message: string) =>
      issues.push({ path: `inputFields[${index}]${where}`, message });
    const variable: Variable = {
      name: slugs[index] ?? '',
      type: 'string',
      label: field.label,
      required: field.required === true,
      ...(field.description ? { description: field.description } : {}),
      ...(field.placeholder ? { placeholder: field.placeholder } : {}),
    };
    const type = field.type ?? 'TEXT';
    const options = field.options ?? [];
    const source = field.contextActionId ?? undefined;
    if (type === 'SELECT')
      return selectVariable(variable, options, source, field.allowMultiSelect === true, add);
    if (options.length > 0) add('.options', `only a SELECT field takes options, not a ${type} field`);
    if (source !== undefined)
      add('.contextActionId', `only a SELECT field takes a contextActionId, not a ${type} field`);
    if (field.allowMultiSelect === true)
      add('.allowMultiSelect', `only a SELECT field allows multiple selections, not a ${type} field`);
    const { type: variableType, items, widget } = SHAPES[type];
    return {
      ...variable,
      type: variableType,
      ...(items ? { items: { type: items } } : {}),
      ...(widget ? { widget } : {}),
    };
  });
  return { variables, issues };
}

function selectVariable(
  variable: Variable,
  options: NonNullable<InputFieldInput['options']>,
  source: string | undefined,
  multiple: boolean,
  add: (where: string, message: string) => void,
): Variable {
  if (source !== undefined) {
    if (options.length > 0)
      add('', 'a SELECT field takes its options from options or from a contextActionId, not both');
    return multiple
      ? { ...variable, type: 'array', items: { type: 'string' }, options_from: source }
      : { ...variable, type: 'string', options_from: source };
  }
  if (options.length === 0) {
    add('', 'a SELECT field needs options (a list of {label, value}) or a contextActionId');
    return variable;
  }
  const pairs = options.map((option) =>
    typeof option === 'string'
      ? { label: option, value: option }
      : { label: option.label ?? option.value, value: option.value },
  );
  const values = pairs.map((pair) => pair.value);
  // only labels that differ from their value are kept: the others read back as the value
  const labelled = pairs.filter((pair) => pair.label !== pair.value);
  const labels =
    labelled.length > 0
      ? { option_labels: Object.fromEntries(labelled.map((pair) => [pair.value, pair.label])) }
      : {};
  return multiple
    ? { ...variable, type: 'array', items: { type: 'enum', enum: values }, ...labels }
    : { ...variable, type: 'enum', enum: values, ...labels };
}

/** The fields the variables came from, in order. */
export function fieldsFromVariables(variables: readonly Variable[]): InputField[] {
  return variables.map((variable, order) => {
    const select = selectOf(variable);
    return {
      slug: variable.name,
      label: variable.label ?? variable.name,
      type: select ? 'SELECT' : fieldTypeOf(variable),
      description: variable.description ?? '',
      placeholder: variable.placeholder ?? null,
      required: variable.required === true,
      order,
      options: select?.options ?? null,
      allowMultiSelect: select ? variable.type === 'array' : null,
      contextActionId: select?.contextActionId ?? null,
    };
  });
}

function selectOf(
  variable: Variable,
): { options: FieldOption[] | null; contextActionId: string | null } | undefined {
  if (variable.options_from !== undefined) return { options: null, contextActionId: variable.options_from };
  const values = optionsOf(variable);
  const enumerated = variable.type === 'enum' || variable.items?.type === 'enum';
  if (!enumerated) return undefined;
  const labels = variable.option_labels ?? {};
  return {
    options: values.map((value) => ({
      label: Object.hasOwn(labels, value) ? (labels[value] ?? value) : value,
      value,
    })),
    contextActionId: null,
  };
}

function fieldTypeOf(variable: Variable): FieldType {
  if (variable.widget !== undefined) return TYPE_OF_WIDGET[variable.widget];
  const itemType = variable.items?.type;
  if (variable.type === 'array' && (itemType === 'number' || itemType === 'integer')) return 'VECTOR';
  return TYPE_OF_VARIABLE[variable.type];
}

const FIELD_OF_VARIABLE_PART: Readonly<Record<string, string>> = {
  name: 'label',
  label: 'label',
  description: 'description',
  placeholder: 'placeholder',
  required: 'required',
  type: 'type',
  widget: 'type',
  items: 'options',
  enum: 'options',
  option_labels: 'options',
  options_from: 'contextActionId',
};

/**
 * A native issue's path in the request's terms: `/variables/2/options_from` → inputFields[2].contextActionId,
 * `/variables/0/enum/1` → inputFields[0].options[1], `/code/source` → code.
 */
export function requestPath(nativePath: string): string {
  const variable = /^\/variables\/(\d+)(?:\/([^/]+)(?:\/(?:enum\/)?(\d+))?)?/.exec(nativePath);
  if (variable) {
    const [, index, part, option] = variable;
    const field = part === undefined ? undefined : FIELD_OF_VARIABLE_PART[part];
    return `inputFields[${index}]${field ? `.${field}` : ''}${field === 'options' && option ? `[${option}]` : ''}`;
  }
  if (nativePath === '/variables') return 'inputFields';
  if (nativePath.startsWith('/code')) return 'code';
  return nativePath.replace(/^\//, '').replaceAll('/', '.') || 'body';
}
