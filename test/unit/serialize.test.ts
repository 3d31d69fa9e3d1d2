/**
 * Parameter serialisation against OpenAPI 3.x's style examples table (the parameter `color` as the empty
 * string, "blue", ["blue","black","brown"] and {"R":100,"G":200,"B":150}), through the renderer an http
 * action uses: path placeholders, query parameters and headers. Then what a value may never do: add a
 * query key, a path segment or a header, whatever its items and keys hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Lookup,
  type Serialization,
  TemplateError,
  renderForm,
  renderHeaders,
  renderUrl,
  serializationProblem,
} from '../../src/core/templates/index.ts';

const VALUES = {
  empty: '',
  string: 'blue',
  array: ['blue', 'black', 'brown'],
  object: { R: 100, G: 200, B: 150 },
} as const;
type Column = keyof typeof VALUES;
const COLUMNS = Object.keys(VALUES) as Column[];

/** [style, explode, empty, string, array, object]; null where the table says n/a. */
type Row = [Serialization['style'], boolean, ...(string | null)[]];
const PATH_TABLE: Row[] = [
  ['matrix', false, ';color', ';color=blue', ';color=blue,black,brown', ';color=R,100,G,200,B,150'],
  ['matrix', true, ';color', ';color=blue', ';color=blue;color=black;color=brown', ';R=100;G=200;B=150'],
  ['label', false, '.', '.blue', '.blue,black,brown', '.R,100,G,200,B,150'],
  ['label', true, '.', '.blue', '.blue.black.brown', '.R=100.G=200.B=150'],
  ['simple', false, '', 'blue', 'blue,black,brown', 'R,100,G,200,B,150'],
  ['simple', true, '', 'blue', 'blue,black,brown', 'R=100,G=200,B=150'],
];
const QUERY_TABLE: Row[] = [
  ['form', false, 'color=', 'color=blue', 'color=blue,black,brown', 'color=R,100,G,200,B,150'],
  ['form', true, 'color=', 'color=blue', 'color=blue&color=black&color=brown', 'R=100&G=200&B=150'],
  ['spaceDelimited', false, null, null, 'color=blue%20black%20brown', 'color=R%20100%20G%20200%20B%20150'],
  ['pipeDelimited', false, null, null, 'color=blue%7Cblack%7Cbrown', 'color=R%7C100%7CG%7C200%7CB%7C150'],
  ['deepObject', true, null, null, null, 'color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150'],
];
/** Beyond the table, which leaves it undefined: a deepObject list as Stripe and Rails read it. */
const DEEP_OBJECT_LIST = 'color%5B%5D=blue&color%5B%5D=black&color%5B%5D=brown';

const cases = (table: Row[]) =>
  table.flatMap(([style, explode, ...expected]) =>
    COLUMNS.flatMap((column, i) => {
      const want = expected[i];
      return want === null || want === undefined ? [] : [{ style, explode, column, want }];
    }),
  );

const lookupOf =
  (values: Record<string, unknown>): Lookup =>
  (ref) =>
    Object.hasOwn(values, ref) ? { found: true, value: values[ref] } : { found: false };

describe("OpenAPI's style examples table", () => {
  it.each(cases(PATH_TABLE))(
    'path $style explode=$explode, $column → $want',
    ({ style, explode, column, want }) => {
      const url = renderUrl(
        {
          url: 'https://api.example.com/p/item{{color}}/end',
          serialization: { path: { color: { style, explode } } },
        },
        lookupOf({ color: VALUES[column] }),
      );
      expect(url).toBe(`https://api.example.com/p/item${want}/end`);
      expect(new URL(url).pathname.split('/')).toHaveLength(4);
    },
  );

  it.each(cases(QUERY_TABLE))(
    'query $style explode=$explode, $column → $want',
    ({ style, explode, column, want }) => {
      const url = renderUrl(
        {
          url: 'https://api.example.com/p',
          query: { color: '{{color}}' },
          serialization: { query: { color: { style, explode } } },
        },
        lookupOf({ color: VALUES[column] }),
      );
      expect(url).toBe(`https://api.example.com/p?${want}`);
    },
  );

  it.each(cases(PATH_TABLE.filter(([style]) => style === 'simple')))(
    'header $style explode=$explode, $column → $want',
    ({ style, explode, column, want }) => {
      const headers = renderHeaders({ 'X-Color': '{{color}}' }, lookupOf({ color: VALUES[column] }), {
        'X-Color': { style, explode },
      });
      expect(headers).toEqual({ 'X-Color': want });
    },
  );

  it('a nested deepObject value goes as name[key][inner], its lists as name[key][]', () => {
    const url = renderUrl(
      {
        url: 'https://api.example.com/p',
        query: { card: '{{card}}' },
        serialization: { query: { card: { style: 'deepObject' } } },
      },
      lookupOf({ card: { address: { city: 'Oslo' }, tags: ['a', 'b'] } }),
    );
    expect(decodeURIComponent(new URL(url).search)).toBe(
      '?card[address][city]=Oslo&card[tags][]=a&card[tags][]=b',
    );
  });

  it('a deepObject list goes as name[]=item for each item', () => {
    const url = renderUrl(
      {
        url: 'https://api.example.com/p',
        query: { color: '{{color}}' },
        serialization: { query: { color: { style: 'deepObject' } } },
      },
      lookupOf({ color: VALUES.array }),
    );
    expect(url).toBe(`https://api.example.com/p?${DEEP_OBJECT_LIST}`);
  });

  it.each([
    ['form', undefined, true],
    ['simple', undefined, false],
    ['label', undefined, false],
    ['matrix', undefined, false],
  ] as const)('%s without explode defaults to explode=%s', (style, _explode, explode) => {
    const place = style === 'form' ? 'query' : 'path';
    const defaulted = renderUrl(
      {
        url: 'https://api.example.com/p/{{color}}',
        query: { color: '{{color}}' },
        serialization: { [place]: { color: { style } } },
      },
      lookupOf({ color: VALUES.array }),
    );
    const explicit = renderUrl(
      {
        url: 'https://api.example.com/p/{{color}}',
        query: { color: '{{color}}' },
        serialization: { [place]: { color: { style, explode } } },
      },
      lookupOf({ color: VALUES.array }),
    );
    expect(defaulted).toBe(explicit);
  });

  it('a form body field takes the query styles (Stripe’s deepObject metadata)', () => {
    const body = renderForm(
      { email: '{{email}}', metadata: '{{metadata}}', locales: '{{locales}}' },
      lookupOf({ email: 'a@b.example', metadata: { order_id: '6735', 'a&b': 'c=d' }, locales: ['en', 'fr'] }),
      { metadata: { style: 'deepObject' }, locales: { style: 'form', explode: true } },
    );
    expect(body).toBe(
      'email=a%40b.example&metadata%5Border_id%5D=6735&metadata%5Ba%26b%5D=c%3Dd&locales=en&locales=fr',
    );
  });

  it('matrix writes the name it is given, not the variable', () => {
    const url = renderUrl(
      {
        url: 'https://api.example.com/p/{{color_id}}',
        serialization: { path: { color_id: { style: 'matrix', name: 'color-id' } } },
      },
      lookupOf({ color_id: 'blue' }),
    );
    expect(url).toBe('https://api.example.com/p/;color-id=blue');
  });

  it('a parameter without a serialisation keeps sending a list as JSON text (actions saved before it)', () => {
    const url = renderUrl(
      { url: 'https://api.example.com/p', query: { color: '{{color}}' } },
      lookupOf({ color: VALUES.array }),
    );
    expect(new URL(url).searchParams.get('color')).toBe('["blue","black","brown"]');
  });

  it('an optional parameter with no value is left out in every style', () => {
    const lookup: Lookup = (ref) => (ref === 'color' ? { found: true, value: undefined } : { found: false });
    const url = renderUrl(
      {
        url: 'https://api.example.com/p',
        query: { color: '{{color}}', page: '2' },
        serialization: { query: { color: { style: 'form', explode: true } } },
      },
      lookup,
    );
    expect(url).toBe('https://api.example.com/p?page=2');
  });
});

describe('styles that do not fit their place', () => {
  it.each([
    ['path', { style: 'deepObject' }, /not a style for a path parameter; use simple, label, matrix/],
    ['path', { style: 'form' }, /not a style for a path parameter/],
    ['query', { style: 'matrix' }, /not a style for a query parameter; use form/],
    ['header', { style: 'label' }, /use simple/],
    ['query', { style: 'spaceDelimited', explode: true }, /only with explode false/],
    ['query', { style: 'deepObject', explode: false }, /only with explode true/],
    ['query', { style: 'form', name: 'x' }, /only by the matrix style/],
  ] as const)('%s %j is refused', (place, s, message) => {
    expect(serializationProblem(place, s as Serialization)).toMatch(message);
  });

  it.each([
    ['path', { style: 'label', explode: true }],
    ['query', { style: 'deepObject' }],
    ['query', { style: 'pipeDelimited' }],
    ['header', { style: 'simple', explode: true }],
  ] as const)('%s %j is accepted', (place, s) => {
    expect(serializationProblem(place, s as Serialization)).toBeUndefined();
  });
});

/** Items and keys an attacker (or a confused model) might send. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '/',
    '..',
    '.',
    '?',
    '#',
    '&',
    '=',
    '%',
    ',',
    ';',
    '|',
    ' ',
    '[',
    ']',
    'a]&b[',
    '\r\n',
    '%2F',
  ),
);
const hostileValue = fc.oneof(
  hostileText,
  fc.array(hostileText, { maxLength: 5 }),
  fc.dictionary(hostileText, hostileText, { maxKeys: 5 }),
  fc.array(fc.array(hostileText, { maxLength: 2 }), { maxLength: 2 }),
  fc.dictionary(hostileText, fc.dictionary(hostileText, hostileText, { maxKeys: 3 }), { maxKeys: 3 }),
);
const anyStyle = <T extends string>(styles: readonly T[]) =>
  fc.record({ style: fc.constantFrom(...styles), explode: fc.boolean() });

const QUERY_STYLES = anyStyle(['form', 'spaceDelimited', 'pipeDelimited', 'deepObject']);

/** What `render` gives, or undefined when it refused the value on purpose (any other error fails). */
function rendered<T>(render: () => T): T | undefined {
  try {
    return render();
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    expect(['UNSAFE_PATH', 'UNSAFE_HEADER', 'UNSERIALIZABLE']).toContain((error as TemplateError).code);
    return undefined;
  }
}

describe('a serialised value keeps the request structure (any style, any value)', () => {
  const runs = { numRuns: 5_000 };

  it('query: the keys are the template’s, plus only a form/explode object’s own keys, never another parameter', () => {
    fc.assert(
      fc.property(hostileValue, QUERY_STYLES, (value, style) => {
        const text = rendered(() =>
          renderUrl(
            {
              url: 'https://api.example.com/p?fixed=1',
              query: { color: '{{color}}', limit: '10' },
              serialization: { query: { color: style } },
              reservedQueryKeys: ['api_key'],
            },
            lookupOf({ color: value }),
          ),
        );
        if (text === undefined) return;
        const url = new URL(text);
        expect(url.host).toBe('api.example.com');
        expect(url.pathname).toBe('/p');
        const keys = [...url.searchParams.keys()];
        expect(keys.filter((k) => k === 'fixed')).toEqual(['fixed']);
        expect(keys.filter((k) => k === 'limit')).toEqual(['limit']);
        expect(keys).not.toContain('api_key');
        expect(url.searchParams.get('limit')).toBe('10');
        const spread =
          style.style === 'form' &&
          style.explode &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          Object.keys(value).length > 0;
        for (const key of keys.filter((k) => k !== 'fixed' && k !== 'limit')) {
          if (spread) expect(Object.keys(value as object)).toContain(key);
          else if (style.style === 'deepObject') expect(key).toMatch(/^color(\[[^[\]]*\])+$/);
          else expect(key).toBe('color');
        }
      }),
      runs,
    );
  });

  it('form body: the keys are the template’s, plus only a form/explode object’s own, never another field', () => {
    fc.assert(
      fc.property(hostileValue, QUERY_STYLES, (value, style) => {
        const body = rendered(() =>
          renderForm(
            { metadata: '{{m}}', email: 'a@example.com' },
            lookupOf({ m: value }),
            { metadata: style },
            ['api_key'],
          ),
        );
        if (body === undefined) return;
        const form = new URLSearchParams(body);
        expect([...form.keys()].filter((k) => k === 'email')).toEqual(['email']);
        expect([...form.keys()]).not.toContain('api_key');
        expect(form.get('email')).toBe('a@example.com');
      }),
      runs,
    );
  });

  it('path: the segment count never changes', () => {
    fc.assert(
      fc.property(hostileValue, anyStyle(['simple', 'label', 'matrix']), (value, style) => {
        const text = rendered(() =>
          renderUrl(
            { url: 'https://api.example.com/a/{{color}}/b', serialization: { path: { color: style } } },
            lookupOf({ color: value }),
          ),
        );
        if (text === undefined) return;
        const url = new URL(text);
        expect(url.host).toBe('api.example.com');
        expect(url.pathname.split('/')).toHaveLength(4);
        expect(url.pathname.startsWith('/a/')).toBe(true);
        expect(url.pathname.endsWith('/b')).toBe(true);
        expect(url.search).toBe('');
      }),
      runs,
    );
  });

  it('headers: the name set never changes and no value carries CR, LF or NUL', () => {
    fc.assert(
      fc.property(hostileValue, fc.boolean(), (value, explode) => {
        const headers = rendered(() =>
          renderHeaders({ 'X-Color': '{{color}}', Accept: 'application/json' }, lookupOf({ color: value }), {
            'X-Color': { style: 'simple', explode },
          }),
        );
        if (headers === undefined) return;
        expect(Object.keys(headers)).toEqual(['X-Color', 'Accept']);
        for (const v of Object.values(headers)) expect(v).not.toMatch(/[\r\n\0]/);
      }),
      runs,
    );
  });
});
