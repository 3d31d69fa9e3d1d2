import { coerceValue } from './coerce.ts';
import {
  ITEM_TYPES,
  LENGTH_TYPES,
  NUMERIC_TYPES,
  RESERVED_NAMES,
  RUNTIME_VARIABLES,
  VARIABLE_LIMITS,
  VARIABLE_NAME_PATTERN,
  VARIABLE_TYPES,
  WIDGETS,
  WIDGET_TYPES,
  type Variable,
  elementType,
  enumKey,
  optionsOf,
} from './variable-model.ts';
import { textProblem } from './text.ts';

/** One problem in an action's variables: where (a JSON Pointer) and what to fix. */
export interface VariableIssue {
  path: string;
  message: string;
}

const RUNTIME: ReadonlySet<string> = new Set(RUNTIME_VARIABLES);
const TYPES: ReadonlySet<string> = new Set(VARIABLE_TYPES);
const ITEMS: ReadonlySet<string> = new Set(ITEM_TYPES);

/** Defaults and examples are checked with a fixed clock: "today" is never canonical, so it is refused. */
const FIXED_CONTEXT = { now: new Date(0), timeZone: 'UTC' };

/**
 * Checks the variables an action declares, at save time. Fields are read defensively: the array may have
 * come from any API dialect. Returns every issue found, each with its path (`/variables/2/default`).
 */
export function checkVariables(variables: readonly Variable[], basePath = '/variables'): VariableIssue[] {
  const issues: VariableIssue[] = [];
  const list: unknown = variables;
  if (!Array.isArray(list)) return [{ path: basePath, message: 'variables must be a list' }];
  if (variables.length > VARIABLE_LIMITS.maxVariables) {
    issues.push({
      path: basePath,
      message: `an action takes at most ${VARIABLE_LIMITS.maxVariables} variables`,
    });
  }
  const seen = new Map<string, number>();
  variables.forEach((variable, index) => {
    const path = `${basePath}/${index}`;
    const add = (field: string, message: string): void => {
      issues.push({ path: field === '' ? path : `${path}/${field}`, message });
    };
    if (variable === null || typeof variable !== 'object' || Array.isArray(variable)) {
      add('', 'each variable must be an object with a name and a type');
      return;
    }
    checkName(variable, index, seen, add);
    if (!TYPES.has(variable.type)) {
      add('type', `type must be one of ${VARIABLE_TYPES.join(', ')}`);
      return;
    }
    const shapeIssues = issues.length;
    checkText(variable.description, VARIABLE_LIMITS.maxDescriptionLength, 'description', add);
    if (variable.required !== undefined && typeof variable.required !== 'boolean') {
      add('required', 'required must be true or false');
    }
    checkOptions(variable, add);
    checkLength(variable, add);
    checkBounds(variable, add);
    checkPresentation(variable, add);
    // A default or example can only be judged once the variable itself makes sense.
    if (issues.length === shapeIssues) {
      checkValue(variable, 'default', add);
      checkValue(variable, 'example', add);
    }
  });
  return issues;
}

type Add = (field: string, message: string) => void;

function checkName(variable: Variable, index: number, seen: Map<string, number>, add: Add): void {
  const { name } = variable;
  if (typeof name !== 'string' || !VARIABLE_NAME_PATTERN.test(name)) {
    add(
      'name',
      'name must start with a letter or "_" and hold only letters, digits and "_", at most 64 characters (such as order_id)',
    );
    return;
  }
  if (RESERVED_NAMES.has(name)) add('name', `"${name}" is reserved; choose another name`);
  else if (RUNTIME.has(name)) {
    add('name', `"${name}" is a runtime variable the server fills in; choose another name`);
  }
  const key = name.toLowerCase();
  const first = seen.get(key);
  if (first === undefined) seen.set(key, index);
  else add('name', `"${name}" repeats the name of variable ${first} (names must differ by more than case)`);
}

function checkText(value: unknown, max: number, field: string, add: Add): void {
  if (value === undefined) return;
  if (typeof value !== 'string') add(field, `${field} must be text`);
  else if (value.length > max) add(field, `${field} must be at most ${max} characters`);
  else {
    const problem = textProblem(value);
    if (problem) add(field, `${field} ${problem}`);
  }
}

function checkOptions(variable: Variable, add: Add): void {
  const { items } = variable;
  if (variable.type === 'array' && items !== undefined) {
    if (items === null || typeof items !== 'object' || !ITEMS.has(items.type)) {
      add('items/type', `items.type must be one of ${ITEM_TYPES.join(', ')}`);
      return;
    }
  } else if (items !== undefined) {
    add('items', 'only a variable of type array has items');
  }
  const wantsOptions = elementType(variable) === 'enum';
  const [field, options] = variable.type === 'array' ? ['items/enum', items?.enum] : ['enum', variable.enum];
  if (variable.type !== 'enum' && variable.enum !== undefined) {
    add(
      'enum',
      variable.type === 'array'
        ? 'a list takes its options in items.enum, with items.type enum'
        : 'only a variable of type enum has options; use type enum or remove enum',
    );
  }
  if (!wantsOptions) {
    if (variable.type === 'array' && items?.enum !== undefined) {
      add('items/enum', 'only enum items have options');
    }
    return;
  }
  const { minEnumOptions: min, maxEnumOptions: max, maxEnumOptionLength } = VARIABLE_LIMITS;
  if (!Array.isArray(options) || options.length < min || options.length > max) {
    add(field, `an enum needs a list of ${min} to ${max} options`);
    return;
  }
  const keys = new Map<string, number>();
  options.forEach((option: unknown, index) => {
    if (typeof option !== 'string' || option.trim() === '' || option.length > maxEnumOptionLength) {
      add(`${field}/${index}`, `each option must be text of 1 to ${maxEnumOptionLength} characters`);
      return;
    }
    const problem = textProblem(option);
    if (problem) add(`${field}/${index}`, `the option ${problem}`);
    const key = enumKey(option);
    const first = keys.get(key);
    if (first === undefined) keys.set(key, index);
    else
      add(
        `${field}/${index}`,
        `"${option}" is the same option as option ${first} (options match ignoring case)`,
      );
  });
}

function checkLength(variable: Variable, add: Add): void {
  const { max_length: maxLength } = variable;
  if (maxLength === undefined) return;
  if (!LENGTH_TYPES.has(elementType(variable))) {
    add('max_length', 'max_length applies only to string and email variables (and lists of them)');
  } else if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > VARIABLE_LIMITS.maxMaxLength) {
    add('max_length', `max_length must be a whole number from 1 to ${VARIABLE_LIMITS.maxMaxLength}`);
  }
}

function checkBounds(variable: Variable, add: Add): void {
  const { minimum, maximum } = variable;
  for (const [field, bound] of [
    ['minimum', minimum],
    ['maximum', maximum],
  ] as const) {
    if (bound === undefined) continue;
    if (!NUMERIC_TYPES.has(elementType(variable))) {
      add(field, `${field} applies only to integer and number variables (and lists of them)`);
    } else if (typeof bound !== 'number' || !Number.isFinite(bound)) add(field, `${field} must be a number`);
  }
  if (typeof minimum === 'number' && typeof maximum === 'number' && minimum > maximum) {
    add('maximum', 'maximum must not be less than minimum');
  }
}

const WIDGET_SET: ReadonlySet<string> = new Set(WIDGETS);

/** What a form needs to show the variable: label, placeholder, widget, option labels, options source. */
function checkPresentation(variable: Variable, add: Add): void {
  checkText(variable.label, VARIABLE_LIMITS.maxLabelLength, 'label', add);
  checkText(variable.placeholder, VARIABLE_LIMITS.maxPlaceholderLength, 'placeholder', add);
  const { widget } = variable;
  if (widget !== undefined) {
    if (!WIDGET_SET.has(widget)) add('widget', `widget must be one of ${WIDGETS.join(', ')}`);
    else {
      const wanted = WIDGET_TYPES[widget];
      const itemType = variable.type === 'array' ? (variable.items?.type ?? 'string') : undefined;
      if (wanted.type !== variable.type || (wanted.items !== undefined && wanted.items !== itemType)) {
        const shape = wanted.items ? `an ${wanted.type} of ${wanted.items}` : `a ${wanted.type}`;
        add('widget', `the ${widget} widget shows ${shape} variable`);
      }
    }
  }
  const labels = variable.option_labels;
  if (labels !== undefined) {
    const options = new Set(elementType(variable) === 'enum' ? optionsOf(variable) : []);
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
      add('option_labels', 'option_labels maps each option to its label');
    } else if (options.size === 0) {
      add('option_labels', 'only enum options have labels');
    } else {
      for (const [option, label] of Object.entries(labels)) {
        if (!options.has(option)) add(`option_labels/${option}`, `"${option}" is not one of the options`);
        else checkText(label, VARIABLE_LIMITS.maxLabelLength, `option_labels/${option}`, add);
      }
    }
  }
  if (variable.options_from !== undefined) {
    if (elementType(variable) !== 'string')
      add('options_from', 'options_from fills the options of a string variable (or a list of strings)');
    else if (typeof variable.options_from !== 'string' || !/^[\w-]{1,64}$/.test(variable.options_from))
      add('options_from', 'options_from must be the id of an action');
  }
}

/**
 * A default must already be the canonical value (what coercion would produce from it), since it is used
 * as is. An example only has to be acceptable: it guides the model, and coercion handles its form.
 */
function checkValue(variable: Variable, field: 'default' | 'example', add: Add): void {
  const value = variable[field];
  if (value === undefined) return;
  const result = coerceValue(variable, value, FIXED_CONTEXT);
  if (!result.ok) {
    add(field, `the ${field} ${result.detail ?? `must be ${result.expected}`}`);
  } else if (field === 'default' && !sameJson(result.value, value)) {
    const relative = typeof value === 'string' && /\b(today|tomorrow|yesterday)\b/i.test(value);
    add(
      field,
      relative
        ? 'a default date must be a fixed date such as 2026-11-23; a relative day is not allowed'
        : `write the default as ${JSON.stringify(result.value)}`,
    );
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
