import { BoundedCache } from './bounded-cache.ts';

/**
 * Redaction by value: every secret an execution touched is replaced wherever it appears in what is
 * recorded, returned or logged, in each form a leak could take (docs/security.md G-10, E02, E08).
 */
export interface SecretValue {
  name: string;
  value: string;
}

/** Below this length a value is redacted only where it is a whole string: redacting every "ab" would shred records. */
const MIN_SUBSTRING_LENGTH = 4;

const utf8 = new TextEncoder();

function toBase64(bytes: Uint8Array, url: boolean): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const b64 = btoa(binary);
  return url ? b64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '') : b64;
}

const jsonEscaped = (text: string): string => JSON.stringify(text).slice(1, -1);

/** The spellings a secret may take on its way into a record. */
export function secretForms(value: string): string[] {
  const bytes = utf8.encode(value);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const forms = [
    value,
    toBase64(bytes, false),
    toBase64(bytes, false).replace(/=+$/, ''),
    toBase64(bytes, true),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    jsonEscaped(value),
    // a JSON document carried as a string (an upstream echoing a JSON body back as text)
    jsonEscaped(jsonEscaped(value)),
  ];
  return [...new Set(forms)].filter((form) => form.length > 0);
}

/** Up to this many forms, searching for each is quicker than one pass of their alternation. */
const FEW_FORMS = 16;

/** False when `text` surely holds none of `forms` (it is searched for each when they are few). */
const mayHold = (text: string, forms: readonly string[]): boolean =>
  forms.length > FEW_FORMS || forms.some((form) => text.includes(form));

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const redactionMarker = (name: string): string => `[REDACTED:${name}]`;

export class Redactor {
  readonly #pattern: RegExp | undefined;
  readonly #names = new Map<string, string>();
  /** The forms as they appear inside JSON text (escaped once more), for redacting serialized values. */
  readonly #jsonPattern: RegExp | undefined;
  readonly #jsonNames = new Map<string, string>();
  readonly #whole = new Map<string, string>();
  /** No string shorter than this can hold a redactable form. */
  #shortest = Infinity;
  /** The forms, as searched in text and in JSON text, longest first. */
  readonly #forms: readonly string[];
  readonly #jsonForms: readonly string[];

  constructor(secrets: readonly SecretValue[]) {
    for (const { name, value } of secrets) {
      if (value.length === 0) continue;
      if (value.length < MIN_SUBSTRING_LENGTH) {
        this.#whole.set(value, name);
        continue;
      }
      for (const form of secretForms(value)) {
        if (!this.#names.has(form)) this.#names.set(form, name);
        this.#shortest = Math.min(this.#shortest, form.length);
      }
    }
    const forms = [...this.#names.keys()].sort((a, b) => b.length - a.length);
    this.#forms = forms;
    this.#pattern = forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
    for (const [form, name] of this.#names) {
      const inJson = JSON.stringify(form).slice(1, -1);
      if (!this.#jsonNames.has(inJson)) this.#jsonNames.set(inJson, name);
    }
    const jsonForms = [...this.#jsonNames.keys()].sort((a, b) => b.length - a.length);
    this.#jsonForms = jsonForms;
    this.#jsonPattern =
      jsonForms.length > 0 ? new RegExp(jsonForms.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  get empty(): boolean {
    return this.#pattern === undefined && this.#whole.size === 0;
  }

  string(text: string): string {
    const whole = this.#whole.get(text);
    if (whole !== undefined) return redactionMarker(whole);
    if (!this.#pattern || text.length < this.#shortest || !mayHold(text, this.#forms)) return text;
    return text.replace(this.#pattern, (match) => redactionMarker(this.#names.get(match) ?? 'secret'));
  }

  /**
   * A value and its JSON, redacted, from one pass over the serialized text instead of a walk over the
   * object. Inside JSON text a string's content is escaped, so each form is searched escaped the same way
   * (a string that is itself JSON, such as an upstream body, then holds it escaped twice). A match across
   * an escape sequence or JSON structure leaves text that does not parse, and a secret too short to match
   * inside text needs whole-string matching: both fall back to the walk, so the result always equals it.
   */
  json<T>(value: T): { value: T; json: string } {
    const text = JSON.stringify(value);
    if (this.empty || (this.#whole.size === 0 && text.length < this.#shortest)) return { value, json: text };
    if (this.#whole.size === 0 && this.#jsonPattern) {
      if (!mayHold(text, this.#jsonForms)) return { value, json: text };
      const redacted = text.replace(this.#jsonPattern, (match) =>
        redactionMarker(this.#jsonNames.get(match) ?? 'secret'),
      );
      if (redacted === text) return { value, json: text };
      try {
        return { value: JSON.parse(redacted) as T, json: redacted };
      } catch {
        // fall through to the walk
      }
    }
    const walked = this.value(value);
    return { value: walked, json: JSON.stringify(walked) };
  }

  /** True if `text` holds a secret in any recognised form. */
  finds(text: string): boolean {
    return this.string(text) !== text;
  }

  /**
   * `value` with every string (and key) redacted: the parts holding a secret are copied, the rest is
   * shared, and a value with nothing to redact comes back as it is, unallocated. Depth is bounded by the
   * ingress and response guards.
   */
  value<T>(value: T): T {
    if (this.empty) return value;
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.string(value);
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const redacted = this.#walk(item);
        if (out === undefined && redacted !== item) out = value.slice(0, i);
        out?.push(redacted);
      }
      return out ?? value;
    }
    if (value !== null && typeof value === 'object') {
      const source = value as Record<string, unknown>;
      const keys = Object.keys(source);
      let out: Record<string, unknown> | undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const child = source[key];
        const redactedKey = this.string(key);
        const redacted = this.#walk(child);
        if (out === undefined && (redactedKey !== key || redacted !== child)) {
          out = {};
          for (const earlier of keys.slice(0, i)) define(out, earlier, source[earlier]);
        }
        if (out !== undefined) define(out, redactedKey, redacted);
      }
      return out ?? value;
    }
    return value;
  }
}

/** Defined, not assigned: a "__proto__" key from parsed JSON stays an own property, as in the text. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export const NO_REDACTION = new Redactor([]);

const redactors = new BoundedCache<string, Redactor>(500);

/**
 * The redactor for a set of secret values, built once per set: computing every encoded form and the
 * pattern for each execution would cost more than the redaction itself.
 */
export function redactorFor(secrets: readonly SecretValue[]): Redactor {
  if (secrets.length === 0) return NO_REDACTION;
  // each part length-prefixed, so no two sets share a key
  let key = '';
  for (const { name, value } of secrets) key += `${name.length}:${name}${value.length}:${value}`;
  return redactors.get(key, () => new Redactor(secrets));
}
