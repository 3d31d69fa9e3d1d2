/** What a code action can do: return JSON, await fetches, log, read its inputs and secrets, fail well. */
import { afterAll, describe, expect, it } from 'vitest';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import { fakeFetch, runner, valueOf } from './support.ts';

const sandbox = createQuickJsSandbox({ workers: 2 });
const run = runner(sandbox);
afterAll(() => sandbox.close());

describe('results', () => {
  it.each([
    ['a number', 'return 1 + 1', 2],
    [
      'nested JSON',
      'return { a: [1, "two", null, true, { b: 1.5 }], c: "é€😀" }',
      { a: [1, 'two', null, true, { b: 1.5 }], c: 'é€😀' },
    ],
    ['a NUL and a lone surrogate inside a string', 'return "a\\u0000b\\ud800c"', 'a\u0000b\ud800c'],
    ['undefined, as null', 'return undefined', null],
    ['no return at all, as null', 'const x = 1;', null],
    ['undefined properties, left out as JSON does', 'return { a: undefined, b: 1 }', { b: 1 }],
    ['a Date, through its toJSON', 'return new Date(0)', '1970-01-01T00:00:00.000Z'],
    ['NaN, as null as JSON does', 'return [NaN, Infinity]', [null, null]],
    ['an awaited value', 'return await Promise.all([1, Promise.resolve(2)])', [1, 2]],
    ['a value after several awaits', 'let n = 0; for (let i = 0; i < 100; i++) n += await i; return n', 4950],
  ])('returns %s', async (_name, source, expected) => {
    expect(valueOf(await run(source))).toEqual(expected);
  });

  it('reports the run: no logs, no fetches, a duration', async () => {
    const result = await run('return 1');
    expect(result).toMatchObject({ ok: true, logs: [], logsTruncated: false, fetches: 0 });
    expect(result.durationMs).toBeGreaterThan(0);
  });
});

describe('errors', () => {
  it.each([
    ['a thrown Error', 'const a = 1;\n\nthrow new Error("boom");', 'Error: boom', 3],
    ['a TypeError from the engine', 'let x = null;\nx.y;', "TypeError: cannot read property 'y' of null", 2],
    [
      'an error thrown after an await',
      'await 1;\nawait 2;\n\nthrow new RangeError("late")',
      'RangeError: late',
      4,
    ],
    [
      'an error from a nested function',
      'function f() {\n  throw new Error("deep");\n}\nf();',
      'Error: deep',
      2,
    ],
    ['a thrown string', '\nthrow "plain"', 'plain', undefined],
    ['a syntax error', 'const a = 1;\nconst b = ;\n', "SyntaxError: unexpected token in expression: ';'", 2],
    ['an unterminated block', 'if (true) {\n  return 1;\n', 'SyntaxError', 3],
    ['a static import', 'import fs from "fs";', 'SyntaxError', 1],
  ])('reports %s with its message and line', async (_name, source, message, line) => {
    const result = await run(source);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe('SANDBOX_ERROR');
    expect(result.message).toContain(message);
    expect(result.line).toBe(line);
    // the author's message only: no engine or host frames
    expect(result.message).not.toMatch(/ at |\.ts|node:|wasm/);
  });

  it('counts lines in the author source even when a helper threw', async () => {
    const result = await run('const x = 1;\nreturn atob("%%%");');
    expect(result).toMatchObject({ ok: false, code: 'SANDBOX_ERROR', line: 2 });
    if (!result.ok) expect(result.message).toContain('InvalidCharacterError');
  });
});

describe('inputs and secrets', () => {
  const inputs = { order: { id: 'A-1', lines: [{ sku: 'x', qty: 2 }] }, flag: true };

  it('reads inputs', async () => {
    expect(valueOf(await run('return inputs.order.lines[0].qty * 2', { inputs }))).toBe(4);
  });

  it('cannot change inputs: assignment has no effect in sloppy code and throws in strict code', async () => {
    const sloppy = await run(
      'inputs.flag = false; inputs.order.id = "B"; inputs.order.lines.push(1); return inputs',
      {
        inputs,
      },
    );
    expect(sloppy).toMatchObject({ ok: false, code: 'SANDBOX_ERROR' }); // push on a frozen array throws
    const quiet = await run('inputs.flag = false; inputs.order.id = "B"; inputs = 1; return inputs', {
      inputs,
    });
    expect(valueOf(quiet)).toEqual(inputs);
    const strict = await run('"use strict";\ninputs.order.id = "B";', { inputs });
    expect(strict).toMatchObject({ ok: false, code: 'SANDBOX_ERROR', line: 2 });
    const frozen = await run(
      'return [Object.isFrozen(inputs), Object.isFrozen(inputs.order.lines[0]), delete inputs.flag]',
      { inputs },
    );
    expect(valueOf(frozen)).toEqual([true, true, false]);
  });

  it('reads declared secrets only, read-only, with nothing inherited', async () => {
    const secrets = { API_KEY: 'k-123', OTHER: 'o' };
    const result = await run(
      `secrets.API_KEY = "changed"; secrets.NEW = 1; delete secrets.OTHER;
       return {
         key: secrets.API_KEY, undeclared: secrets.B, keys: Object.keys(secrets), names: Reflect.ownKeys(secrets),
         inherited: [secrets.toString, secrets.constructor, secrets.__proto__], frozen: Object.isFrozen(secrets),
         json: JSON.stringify(secrets),
       }`,
      { secrets },
    );
    expect(valueOf(result)).toEqual({
      key: 'k-123',
      keys: ['API_KEY', 'OTHER'],
      names: ['API_KEY', 'OTHER'],
      inherited: [null, null, null],
      frozen: true,
      json: '{"API_KEY":"k-123","OTHER":"o"}',
    });
  });
});

describe('fetch', () => {
  it('awaits several fetches, one after the other and together, with a Response-like answer', async () => {
    const host = fakeFetch({
      'https://api.test/a': {
        status: 200,
        statusText: 'OK',
        headers: { 'content-type': 'application/json', 'x-n': '1' },
        body: '{"n":1}',
      },
      'https://api.test/b': { status: 201, statusText: 'Created', body: 'plain' },
      'https://api.test/c': { status: 500, statusText: 'Oops', body: '' },
    });
    const result = await run(
      `const a = await fetch('https://api.test/a');
       const seen = [];
       a.headers.forEach((value, name) => seen.push(name + '=' + value));
       const first = { ok: a.ok, status: a.status, statusText: a.statusText, url: a.url, type: a.headers.get('Content-Type'),
         has: a.headers.has('X-N'), missing: a.headers.get('nope'), seen, entries: [...a.headers.entries()],
         json: await a.json(), used: a.bodyUsed };
       let second;
       try { await a.text(); } catch (e) { second = e.constructor.name + ': ' + e.message; }
       const [b, c] = await Promise.all([
         fetch('https://api.test/b', { method: 'post', headers: { 'X-Custom': 'v', 'N': 2 }, body: 'hello' }),
         fetch({ url: 'https://api.test/c' }, { headers: [['a', 'b']] }),
       ]);
       return { first, second, b: [b.ok, b.status, await b.text()], c: [c.ok, c.status] };`,
      { fetch: host.fetch },
    );
    expect(valueOf(result)).toEqual({
      first: {
        ok: true,
        status: 200,
        statusText: 'OK',
        url: 'https://api.test/a',
        type: 'application/json',
        has: true,
        missing: null,
        seen: ['content-type=application/json', 'x-n=1'],
        entries: [
          ['content-type', 'application/json'],
          ['x-n', '1'],
        ],
        json: { n: 1 },
        used: true,
      },
      second: 'TypeError: fetch: the response body has already been read',
      b: [true, 201, 'plain'],
      c: [false, 500],
    });
    expect(result.fetches).toBe(3);
    expect(host.calls).toEqual([
      { url: 'https://api.test/a', method: 'GET', headers: {}, body: null },
      { url: 'https://api.test/b', method: 'POST', headers: { 'x-custom': 'v', n: '2' }, body: 'hello' },
      { url: 'https://api.test/c', method: 'GET', headers: { a: 'b' }, body: null },
    ]);
  });

  it('turns a host rejection into a TypeError with its message, which the code may catch', async () => {
    const host = fakeFetch({ 'https://denied.test/': new Error('EGRESS_DENIED: the address is private') });
    const result = await run(
      `try { await fetch('https://denied.test/'); } catch (e) { return [e instanceof TypeError, e.message]; }`,
      { fetch: host.fetch },
    );
    expect(valueOf(result)).toEqual([true, 'EGRESS_DENIED: the address is private']);
  });

  it('refuses a body that is not a string before anything leaves', async () => {
    const host = fakeFetch();
    const result = await run(`await fetch('https://x.test/', { method: 'POST', body: { a: 1 } });`, {
      fetch: host.fetch,
    });
    expect(result).toMatchObject({ ok: false, code: 'SANDBOX_ERROR' });
    if (!result.ok) expect(result.message).toContain('TypeError: fetch: the body must be a string');
    expect(host.calls).toHaveLength(0);
  });

  it('passes a body with NUL characters and non-ASCII text intact', async () => {
    const host = fakeFetch({ 'https://x.test/': { status: 200, body: 'r\u0000é' } });
    const result = await run(
      `const r = await fetch('https://x.test/', { method: 'PUT', body: 'a\\u0000b€' }); return r.text();`,
      {
        fetch: host.fetch,
      },
    );
    expect(valueOf(result)).toBe('r\u0000é');
    expect(host.calls[0]?.body).toBe('a\u0000b€');
  });
});

describe('console', () => {
  it('captures every level, prefixed when not log, with values formatted', async () => {
    const result = await run(
      `console.log('a', 1, { b: [2] }, null, undefined);
       console.info('i'); console.warn('w'); console.error(new TypeError('bad')); console.debug(10n, Symbol('s'), () => 1);`,
    );
    expect(result.logs).toEqual([
      'a 1 {"b":[2]} null undefined',
      '[info] i',
      '[warn] w',
      '[error] TypeError: bad',
      '[debug] 10n Symbol(s) [Function anonymous]',
    ]);
    expect(result.logsTruncated).toBe(false);
  });

  it('cuts the log at the byte limit and marks it', async () => {
    const result = await run(
      `for (let i = 0; i < 1000; i++) console.log(i + ' ' + 'é'.repeat(100)); return 'done'`,
      {
        limits: { logBytes: 4096 },
      },
    );
    expect(valueOf(result)).toBe('done');
    expect(result.logsTruncated).toBe(true);
    const kept = result.logs.slice(0, -1);
    expect(Buffer.byteLength(kept.join(''))).toBeLessThanOrEqual(4096);
    expect(result.logs.at(-1)).toContain('log truncated');
    expect(kept.at(-1)).not.toContain('\ufffd'); // never cut inside a character
  });

  it('does not copy a huge line out of the engine', async () => {
    const result = await run(`console.log('x'.repeat(20 * 1024 * 1024)); return 1`);
    expect(valueOf(result)).toBe(1);
    expect(result.logsTruncated).toBe(true);
    expect(Buffer.byteLength(result.logs.join(''))).toBeLessThan(64 * 1024 + 200);
  });
});

describe('atob and btoa', () => {
  it('encode and decode Latin-1 strings, NUL included, as browsers do', async () => {
    const result = await run(
      `const bytes = String.fromCharCode(0, 1, 127, 128, 255);
       return [btoa('hello'), atob('aGVsbG8='), atob(' aGVs bG8 '), btoa(bytes), atob(btoa(bytes)) === bytes, atob('YQ')];`,
    );
    expect(valueOf(result)).toEqual([
      'aGVsbG8=',
      'hello',
      'hello',
      Buffer.from([0, 1, 127, 128, 255]).toString('base64'),
      true,
      'a',
    ]);
  });

  it.each([
    ['btoa of a character outside Latin-1', 'btoa("€")'],
    ['atob of a character outside the alphabet', 'atob("a*bc")'],
    ['atob of a bad length', 'atob("abcde")'],
  ])('throws InvalidCharacterError for %s', async (_name, expression) => {
    const result = await run(`try { ${expression}; } catch (e) { return e.name; }`);
    expect(valueOf(result)).toBe('InvalidCharacterError');
  });
});

describe('eval inside the guest', () => {
  it('evaluates guest code in the guest, with nothing more than the guest has', async () => {
    const result = await run(
      'return [eval("1 + 1"), eval("typeof process"), new Function("return typeof require")(), eval("inputs.a")]',
      { inputs: { a: 5 } },
    );
    expect(valueOf(result)).toEqual([2, 'undefined', 'undefined', 5]);
  });
});

describe('many runs in a row', () => {
  it('runs 600 mixed runs (values, errors, logs, fetches) on fresh contexts without leaking', async () => {
    const host = fakeFetch({ 'https://x.test/': { status: 200, body: '{"v":1}' } });
    const sources = [
      'globalThis.leak = (globalThis.leak || 0) + 1; return globalThis.leak',
      'console.log("x"); return [1, 2, 3]',
      'throw new Error("e")',
      'const r = await fetch("https://x.test/"); return (await r.json()).v',
      'return {',
      'return Object.keys(globalThis).length',
    ];
    const results = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        run(sources[i % sources.length] as string, { fetch: host.fetch }),
      ),
    );
    for (const [i, result] of results.entries()) {
      const kind = i % sources.length;
      if (kind === 0) expect(valueOf(result)).toBe(1); // a fresh global every time
      if (kind === 1) expect(result.logs).toEqual(['x']);
      if (kind === 2 || kind === 4) expect(result).toMatchObject({ ok: false, code: 'SANDBOX_ERROR' });
      if (kind === 3) expect(valueOf(result)).toBe(1);
    }
    const stats = sandbox.stats();
    expect(stats.workers).toBe(2);
    expect(stats.crashes).toBe(0);
    expect(stats.hardKills).toBe(0);
  });
});
