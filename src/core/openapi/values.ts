/**
 * Reading a document someone else wrote: every field may be missing or of the wrong type, so fields are
 * read through these helpers and never trusted, and a reason an operation cannot be imported is an
 * ImportProblem whose message is shown to the user as is.
 */

export class ImportProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportProblem';
  }
}

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export const record = (value: unknown): Json => (isRecord(value) ? value : {});

export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function stringList(value: unknown): string[] {
  return list(value).filter((item): item is string => typeof item === 'string');
}

/** Own entries only, so a `__proto__` or `constructor` key in a document is just a key. */
export function entries(value: unknown): [string, unknown][] {
  return isRecord(value) ? Object.entries(value) : [];
}

/** Text for a user or a model: control characters become spaces, runs of blank lines shrink, cut at `max`. */
export function cleanText(value: string, max: number): string {
  const cleaned = value
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ')
    .replace(/\r\n?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .toWellFormed();
  return cleaned.length <= max ? cleaned : `${cleaned.slice(0, max - 1).trimEnd()}…`;
}

/** A value quoted for a message, kept short. */
export function quote(value: string, max = 80): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/** `target[key] = value` that keeps a `__proto__` key an ordinary own property. */
export function setEntry<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Any document value as text for a message or a comparison (an object as JSON, never "[object Object]"). */
export function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined ? '' : (JSON.stringify(value) ?? '');
}
