import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TemplateError,
  compileJson,
  compileUrl,
  formEncode,
  renderForm,
  renderHeaders,
  renderJson,
  renderString,
  renderUrl,
  type Lookup,
} from '../../src/core/templates/index.ts';

const lookupOf =
  (values: Record<string, unknown>, declared: string[] = []): Lookup =>
  (ref) =>
    Object.hasOwn(values, ref)
      ? { found: true, value: values[ref] }
      : declared.includes(ref)
        ? { found: true, value: undefined }
        : { found: false };

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof TemplateError ? error.code : `unexpected ${String(error)}`;
  }
};

describe('renderUrl', () => {
  it.each([
    [
      'a path segment',
      'https://api.example.com/users/{{id}}',
      { id: '42' },
      'https://api.example.com/users/42',
    ],
    [
      'B01 traversal stays one segment',
      'https://api.example.com/v1/users/{{id}}',
      { id: '../../admin/users' },
      'https://api.example.com/v1/users/..%2F..%2Fadmin%2Fusers',
    ],
    ['a value with ? and #', 'https://h.example/a/{{id}}', { id: 'x?y#z' }, 'https://h.example/a/x%3Fy%23z'],
    [
      'a literal query and a templated one',
      'https://h.example/s?q={{q}}&limit=10',
      { q: 'shoes' },
      'https://h.example/s?q=shoes&limit=10',
    ],
    [
      'B06 query smuggling',
      'https://h.example/s?q={{q}}&limit=10',
      { q: 'shoes&limit=100000&admin=true' },
      'https://h.example/s?q=shoes%26limit%3D100000%26admin%3Dtrue&limit=10',
    ],
    [
      'a value spelling a placeholder is not expanded',
      'https://h.example/{{a}}',
      { a: '{{b}}', b: 'no' },
      'https://h.example/%7B%7Bb%7D%7D',
    ],
    [
      'a port and a trailing slash',
      'http://h.example:8080/a/{{x}}/',
      { x: 'y' },
      'http://h.example:8080/a/y/',
    ],
    ['unicode', 'https://h.example/{{x}}', { x: 'café ☕' }, 'https://h.example/caf%C3%A9%20%E2%98%95'],
  ])('%s', (_name, url, values, expected) => {
    expect(renderUrl({ url }, lookupOf(values))).toBe(expected);
  });

  it('adds the query map with literal names, and leaves out a parameter whose optional input is absent', () => {
    const url = renderUrl(
      {
        url: 'https://h.example/s',
        query: { include: 'tracking', order_id: '{{order_id}}', note: '{{note}}' },
      },
      lookupOf({ order_id: 'A 1' }, ['note']),
    );
    expect(url).toBe('https://h.example/s?include=tracking&order_id=A+1');
  });

  it.each([
    ['a value that is ..', { id: '..' }, 'UNSAFE_PATH'],
    ['a value that is .', { id: '.' }, 'UNSAFE_PATH'],
    ['an empty value', { id: '' }, 'UNSAFE_PATH'],
    ['a placeholder naming nothing', {}, 'UNKNOWN_REFERENCE'],
  ])('refuses %s in a path segment', (_name, values, code) => {
    expect(codeOf(() => renderUrl({ url: 'https://h.example/users/{{id}}' }, lookupOf(values)))).toBe(code);
  });

  it('refuses an absent optional value in the path', () => {
    expect(codeOf(() => renderUrl({ url: 'https://h.example/users/{{id}}' }, lookupOf({}, ['id'])))).toBe(
      'MISSING_VALUE',
    );
  });

  it.each([
    'https://{{host}}/x',
    'https://api.{{env}}.example.com/',
    'http{{s}}://h.example/',
    '{{url}}',
    'ftp://h.example/',
  ])('refuses placeholders in the scheme or host, and non-http schemes: %s', (url) => {
    expect(
      codeOf(() =>
        renderUrl({ url }, lookupOf({ host: 'evil.example', env: 'x', s: 's', url: 'https://evil.example' })),
      ),
    ).toBe('NOT_TEMPLATABLE');
  });
});

describe('renderHeaders', () => {
  it.each(['acme\r\nX-Admin: true', 'acme\nX-Admin: true', 'acme\rX', 'acme\0'])('B03 refuses %j', (name) => {
    expect(codeOf(() => renderHeaders({ 'X-Customer': '{{name}}' }, lookupOf({ name })))).toBe(
      'UNSAFE_HEADER',
    );
  });

  it('renders values, keeps names literal, and leaves out a header whose optional input is absent', () => {
    expect(
      renderHeaders(
        { 'X-Customer': 'id {{id}}', 'X-Note': '{{note}}', 'X-Fixed': 'agent' },
        lookupOf({ id: 7 }, ['note']),
      ),
    ).toEqual({
      'X-Customer': 'id 7',
      'X-Fixed': 'agent',
    });
  });
});

describe('renderJson', () => {
  it('B04: a value inside a string cannot add keys', () => {
    const body = renderJson({ name: '{{name}}', role: 'user' }, lookupOf({ name: 'x","role":"admin' }));
    expect(body).toEqual({ name: 'x","role":"admin', role: 'user' });
    expect(Object.keys(JSON.parse(JSON.stringify(body)) as object)).toEqual(['name', 'role']);
  });

  it('keeps types for a sole placeholder and interpolates inside longer strings', () => {
    const lookup = lookupOf({ count: 42, ok: true, tags: ['a'], id: 'A1' });
    expect(
      renderJson(
        {
          n: '{{count}}',
          b: '{{ ok }}',
          t: '{{tags}}',
          note: 'order {{id}} x{{count}}',
          nested: [{ id: '{{id}}' }],
        },
        lookup,
      ),
    ).toEqual({
      n: 42,
      b: true,
      t: ['a'],
      note: 'order A1 x42',
      nested: [{ id: 'A1' }],
    });
  });

  it('leaves out an object field whose optional input is absent, and refuses one in an array', () => {
    expect(renderJson({ a: '{{x}}', b: 1 }, lookupOf({}, ['x']))).toEqual({ b: 1 });
    expect(codeOf(() => renderJson({ a: ['{{x}}'] }, lookupOf({}, ['x'])))).toBe('MISSING_VALUE');
  });

  it('copies values, so later changes to the inputs cannot reach the rendered body', () => {
    const tags = ['a'];
    const body = renderJson({ t: '{{tags}}' }, lookupOf({ tags })) as { t: string[] };
    tags.push('b');
    expect(body.t).toEqual(['a']);
  });
});

describe('renderForm and renderString', () => {
  it('encodes form fields with URLSearchParams semantics', () => {
    expect(renderForm({ q: '{{q}}', page: '1' }, lookupOf({ q: 'a&b=c' }))).toBe('q=a%26b%3Dc&page=1');
  });

  it('refuses a placeholder that names nothing, never rendering an empty string', () => {
    expect(codeOf(() => renderString('Hello {{nobody}}', lookupOf({}), 'text'))).toBe('UNKNOWN_REFERENCE');
  });
});

/** Values an attacker (or a confused model) might send. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '/',
    '..',
    '.',
    '../..',
    '?',
    '#',
    '&',
    '=',
    '%',
    '%2e%2e',
    '%2F',
    '\\',
    '@',
    ':',
    '\r\n',
    '"',
    '{{b}}',
    '}}{{',
    '\u202e',
    ' ',
  ),
  fc
    .array(fc.constantFrom('/', '.', '?', '&', '=', '#', '%', '"', '{', '}', 'a', '\n', ' '), {
      maxLength: 20,
    })
    .map((parts) => parts.join('')),
);

describe('templates keep their structure for any value (docs/security.md G-04)', () => {
  const runs = { numRuns: 10_000 };

  it('URL: scheme, host, port, path-segment count and query keys never change', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const template = {
          url: 'https://api.example.com:8443/v1/users/{{v}}/orders?q={{v}}&limit=10',
          query: { extra: 'x{{v}}' },
        };
        let rendered: string;
        try {
          rendered = renderUrl(template, lookupOf({ v: value, b: 'expanded' }));
        } catch (error) {
          expect(error).toBeInstanceOf(TemplateError);
          return;
        }
        const url = new URL(rendered);
        expect(url.protocol).toBe('https:');
        expect(url.host).toBe('api.example.com:8443');
        expect(url.pathname.split('/')).toHaveLength(5);
        expect([...url.searchParams.keys()]).toEqual(['q', 'limit', 'extra']);
        expect(url.searchParams.get('q')).toBe(value);
        expect(url.searchParams.get('limit')).toBe('10');
        expect(rendered).not.toContain('expanded');
      }),
      runs,
    );
  });

  it('headers: the name set never changes and no value carries CR, LF or NUL', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        try {
          const headers = renderHeaders(
            { 'X-Customer': 'c-{{v}}', Accept: 'application/json' },
            lookupOf({ v: value, b: 'expanded' }),
          );
          expect(Object.keys(headers)).toEqual(['X-Customer', 'Accept']);
          for (const v of Object.values(headers)) expect(v).not.toMatch(/[\r\n\0]/);
          expect(headers['X-Customer']).not.toContain('expanded');
        } catch (error) {
          expect((error as TemplateError).code).toBe('UNSAFE_HEADER');
        }
      }),
      runs,
    );
  });

  it('JSON body: the key set never changes and values land as data', () => {
    fc.assert(
      fc.property(hostile, fc.jsonValue({ maxDepth: 3 }), (text, typed) => {
        const template = {
          name: '{{t}}',
          note: 'about {{t}}',
          role: 'user',
          data: '{{j}}',
          nested: { id: '{{t}}' },
        };
        const body = renderJson(template, lookupOf({ t: text, j: typed, b: 'expanded' })) as Record<
          string,
          unknown
        >;
        const wire = JSON.parse(JSON.stringify(body)) as Record<string, unknown>;
        expect(Object.keys(wire)).toEqual(['name', 'note', 'role', 'data', 'nested']);
        expect(wire.role).toBe('user');
        expect(wire.name).toBe(text);
        expect(Object.keys(wire.nested as object)).toEqual(['id']);
      }),
      runs,
    );
  });

  it('form body: the key multiset never changes', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const params = new URLSearchParams(renderForm({ q: '{{v}}', page: '1' }, lookupOf({ v: value })));
        expect([...params.keys()]).toEqual(['q', 'page']);
        expect(params.get('q')).toBe(value);
      }),
      runs,
    );
  });

  it('encodes form names and values exactly as URLSearchParams does, lone surrogates included', () => {
    fc.assert(
      fc.property(
        fc.oneof(hostile, fc.string({ unit: 'binary' })),
        fc.string({ unit: 'binary' }),
        (key, value) => {
          expect(`${formEncode(key)}=${formEncode(value)}`).toBe(
            new URLSearchParams([[key, value]]).toString(),
          );
        },
      ),
      runs,
    );
  });

  it('renders a compiled template as often as asked, the same as rendering it once', () => {
    const url = compileUrl({ url: 'https://h.example/a/{{id}}?q={{q}}', query: { page: '{{page}}' } });
    const values = lookupOf({ id: 'x/y', q: 'a b', page: 2 });
    const once = renderUrl(
      { url: 'https://h.example/a/{{id}}?q={{q}}', query: { page: '{{page}}' } },
      values,
    );
    for (let i = 0; i < 3; i++) expect(url(values)).toBe(once);
    const body = compileJson({ list: ['{{q}}', 1], fixed: { a: [1] } }, 'body', { clone: false });
    expect(body(values)).toEqual(renderJson({ list: ['{{q}}', 1], fixed: { a: [1] } }, values));
  });

  it('never evaluates: no eval, Function or vm in the template engine', async () => {
    const { readFile, readdir } = await import('node:fs/promises');
    const dir = new URL('../../src/core/templates/', import.meta.url);
    for (const file of await readdir(dir)) {
      const source = await readFile(new URL(file, dir), 'utf8');
      expect(source).not.toMatch(/\beval\(|new Function|\bFunction\(|node:vm/);
    }
  });
});
