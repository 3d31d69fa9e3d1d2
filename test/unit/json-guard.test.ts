import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { parseGuardedJson } from '../../src/core/json-guard.ts';

const limits = { maxDepth: 64, maxStringLength: 100 };

function codeOf(text: string): string {
  try {
    parseGuardedJson(text, limits);
    return 'ok';
  } catch (error) {
    return error instanceof AppError ? error.code : `unexpected ${(error as Error).name}`;
  }
}

describe('parseGuardedJson', () => {
  it.each([
    ['a plain object', '{"a":1,"b":[1,2,{"c":"d"}]}', 'ok'],
    ['64 levels of nesting', '['.repeat(64) + ']'.repeat(64), 'ok'],
    ['65 levels of nesting', '['.repeat(65) + ']'.repeat(65), 'DEPTH_EXCEEDED'],
    ['a million open brackets', '['.repeat(1_000_000) + ']'.repeat(1_000_000), 'DEPTH_EXCEEDED'],
    ['brackets inside strings do not count', JSON.stringify({ s: '['.repeat(90) }), 'ok'],
    ['duplicate keys', '{"a":1,"a":2}', 'INVALID_JSON'],
    ['duplicate keys spelled with escapes', '{"a":1,"\\u0061":2}', 'INVALID_JSON'],
    ['the same key in sibling objects', '[{"a":1},{"a":2}]', 'ok'],
    ['the same key at different depths', '{"a":{"a":1}}', 'ok'],
    ['a __proto__ key', '{"__proto__":{"admin":true}}', 'VALIDATION_FAILED'],
    ['trailing garbage', '{"a":1} x', 'INVALID_JSON'],
    ['a byte order mark', '\ufeff{"a":1}', 'INVALID_JSON'],
    ['comments', '{"a":1 /* c */}', 'INVALID_JSON'],
    ['single quotes', "{'a':1}", 'INVALID_JSON'],
    ['a raw NUL', '{"a":"\u0000"}', 'INVALID_JSON'],
    ['an escaped NUL', '{"a":"x\\u0000y"}', 'VALIDATION_FAILED'],
    ['a lone surrogate', '{"a":"\\ud800"}', 'VALIDATION_FAILED'],
    ['a paired surrogate', '{"a":"\\ud83d\\ude00"}', 'ok'],
    ['1e400 overflows to Infinity', '{"n":1e400}', 'VALIDATION_FAILED'],
    ['a string over the limit', JSON.stringify({ s: 'x'.repeat(101) }), 'VALIDATION_FAILED'],
    ['a string at the limit', JSON.stringify({ s: 'x'.repeat(100) }), 'ok'],
  ])('%s', (_name, text, expected) => {
    expect(codeOf(text)).toBe(expected);
  });

  it('turns -0 into 0, at the top level and inside containers', () => {
    expect(Object.is(parseGuardedJson('-0', limits), 0)).toBe(true);
    const value = parseGuardedJson('{"a":-0,"b":[-0]}', limits) as { a: number; b: number[] };
    expect(Object.is(value.a, 0)).toBe(true);
    expect(Object.is(value.b[0], 0)).toBe(true);
  });

  it('names the path of the offending value', () => {
    try {
      parseGuardedJson('{"list":[{"name":"\\ud800"}]}', limits);
      expect.unreachable();
    } catch (error) {
      expect((error as AppError).path).toBe('/list/0/name');
    }
  });
});
