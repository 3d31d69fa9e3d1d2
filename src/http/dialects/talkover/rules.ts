/**
 * Talkover validates like Laravel: every field is checked, and a 422 lists each failing field with
 * Laravel's sentences ("The name field is required.", "The selected type is invalid."). A FieldChecker
 * reads one object's fields with those rules and collects the messages under dotted field names
 * (`inputs.0.name`); nested objects share the parent's error map.
 *
 * As Laravel's default middleware does, strings are trimmed and an empty string counts as absent.
 */
export type FieldErrors = Record<string, string[]>;

/** Laravel's name for a field in a sentence: underscores become spaces (`authorization_url`). */
const attribute = (field: string): string => field.replaceAll('_', ' ');

export const message = {
  required: (f: string) => `The ${attribute(f)} field is required.`,
  requiredWhen: (f: string, other: string, value: string) =>
    `The ${attribute(f)} field is required when ${attribute(other)} is ${value}.`,
  prohibitedWhen: (f: string, other: string, value: string) =>
    `The ${attribute(f)} field is prohibited when ${attribute(other)} is ${value}.`,
  string: (f: string) => `The ${attribute(f)} must be a string.`,
  integer: (f: string) => `The ${attribute(f)} must be an integer.`,
  boolean: (f: string) => `The ${attribute(f)} field must be true or false.`,
  array: (f: string) => `The ${attribute(f)} must be an array.`,
  object: (f: string) => `The ${attribute(f)} must be an object.`,
  maxLength: (f: string, max: number) => `The ${attribute(f)} must not be greater than ${max} characters.`,
  maxItems: (f: string, max: number) => `The ${attribute(f)} must not have more than ${max} items.`,
  between: (f: string, min: number, max: number) => `The ${attribute(f)} must be between ${min} and ${max}.`,
  prohibitedUnless: (f: string, other: string, value: string) =>
    `The ${attribute(f)} field is prohibited unless ${attribute(other)} is ${value}.`,
  in: (f: string) => `The selected ${attribute(f)} is invalid.`,
  url: (f: string) => `The ${attribute(f)} must be a valid URL.`,
  distinct: (f: string) => `The ${attribute(f)} field has a duplicate value.`,
  format: (f: string) => `The ${attribute(f)} format is invalid.`,
} as const;

type Values = Readonly<Record<string, unknown>>;

const isObject = (value: unknown): value is Values =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Missing, null, or a blank string: absent, as Laravel sees it after trimming. */
const absent = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

export class FieldChecker {
  readonly errors: FieldErrors;
  readonly #values: Values;
  readonly #prefix: string;

  constructor(values: unknown, errors: FieldErrors = {}, prefix = '') {
    this.#values = isObject(values) ? values : {};
    this.errors = errors;
    this.#prefix = prefix;
  }

  /** The checker of a nested object (`inputs.0`), reporting into the same map. */
  nested(field: string, values: unknown): FieldChecker {
    return new FieldChecker(values, this.errors, `${this.#prefix}${field}.`);
  }

  /** The full dotted name of one of this object's fields. */
  name(field: string): string {
    return `${this.#prefix}${field}`;
  }

  /** Records a message for the field; returns undefined, so a reader can `return this.fail(...)`. */
  fail(field: string, text: string): undefined {
    (this.errors[this.name(field)] ??= []).push(text);
    return undefined;
  }

  failed(field: string): boolean {
    return this.errors[this.name(field)] !== undefined;
  }

  /** Given with a value (an empty list counts as not given). */
  present(field: string): boolean {
    const value = this.#values[field];
    return !absent(value) && !(Array.isArray(value) && value.length === 0);
  }

  raw(field: string): unknown {
    return this.#values[field];
  }

  /** A string of at most `max` characters, trimmed; undefined when absent (an error if `required`). */
  string(field: string, max: number, required = false): string | undefined {
    const value = this.#values[field];
    if (absent(value)) {
      if (required) this.fail(field, message.required(this.name(field)));
      return undefined;
    }
    if (typeof value !== 'string') return this.fail(field, message.string(this.name(field)));
    const text = value.trim();
    if (text.length > max) return this.fail(field, message.maxLength(this.name(field), max));
    return text;
  }

  /** One of `values`. */
  oneOf<T extends string>(field: string, values: readonly T[], required = false): T | undefined {
    const text = this.string(field, 255, required);
    if (text === undefined) return undefined;
    if (!(values as readonly string[]).includes(text)) return this.fail(field, message.in(this.name(field)));
    return text as T;
  }

  /** An absolute http or https URL (Laravel's `url` rule, narrowed to what a webhook can call). */
  url(field: string, max: number): string | undefined {
    const text = this.string(field, max);
    if (text === undefined) return undefined;
    const parsed = URL.canParse(text) ? new URL(text) : undefined;
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.hostname === '')
      return this.fail(field, message.url(this.name(field)));
    return text;
  }

  /** An integer from `min` to `max`; a string of digits counts, as Laravel's `integer` rule allows. */
  integer(field: string, min: number, max: number): number | undefined {
    const value = this.#values[field];
    if (absent(value)) return undefined;
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
          ? Number(value)
          : NaN;
    if (!Number.isInteger(number)) return this.fail(field, message.integer(this.name(field)));
    if (number < min || number > max) return this.fail(field, message.between(this.name(field), min, max));
    return number;
  }

  /** true or false; 1, 0, "1" and "0" count, as Laravel's `boolean` rule allows. */
  boolean(field: string): boolean | undefined {
    const value = this.#values[field];
    if (absent(value)) return undefined;
    if (typeof value === 'boolean') return value;
    if (value === 1 || value === '1') return true;
    if (value === 0 || value === '0') return false;
    return this.fail(field, message.boolean(this.name(field)));
  }

  /** A list of at most `max` items (absent: empty). */
  array(field: string, max: number, required = false): unknown[] {
    const value = this.#values[field];
    if (absent(value) || (Array.isArray(value) && value.length === 0)) {
      if (required) this.fail(field, message.required(this.name(field)));
      return [];
    }
    if (!Array.isArray(value)) this.fail(field, message.array(this.name(field)));
    else if (value.length > max) this.fail(field, message.maxItems(this.name(field), max));
    else return value;
    return [];
  }

  /** A JSON object (absent: undefined). */
  object(field: string): Values | undefined {
    const value = this.#values[field];
    if (absent(value)) return undefined;
    if (!isObject(value)) return this.fail(field, message.object(this.name(field)));
    return value;
  }

  /** Records that `field` must not be given in this case; returns whether it was. */
  prohibit(field: string, other: string, value: string): boolean {
    if (!this.present(field)) return false;
    this.fail(field, message.prohibitedWhen(this.name(field), other, value));
    return true;
  }
}
