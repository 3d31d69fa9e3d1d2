import { AppError } from './errors.ts';

/**
 * Parses untrusted JSON text with the ingress policy of docs/security.md F02, F03, F05 and B11:
 * - nesting deeper than `maxDepth` is refused before JSON.parse allocates anything;
 * - duplicate keys are refused (JSON.parse would silently keep the last one);
 * - `__proto__` keys are refused;
 * - strings longer than `maxStringLength`, holding lone surrogates or NUL are refused;
 * - numbers that overflow to Infinity are refused; `-0` becomes `0`.
 */
export interface JsonGuardLimits {
  maxDepth: number;
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonGuardLimits = Object.freeze({ maxDepth: 64, maxStringLength: 65_536 });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export function parseGuardedJson(text: string, limits: JsonGuardLimits = DEFAULT_JSON_LIMITS): unknown {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new AppError('INVALID_JSON', 'The body starts with a byte order mark; send plain UTF-8 JSON');
  }
  const duplicate = scanStructure(text, limits.maxDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AppError('INVALID_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (duplicate) {
    throw new AppError('INVALID_JSON', `Duplicate key "${duplicate}" in the JSON body; send each key once`);
  }
  return checkValues(value, limits, '', undefined, undefined);
}

/**
 * For JSON someone else wrote (an upstream response): only the nesting depth is checked before
 * JSON.parse, so a million `[` cannot exhaust the stack of whatever walks the result (docs/security.md H12).
 */
export function parseJsonWithDepthLimit(text: string, maxDepth: number): unknown {
  scanStructure(text, maxDepth, false);
  return JSON.parse(text);
}

/**
 * One pass over the text, tracking only strings and brackets: throws on excess depth, and returns the
 * first duplicate key it finds (reported after JSON.parse, so a syntax error is named as such first).
 */
function scanStructure(text: string, maxDepth: number, trackKeys = true): string | undefined {
  const isObject = new Uint8Array(maxDepth + 2);
  const keys: (Set<string> | undefined)[] = [];
  let depth = 0;
  let expectingKey = false;
  let duplicate: string | undefined;

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = i + 1;
      let escaped = false;
      while (end < text.length) {
        const d = text.charCodeAt(end);
        if (d === BACKSLASH) {
          escaped = true;
          end += 2;
        } else if (d === QUOTE) break;
        else end++;
      }
      if (trackKeys && expectingKey && isObject[depth] === 1 && duplicate === undefined) {
        const raw = text.slice(i + 1, end);
        const key = escaped ? decodeKey(raw) : raw;
        if (key === '__proto__') {
          throw new AppError('VALIDATION_FAILED', 'The key "__proto__" is not allowed in a JSON body');
        }
        let seen = keys[depth];
        if (!seen) keys[depth] = seen = new Set();
        if (seen.has(key)) duplicate = key;
        seen.add(key);
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > maxDepth) {
        throw new AppError('DEPTH_EXCEEDED', `The JSON body is nested deeper than ${maxDepth} levels`);
      }
      isObject[depth] = c === OPEN_OBJECT ? 1 : 0;
      keys[depth] = undefined;
      expectingKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectingKey = false;
    } else if (c === COMMA) {
      expectingKey = isObject[depth] === 1;
    } else if (c === COLON) {
      expectingKey = false;
    }
  }
  return duplicate;
}

function decodeKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // malformed escape: JSON.parse of the whole text reports it
  }
}

type Container = Record<string, unknown> | unknown[];

function checkValues(
  value: unknown,
  limits: JsonGuardLimits,
  path: string,
  parent: Container | undefined,
  key: string | number | undefined,
): unknown {
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) {
        throw new AppError(
          'VALIDATION_FAILED',
          `A string is longer than ${limits.maxStringLength} characters`,
          {
            path: path || '/',
          },
        );
      }
      if (!value.isWellFormed()) {
        throw new AppError('VALIDATION_FAILED', 'A string holds an unpaired UTF-16 surrogate', {
          path: path || '/',
        });
      }
      // F03: NUL is never data here (and PostgreSQL cannot store it in text or jsonb)
      if (value.includes('\u0000')) {
        throw new AppError('VALIDATION_FAILED', 'A string holds a NUL character', { path: path || '/' });
      }
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new AppError('VALIDATION_FAILED', 'A number is too large to represent', { path: path || '/' });
      }
      if (Object.is(value, -0) && parent !== undefined && key !== undefined) {
        (parent as Record<string | number, unknown>)[key] = 0;
      }
      return Object.is(value, -0) ? 0 : value;
    case 'object':
      if (value === null) return value;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkValues(value[i], limits, `${path}/${i}`, value, i);
        return value;
      }
      for (const [k, v] of Object.entries(value)) {
        if (k.length > limits.maxStringLength || !k.isWellFormed()) {
          throw new AppError('VALIDATION_FAILED', 'An object key is too long or not well-formed', {
            path: path || '/',
          });
        }
        checkValues(v, limits, `${path}/${escapePointer(k)}`, value as Record<string, unknown>, k);
      }
      return value;
    default:
      return value;
  }
}

/** RFC 6901 escaping for one JSON Pointer segment. */
export const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');
