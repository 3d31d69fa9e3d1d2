import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor, redactorFor, secretForms } from '../../src/core/redaction.ts';

const SECRET = 'p@ss"word/with+chars=\\and\nmore';

describe('Redactor', () => {
  const redactor = new Redactor([{ name: 'DB', value: SECRET }]);

  it.each(secretForms(SECRET).map((form) => [form]))('finds the form %j inside text', (form) => {
    expect(redactor.string(`before ${form} after`)).toBe('before [REDACTED:DB] after');
  });

  it('redacts keys and nested values, leaving other data alone', () => {
    expect(redactor.value({ a: [SECRET, { [SECRET]: 1 }], b: 2, c: null })).toEqual({
      a: ['[REDACTED:DB]', { '[REDACTED:DB]': 1 }],
      b: 2,
      c: null,
    });
  });

  it('gives the same result through the serialized text as through the walk, for any data and any form', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(...secretForms(SECRET)), (data, form) => {
        const value = { data, leaked: `x${form}y`, list: [form], echoed: JSON.stringify({ token: form }) };
        const viaText = redactor.json(value);
        // compared through JSON, which is all the value ever becomes (and which cannot tell -0 from 0)
        expect(viaText.value).toEqual(JSON.parse(JSON.stringify(redactor.value(value))));
        expect(JSON.parse(viaText.json)).toEqual(viaText.value);
      }),
      { numRuns: 2_000 },
    );
  });

  it.each([
    ['as is', (v: string) => v],
    ['in a JSON document carried as a string', (v: string) => JSON.stringify({ api_key: v })],
    [
      'in a JSON document inside another, as upstreams echo request bodies',
      (v: string) => JSON.stringify({ received: JSON.stringify({ api_key: v }) }),
    ],
    ['URL-encoded in a query string', (v: string) => `https://x.example/?key=${encodeURIComponent(v)}`],
    ['form-encoded', (v: string) => new URLSearchParams({ key: v }).toString()],
    ['base64-encoded', (v: string) => Buffer.from(v).toString('base64')],
  ])('leaves no trace of a secret %s, in either mode', (_name, place) => {
    const value = { response: { body: place(SECRET) }, output: [place(SECRET)] };
    for (const text of [JSON.stringify(redactor.value(value)), redactor.json(value).json]) {
      expect(text).not.toContain('word/with');
      expect(text).not.toContain(Buffer.from(SECRET).toString('base64'));
    }
  });

  it('redacts a short secret only where it is the whole string, and still through json()', () => {
    const short = new Redactor([{ name: 'PIN', value: '123' }]);
    expect(short.json({ pin: '123', note: 'order 1234' }).value).toEqual({
      pin: '[REDACTED:PIN]',
      note: 'order 1234',
    });
  });

  it('copies only the parts that held a secret, and gives back a clean value as it is', () => {
    const clean = { a: ['x', { b: 1 }], c: 'no secret here' };
    expect(redactor.value(clean)).toBe(clean);
    const mixed = { kept: { deep: [1, 2] }, leaked: [`x${SECRET}`], fine: 'ok' };
    const redacted = redactor.value(mixed);
    expect(redacted).not.toBe(mixed);
    expect(redacted.kept).toBe(mixed.kept);
    expect(redacted).toEqual({ kept: { deep: [1, 2] }, leaked: ['x[REDACTED:DB]'], fine: 'ok' });
    expect(mixed.leaked[0]).toBe(`x${SECRET}`);
  });

  it('reuses one redactor per set of secret values', () => {
    expect(redactorFor([{ name: 'A', value: 'value-a-123' }])).toBe(
      redactorFor([{ name: 'A', value: 'value-a-123' }]),
    );
    expect(redactorFor([]).empty).toBe(true);
    // names and values are told apart however they split
    expect(redactorFor([{ name: 'AB', value: 'value-1234' }])).not.toBe(
      redactorFor([{ name: 'A', value: 'Bvalue-1234' }]),
    );
  });
});
