import { normalizeE164 } from '../phone.ts';
import { DATE_EXAMPLE, type DateContext, parseDate } from './dates.ts';
import { EMAIL_EXAMPLE, normalizeEmail } from './email.ts';
import { parseNumberWords } from './number-words.ts';
import { codePointLength, textProblem, utf8ByteLength } from './text.ts';
import { type ItemType, type Variable, VARIABLE_LIMITS, enumKey, optionsOf } from './variable-model.ts';

/**
 * Turns what a model sends for one variable into the canonical value, the way a voice transcript needs:
 * "forty two" is 42, "yeah" is true, "November 23, 2026" is 2026-11-23. A failure says what was expected
 * and, when it knows, exactly what is wrong, in words an agent can repeat or act on.
 */
export type Coerced = { ok: true; value: unknown } | { ok: false; expected: string; detail?: string };

export type CoerceContext = DateContext;

/** Text longer than this is not a number, date, phone number or yes/no, so it is not parsed. */
const MAX_SCALAR_TEXT = 256;

const PHONE_EXAMPLE = '+14155550100';

const TRUE_WORDS = new Set(['true', 'yes', 'y', 'yeah', 'yep', 'yup', 'sure', 'correct', 'affirmative', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', 'nope', 'nah', 'incorrect', 'negative', '0']);

const WHOLE = /^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.0+)?$/;
const DECIMAL = /^[+-]?(?:(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?|\.\d+)(?:e[+-]?\d+)?$/i;

export function coerceValue(variable: Variable, value: unknown, context: CoerceContext): Coerced {
  if (variable.type === 'array') return coerceArray(variable, value, context);
  if (variable.type === 'object') return coerceObject(value);
  return coerceScalar(variable.type, variable, value, context);
}

/** What a valid value looks like, as a noun phrase: "a whole number such as 42". */
export function expectedFor(variable: Variable): string {
  if (variable.type === 'object') return 'a JSON object';
  if (variable.type === 'array') {
    const items = expectedScalar(variable.items?.type ?? 'string', variable);
    return `a list of at most ${VARIABLE_LIMITS.maxArrayItems} items, each ${items}`;
  }
  return expectedScalar(variable.type, variable);
}

function expectedScalar(type: ItemType, variable: Variable): string {
  switch (type) {
    case 'string':
      return `text of at most ${maxLengthOf(variable)} characters`;
    case 'integer':
      return `a whole number${rangeText(variable)} such as ${exampleText(variable, boundedExample(variable, 42))}`;
    case 'number':
      return `a number${rangeText(variable)} such as ${exampleText(variable, boundedExample(variable, 2.5))}`;
    case 'boolean':
      return 'yes or no (true or false)';
    case 'date':
      return `a date such as ${DATE_EXAMPLE}`;
    case 'email':
      return `an email address such as ${EMAIL_EXAMPLE}`;
    case 'phone':
      return `a phone number in international format such as ${PHONE_EXAMPLE}`;
    case 'enum': {
      const options = optionsOf(variable);
      const shown = options.length > 12 ? [...options.slice(0, 12), '...'] : options;
      return `one of ${shown.join(', ')}`;
    }
  }
}

function coerceScalar(type: ItemType, variable: Variable, value: unknown, context: CoerceContext): Coerced {
  const expected = expectedScalar(type, variable);
  const fail = (detail?: string): Coerced =>
    detail ? { ok: false, expected, detail } : { ok: false, expected };
  if (typeof value === 'string' && type !== 'string') {
    if (value.length > MAX_SCALAR_TEXT) return fail('is too long');
    const problem = textProblem(value);
    if (problem) return fail(problem);
  }
  switch (type) {
    case 'string':
      return coerceString(variable, value, fail);
    case 'integer':
    case 'number':
      return coerceNumber(type, variable, value, fail);
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value };
      const word = typeof value === 'number' ? String(value) : typeof value === 'string' ? spoken(value) : '';
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return fail();
    }
    case 'date': {
      if (typeof value !== 'string') return fail();
      const result = parseDate(value, context);
      return result.ok ? { ok: true, value: result.date } : fail(`is not a usable date: ${result.reason}`);
    }
    case 'email': {
      if (typeof value !== 'string') return fail();
      const result = normalizeEmail(value, maxLengthOf(variable, VARIABLE_LIMITS.maxEmailLength));
      return result.ok
        ? { ok: true, value: result.email }
        : fail(`is not a valid email address: ${result.reason}`);
    }
    case 'phone': {
      if (typeof value !== 'string') return fail('must be text starting with + and the country code');
      const result = normalizeE164(value);
      return result.ok
        ? { ok: true, value: result.e164 }
        : fail(`is not a usable phone number: ${result.reason}`);
    }
    case 'enum': {
      if (typeof value !== 'string' && typeof value !== 'number') return fail();
      const key = enumKey(String(value));
      const match = optionsOf(variable).find((option) => enumKey(option) === key);
      return match === undefined ? fail() : { ok: true, value: match };
    }
  }
}

function coerceString(variable: Variable, value: unknown, fail: (detail?: string) => Coerced): Coerced {
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    text = String(value);
  else return fail();
  const problem = textProblem(text);
  if (problem) return fail(problem);
  const max = maxLengthOf(variable);
  if (codePointLength(text) > max) return fail(`must be at most ${max} characters`);
  return { ok: true, value: text };
}

function coerceNumber(
  type: 'integer' | 'number',
  variable: Variable,
  value: unknown,
  fail: (detail?: string) => Coerced,
): Coerced {
  let number: number | undefined;
  if (typeof value === 'number') number = value;
  else if (typeof value === 'string') {
    const text = value.trim().replace(/\.$/, '');
    if (WHOLE.test(text)) number = Number(text.replace(/,/g, ''));
    else if (DECIMAL.test(text)) number = Number(text.replace(/,/g, ''));
    else number = parseNumberWords(text);
  }
  if (number === undefined || !Number.isFinite(number)) return fail();
  if (type === 'integer' && !Number.isSafeInteger(number)) {
    return fail(Number.isInteger(number) ? 'is too large' : undefined);
  }
  if (Object.is(number, -0)) number = 0;
  if (variable.minimum !== undefined && number < variable.minimum)
    return fail(`must be at least ${variable.minimum}`);
  if (variable.maximum !== undefined && number > variable.maximum)
    return fail(`must be at most ${variable.maximum}`);
  return { ok: true, value: number };
}

function coerceArray(variable: Variable, value: unknown, context: CoerceContext): Coerced {
  const expected = expectedFor(variable);
  // A single value where a list was asked for is a list of one.
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length > VARIABLE_LIMITS.maxArrayItems) {
    return { ok: false, expected, detail: `must have at most ${VARIABLE_LIMITS.maxArrayItems} items` };
  }
  const type = variable.items?.type ?? 'string';
  const values: unknown[] = [];
  for (const [index, item] of list.entries()) {
    const result = coerceScalar(type, variable, item, context);
    if (!result.ok) {
      const why = result.detail ?? `must be ${result.expected}`;
      return { ok: false, expected, detail: `has an invalid item ${index + 1}: it ${why}` };
    }
    values.push(result.value);
  }
  return { ok: true, value: values };
}

/** A free-form object, given as an object or as JSON text (the form Gemini is told to send). */
function coerceObject(value: unknown): Coerced {
  const expected = 'a JSON object';
  let object = value;
  if (typeof value === 'string') {
    if (value.length > VARIABLE_LIMITS.maxObjectBytes) return { ok: false, expected, detail: 'is too large' };
    try {
      object = JSON.parse(value);
    } catch {
      return { ok: false, expected, detail: 'is not valid JSON' };
    }
  }
  if (!isPlainObject(object)) return { ok: false, expected };
  const problem = objectProblem(object, 1);
  if (problem) return { ok: false, expected, detail: problem };
  const text = JSON.stringify(object);
  if (utf8ByteLength(text) > VARIABLE_LIMITS.maxObjectBytes) {
    return { ok: false, expected, detail: `must be at most ${VARIABLE_LIMITS.maxObjectBytes} bytes as JSON` };
  }
  return { ok: true, value: JSON.parse(text) as unknown };
}

function objectProblem(value: unknown, depth: number): string | undefined {
  if (typeof value === 'string') {
    if (codePointLength(value) > VARIABLE_LIMITS.defaultMaxLength) {
      return `has a text longer than ${VARIABLE_LIMITS.defaultMaxLength} characters`;
    }
    return textProblem(value);
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : 'has a number that is not finite';
  if (value === null || typeof value === 'boolean') return undefined;
  if (depth > VARIABLE_LIMITS.maxObjectDepth) {
    return `is nested more than ${VARIABLE_LIMITS.maxObjectDepth} levels deep`;
  }
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const problem = objectProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return 'holds something that is not JSON';
  const keys = Object.keys(value);
  if (keys.length > VARIABLE_LIMITS.maxObjectKeys) {
    return `has an object with more than ${VARIABLE_LIMITS.maxObjectKeys} keys`;
  }
  for (const key of keys) {
    if (key === '__proto__') return 'uses the key "__proto__"';
    const problem = textProblem(key) ?? objectProblem(value[key], depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function maxLengthOf(variable: Variable, cap: number = VARIABLE_LIMITS.maxMaxLength): number {
  return Math.min(variable.max_length ?? Math.min(VARIABLE_LIMITS.defaultMaxLength, cap), cap);
}

/** Lower case, trimmed, without the trailing punctuation a transcript adds: "Yes." is "yes". */
function spoken(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[.!?]+$/, '');
}

function rangeText(variable: Variable): string {
  const { minimum, maximum } = variable;
  if (minimum !== undefined && maximum !== undefined) return ` from ${minimum} to ${maximum}`;
  if (minimum !== undefined) return ` of at least ${minimum}`;
  if (maximum !== undefined) return ` of at most ${maximum}`;
  return '';
}

function boundedExample(variable: Variable, fallback: number): number {
  if (variable.minimum !== undefined && fallback < variable.minimum) return variable.minimum;
  if (variable.maximum !== undefined && fallback > variable.maximum) return variable.maximum;
  return fallback;
}

/** The variable's own example when it is a short scalar, else the fallback. */
function exampleText(variable: Variable, fallback: number): string {
  const example = variable.type === 'array' ? undefined : variable.example;
  if (typeof example === 'number' && Number.isFinite(example)) return String(example);
  return String(fallback);
}
