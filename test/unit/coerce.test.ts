import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coerceValue } from '../../src/core/actions/coerce.ts';
import { parseDate } from '../../src/core/actions/dates.ts';
import { normalizeEmail } from '../../src/core/actions/email.ts';
import { parseNumberWords } from '../../src/core/actions/number-words.ts';
import type { Variable } from '../../src/core/actions/variables.ts';

// 23:30 UTC on 10 March 2026: already 11 March in Tokyo, still 10 March in Los Angeles.
const context = { now: new Date('2026-03-10T23:30:00Z'), timeZone: 'UTC' };

const v = (type: Variable['type'], extra: Partial<Variable> = {}): Variable => ({
  name: 'x',
  type,
  ...extra,
});

describe('coerceValue accepts what a transcript says', () => {
  it.each<[string, Variable, unknown, unknown]>([
    ['integer from a number', v('integer'), 42, 42],
    ['integer from 42.0 as a number', v('integer'), 42.0, 42],
    ['integer from "42"', v('integer'), '42', 42],
    ['integer from "42.0"', v('integer'), '42.0', 42],
    ['integer from "1,234"', v('integer'), '1,234', 1234],
    ['integer from " 42 "', v('integer'), ' 42 ', 42],
    ['integer from "-7"', v('integer'), '-7', -7],
    ['integer from "forty two"', v('integer'), 'forty two', 42],
    ['integer from "Forty-Two"', v('integer'), 'Forty-Two', 42],
    ['integer from "one hundred and five"', v('integer'), 'one hundred and five', 105],
    ['integer from "two thousand twenty six"', v('integer'), 'two thousand twenty six', 2026],
    ['integer -0 becomes 0', v('integer'), -0, 0],
    ['integer at its bounds', v('integer', { minimum: 1, maximum: 10 }), 'ten', 10],
    ['number from "3.14"', v('number'), '3.14', 3.14],
    ['number from "1,234.5"', v('number'), '1,234.5', 1234.5],
    ['number from ".5"', v('number'), '.5', 0.5],
    ['number from "twelve"', v('number'), 'twelve', 12],
    ['boolean true', v('boolean'), true, true],
    ['boolean from "yes"', v('boolean'), 'yes', true],
    ['boolean from "Yeah."', v('boolean'), 'Yeah.', true],
    ['boolean from "yep"', v('boolean'), 'yep', true],
    ['boolean from "Sure"', v('boolean'), 'Sure', true],
    ['boolean from "correct"', v('boolean'), 'correct', true],
    ['boolean from "Y"', v('boolean'), 'Y', true],
    ['boolean from "TRUE"', v('boolean'), 'TRUE', true],
    ['boolean from "1"', v('boolean'), '1', true],
    ['boolean from 1', v('boolean'), 1, true],
    ['boolean from "no"', v('boolean'), 'no', false],
    ['boolean from "Nope"', v('boolean'), 'Nope', false],
    ['boolean from "n"', v('boolean'), 'n', false],
    ['boolean from "false"', v('boolean'), 'false', false],
    ['boolean from "0"', v('boolean'), '0', false],
    ['boolean from 0', v('boolean'), 0, false],
    ['date as ISO', v('date'), '2026-11-23', '2026-11-23'],
    ['date from a date-time', v('date'), '2026-11-23T22:15:00-05:00', '2026-11-23'],
    ['date from "November 23, 2026"', v('date'), 'November 23, 2026', '2026-11-23'],
    ['email trimmed, domain lower-cased', v('email'), '  John.Smith@Example.COM ', 'John.Smith@example.com'],
    ['email spoken', v('email'), 'john dot smith at example dot com', 'john.smith@example.com'],
    ['phone', v('phone'), '+1 (415) 555-0100', '+14155550100'],
    ['enum case-insensitively', v('enum', { enum: ['Express', 'Standard'] }), 'express', 'Express'],
    ['enum ignoring spacing and _', v('enum', { enum: ['next_day', 'later'] }), 'Next Day', 'next_day'],
    ['enum from a number', v('enum', { enum: ['1', '2'] }), 2, '2'],
    ['string trimmed', v('string'), '  ORD-12345 ', 'ORD-12345'],
    ['string from a number', v('string'), 12345, '12345'],
    ['string at max_length', v('string', { max_length: 3 }), 'abc', 'abc'],
    ['string with emoji counts code points', v('string', { max_length: 2 }), '😀😀', '😀😀'],
    ['string keeps tabs and newlines', v('string'), 'a\tb\nc', 'a\tb\nc'],
    ['array of integers', v('array', { items: { type: 'integer' } }), ['1', 'two', 3], [1, 2, 3]],
    ['array from one value', v('array'), 'red', ['red']],
    ['array of enum', v('array', { items: { type: 'enum', enum: ['A', 'B'] } }), ['a', 'b'], ['A', 'B']],
    ['object', v('object'), { a: [1, { b: 'c' }] }, { a: [1, { b: 'c' }] }],
    ['object from JSON text', v('object'), '{"a":1}', { a: 1 }],
  ])('%s', (_name, variable, input, expected) => {
    expect(coerceValue(variable, input, context)).toEqual({ ok: true, value: expected });
  });
});

describe('coerceValue refuses, saying what it expected', () => {
  it.each<[string, Variable, unknown, string]>([
    ['integer with a fraction', v('integer'), '42.5', 'a whole number such as 42'],
    ['integer 42.5 as a number', v('integer'), 42.5, 'a whole number'],
    ['integer text', v('integer'), 'forty-two apples', 'a whole number'],
    ['integer digit by digit', v('integer'), 'four two', 'a whole number'],
    ['integer year style', v('integer'), 'twenty twenty six', 'a whole number'],
    ['integer with bad grouping', v('integer'), '1,23', 'a whole number'],
    ['integer beyond 2^53', v('integer'), 2 ** 60, 'too large'],
    ['integer below the minimum', v('integer', { minimum: 1 }), 0, 'at least 1'],
    ['integer above the maximum', v('integer', { maximum: 10 }), 'eleven', 'at most 10'],
    ['integer from a boolean', v('integer'), true, 'a whole number'],
    ['number from text', v('number'), 'lots', 'a number'],
    ['number from a huge string', v('number'), '9'.repeat(300), 'too long'],
    ['boolean from "maybe"', v('boolean'), 'maybe', 'yes or no'],
    ['boolean from 2', v('boolean'), 2, 'yes or no'],
    ['date ambiguous', v('date'), '03/04/2026', 'month by name'],
    ['date not a string', v('date'), 20261123, 'a date such as'],
    ['email without @', v('email'), 'john.example.com', 'one @'],
    ['email over max_length', v('email', { max_length: 10 }), 'john@example.com', 'at most 10'],
    ['phone as a number', v('phone'), 14155550100, 'starting with +'],
    ['phone with an extension', v('phone'), '+14155550100 ext 5', 'extensions'],
    [
      'enum not an option',
      v('enum', { enum: ['Express', 'Standard'] }),
      'overnight',
      'one of Express, Standard',
    ],
    ['string over max_length', v('string', { max_length: 3 }), 'abcd', 'at most 3 characters'],
    ['string over the default 4096', v('string'), 'x'.repeat(4097), 'at most 4096'],
    ['a 1 MB string', v('string'), 'x'.repeat(1 << 20), 'at most 4096'],
    ['string with a lone surrogate', v('string'), 'a\ud800b', 'unpaired surrogate'],
    ['string with NUL', v('string'), 'a\u0000b', 'control characters'],
    ['string from an object', v('string'), { a: 1 }, 'text of at most'],
    ['array with a bad item', v('array', { items: { type: 'integer' } }), [1, 'x'], 'invalid item 2'],
    ['array over 100 items', v('array'), Array.from({ length: 101 }, () => 'a'), 'at most 100 items'],
    ['object from an array', v('object'), [1, 2], 'a JSON object'],
    ['object from bad JSON', v('object'), '{a:1}', 'not valid JSON'],
    [
      'object too large',
      v('object'),
      { a: 'x'.repeat(4000), b: 'y'.repeat(4000), c: 'z'.repeat(300) },
      'bytes',
    ],
    ['object too deep', v('object'), JSON.parse('{"a":'.repeat(10) + '1' + '}'.repeat(10)), 'nested'],
    ['object with __proto__', v('object'), JSON.parse('{"__proto__":{"admin":true}}'), '__proto__'],
    ['object with a lone surrogate', v('object'), { a: '\udc00' }, 'unpaired surrogate'],
    ['object with a class instance', v('object'), new Date(0), 'a JSON object'],
  ])('%s', (_name, variable, input, fragment) => {
    const result = coerceValue(variable, input, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(`${result.detail ?? ''} ${result.expected}`).toContain(fragment);
  });
});

describe('parseNumberWords', () => {
  it.each<[string, number | undefined]>([
    ['zero', 0],
    ['seven', 7],
    ['nineteen', 19],
    ['forty two', 42],
    ['forty-two', 42],
    ['one hundred', 100],
    ['a hundred', 100],
    ['one hundred and five', 105],
    ['nine hundred ninety nine', 999],
    ['twelve hundred', 1200],
    ['nineteen hundred eighty four', 1984],
    ['two thousand twenty six', 2026],
    ['two thousand and twenty-six', 2026],
    ['a thousand', 1000],
    ['one million two hundred thousand', 1_200_000],
    ['three billion', 3e9],
    ['minus five', -5],
    ['negative twenty', -20],
    ['', undefined],
    ['and', undefined],
    ['minus', undefined],
    ['four two', undefined],
    ['twenty twenty six', undefined],
    ['twenty twelve', undefined],
    ['nineteen eighty four', undefined],
    ['hundred', undefined],
    ['thousand', undefined],
    ['one hundred hundred', undefined],
    ['one thousand one million', undefined],
    ['zero five', undefined],
    ['a', undefined],
    ['a five', undefined],
    ['forty two apples', undefined],
    ['constructor', undefined],
    ['toString', undefined],
    ['42', undefined],
  ])('%j is %s', (text, expected) => {
    expect(parseNumberWords(text)).toBe(expected);
  });

  it('reads back every number from 0 to 9999 as English writes it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9999 }), (n) => {
        expect(parseNumberWords(toWords(n))).toBe(n);
      }),
    );
  });
});

describe('parseDate', () => {
  it.each<[string, string, string]>([
    ['2026-11-23', 'UTC', '2026-11-23'],
    ['2028-02-29', 'UTC', '2028-02-29'],
    ['2026-11-23T10:00:00Z', 'UTC', '2026-11-23'],
    ['2026-11-23 10:00', 'UTC', '2026-11-23'],
    ['2026-11-23T23:59:59.123+14:00', 'UTC', '2026-11-23'],
    ['2026/11/23', 'UTC', '2026-11-23'],
    ['November 23, 2026', 'UTC', '2026-11-23'],
    ['november 23 2026', 'UTC', '2026-11-23'],
    ['23 November 2026', 'UTC', '2026-11-23'],
    ['Nov 23 2026', 'UTC', '2026-11-23'],
    ['Nov. 23, 2026', 'UTC', '2026-11-23'],
    ['Sept 1, 2026', 'UTC', '2026-09-01'],
    ['November 23rd, 2026', 'UTC', '2026-11-23'],
    ['the 23rd of November, 2026', 'UTC', '2026-11-23'],
    ['Monday, November 23, 2026', 'UTC', '2026-11-23'],
    ['today', 'UTC', '2026-03-10'],
    ['Today.', 'UTC', '2026-03-10'],
    ['tomorrow', 'UTC', '2026-03-11'],
    ['yesterday', 'UTC', '2026-03-09'],
    ['today', 'Asia/Tokyo', '2026-03-11'],
    ['tomorrow', 'Asia/Tokyo', '2026-03-12'],
    ['today', 'America/Los_Angeles', '2026-03-10'],
    ['yesterday', 'Pacific/Kiritimati', '2026-03-10'],
  ])('%j in %s is %s', (text, timeZone, expected) => {
    expect(parseDate(text, { now: context.now, timeZone })).toEqual({ ok: true, date: expected });
  });

  it.each([
    [
      'on the last day of the year, across the year boundary',
      '2026-12-31T11:30:00Z',
      'Pacific/Auckland',
      '2027-01-02',
    ],
    ['on the day clocks spring forward', '2026-03-08T10:00:00Z', 'America/New_York', '2026-03-09'],
    ['on the day clocks fall back', '2026-11-01T12:00:00Z', 'America/New_York', '2026-11-02'],
  ])('tomorrow %s', (_name, now, timeZone, expected) => {
    expect(parseDate('tomorrow', { now: new Date(now), timeZone })).toEqual({ ok: true, date: expected });
  });

  it.each([
    ['03/04/2026', 'month by name'],
    ['3-4-2026', 'month by name'],
    ['03.04.26', 'month by name'],
    ['13/04/2026', 'month by name'],
    ['03/04', 'month by name'],
    ['2026-02-29', 'no such date'],
    ['2026-13-01', 'no such date'],
    ['November 31, 2026', 'no such date'],
    ['November 23', 'include the year'],
    ['23 November', 'include the year'],
    ['November 23, 26', 'four digits'],
    ['Tuesday, November 23, 2026', 'not a Tuesday'],
    ['next Monday', 'not a date'],
    ['soon', 'not a date'],
    ['2026 November 23', 'not a date'],
    ['x'.repeat(100), 'too long'],
  ])('refuses %j', (text, reason) => {
    const result = parseDate(text, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('refuses today in an unknown time zone', () => {
    const result = parseDate('today', { now: context.now, timeZone: 'Mars/Olympus' });
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('Mars/Olympus') });
  });
});

describe('normalizeEmail', () => {
  it.each([
    ['a+tag@example.co.uk', 'a+tag@example.co.uk'],
    ['Jane_Doe@Sub.Example.ORG', 'Jane_Doe@sub.example.org'],
    ['jane underscore doe at example dot org', 'jane_doe@example.org'],
    ['mary dash jane AT mail DOT example DOT com', 'mary-jane@mail.example.com'],
    ['x@xn--bcher-kva.example', 'x@xn--bcher-kva.example'],
  ])('accepts %j', (input, email) => {
    expect(normalizeEmail(input, 254)).toEqual({ ok: true, email });
  });

  it.each([
    'plainaddress',
    'a@b@example.com',
    '@example.com',
    'john@',
    'john@localhost',
    'john@example',
    'john@-example.com',
    'john@example..com',
    'john..smith@example.com',
    '.john@example.com',
    '"john smith"@example.com',
    'john@[127.0.0.1]',
    'jöhn@example.com',
    'john@exämple.com',
    'mailto:john@example.com',
    'john@example.c',
    'john smith@example.com',
  ])('refuses %j', (input) => {
    expect(normalizeEmail(input, 254).ok).toBe(false);
  });
});

const SMALL =
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen'.split(
    ' ',
  );
const DECADES = 'twenty thirty forty fifty sixty seventy eighty ninety'.split(' ');

/** English words for 0..9999, the way the tests expect a transcript to write them. */
function toWords(n: number): string {
  if (n < 20) return SMALL[n]!;
  if (n < 100) return DECADES[Math.floor(n / 10) - 2]! + (n % 10 ? `-${SMALL[n % 10]}` : '');
  if (n < 1000) return `${SMALL[Math.floor(n / 100)]} hundred${n % 100 ? ` and ${toWords(n % 100)}` : ''}`;
  return `${toWords(Math.floor(n / 1000))} thousand${n % 1000 ? ` ${toWords(n % 1000)}` : ''}`;
}
