/**
 * docs/security.md C (resources) and G-07: C04, C06, C07, C08, C10, C11, async starvation, and the
 * hard kill behind the engine's own limits. Deadlines are shortened so the suite stays fast; the bound
 * checked is always "deadline + 250 ms".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxResult } from '../../src/core/ports/sandbox.ts';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import { fakeFetch, MB, runner, timed, valueOf } from './support.ts';

const GRACE_MS = 250;
const sandbox = createQuickJsSandbox({ workers: 2, hardKillGraceMs: GRACE_MS });
const run = runner(sandbox, { timeoutMs: 500 });
afterAll(() => sandbox.close());
// the workers start with the first runs; the timed cases measure the deadline, not the pool's start-up
beforeAll(async () => {
  await Promise.all([run('return 1'), run('return 2')]);
});

function expectFailure(result: SandboxResult, code: string): void {
  expect(result.ok ? 'ok' : `${result.code}: ${result.message}`).toMatch(new RegExp(`^${code}`));
}

async function expectServing(): Promise<void> {
  const { result, ms } = await timed(() => run('return inputs.n * 2', { inputs: { n: 21 } }));
  expect(valueOf(result)).toBe(42);
  expect(ms).toBeLessThan(250);
}

describe('C04: CPU loops stop at the deadline', () => {
  it.each([
    ['while (true) {}', 'while (true) {}'],
    ['a loop after an await', 'await null; for (;;) {}'],
    ['a loop inside a promise job', 'await Promise.resolve().then(() => { while (true) {} })'],
    ['a loop inside a getter read while serializing', 'return { get x() { for (;;) {} } }'],
    ['a loop inside toJSON while logging', 'console.log({ toJSON() { for (;;) {} } })'],
    ['catastrophic regex backtracking', "return /^(a+)+$/.test('a'.repeat(40) + 'b')"],
    ['a loop that catches everything', 'for (;;) { try { for (;;) {} } catch (e) {} }'],
  ])('%s: SANDBOX_TIMEOUT within deadline + 250 ms, then the worker serves', async (_name, source) => {
    const { result, ms } = await timed(() => run(source));
    expectFailure(result, 'SANDBOX_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThanOrEqual(500 + GRACE_MS);
    await expectServing();
  });
});

describe('async starvation', () => {
  it('ends a run awaiting a promise nothing can settle, without waiting for the deadline', async () => {
    const { result, ms } = await timed(() => run('await new Promise(() => {}); return 1'));
    expectFailure(result, 'SANDBOX_TIMEOUT');
    expect(ms).toBeLessThan(500 + GRACE_MS);
  });

  it('ends an endless chain of promise jobs by the deadline', async () => {
    const { result, ms } = await timed(() =>
      run('const f = () => Promise.resolve().then(f); f(); await new Promise(() => {});'),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(['SANDBOX_TIMEOUT', 'SANDBOX_MEMORY']).toContain(result.code);
    expect(ms).toBeLessThanOrEqual(500 + GRACE_MS);
    await expectServing();
  });

  it('ends a run waiting on a fetch that never answers at the deadline, and aborts that fetch', async () => {
    const host = fakeFetch({ 'https://slow.test/': 'hang' });
    const { result, ms } = await timed(() =>
      run('await fetch("https://slow.test/"); return 1', { fetch: host.fetch }),
    );
    expectFailure(result, 'SANDBOX_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(490);
    expect(ms).toBeLessThanOrEqual(500 + GRACE_MS);
    expect(host.signals[0]?.aborted).toBe(true);
  });
});

describe('C06: memory bombs stop at the cap', () => {
  it.each([
    ["'x'.repeat(2 ** 28)", "return 'x'.repeat(2 ** 28).length"],
    ['pushing 1 MB Uint8Arrays', 'const a = []; for (;;) a.push(new Uint8Array(2 ** 20));'],
    ['growing strings', "const a = []; for (let i = 0; ; i++) a.push('x'.repeat(1000) + i);"],
    ['growing objects', 'const a = []; for (let i = 0; ; i++) a.push({ i, s: [i, i] });'],
    [
      'catching out-of-memory and going on',
      'const a = []; for (;;) { try { a.push(new Uint8Array(2 ** 20)); } catch (e) {} }',
    ],
  ])('%s: SANDBOX_MEMORY, engine memory and process RSS bounded', async (_name, source) => {
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 2);
    const { result, ms } = await timed(() => run(source, { limits: { timeoutMs: 3_000 } }));
    clearInterval(sampler);
    expectFailure(result, 'SANDBOX_MEMORY');
    expect(ms).toBeLessThan(3_000);
    // the engine's memory never exceeds its start (16 MB) + the 64 MB cap; the process grows by < 3x cap
    expect(sandbox.stats().peakWasmBytes).toBeLessThanOrEqual(16 * MB + 64 * MB);
    expect(rssPeak - rssBefore).toBeLessThanOrEqual(3 * 64 * MB);
    await expectServing();
  });
});

describe('C07: engine-fatal allocations are contained', () => {
  it.each([
    ['new Array(2 ** 32 - 1) filled', 'const a = new Array(2 ** 32 - 1); a.fill(0);', 'SANDBOX_MEMORY'],
    ['an ArrayBuffer of 2 GB', 'new ArrayBuffer(2 ** 31);', 'SANDBOX_ERROR'],
    ['an ArrayBuffer of 1 GB', 'new ArrayBuffer(2 ** 30);', 'SANDBOX_MEMORY'],
    ['a typed array of 2^32 elements', 'new Float64Array(2 ** 32);', 'SANDBOX_'],
    ['an array grown by length', 'const a = []; a.length = 2 ** 32 - 1; a.push(1);', 'SANDBOX_ERROR'],
    [
      'an array sorted at huge length',
      'const a = []; a[2 ** 32 - 2] = 1; a.sort(); return a.length',
      'SANDBOX_',
    ],
  ])('%s: a typed failure, and the pool keeps serving', async (_name, source, code) => {
    const result = await run(source);
    expectFailure(result, code);
    await expectServing();
    expect(sandbox.stats().crashes).toBe(0);
  });
});

describe('C08: unbounded recursion', () => {
  it.each([
    ['const f = () => f(); f()', 'const f = () => f(); f();'],
    [
      'mutual recursion through getters',
      'const o = { get a() { return this.b; }, get b() { return this.a; } }; o.a;',
    ],
    ['recursion through toString', 'const o = { toString() { return String(o); } }; String(o);'],
    ['deeply nested source', "eval('('.repeat(100000) + '1' + ')'.repeat(100000));"],
    ['deeply nested JSON.parse', "JSON.parse('['.repeat(1e6));"],
  ])('%s: a catchable error inside the guest, typed SANDBOX_ERROR', async (_name, source) => {
    const result = await run(source);
    expectFailure(result, 'SANDBOX_ERROR');
    await expectServing();
  });

  it('lets the code catch the overflow and go on', async () => {
    const result = await run('const f = (n) => f(n + 1); try { f(0); } catch (e) { return e.message; }');
    expect(valueOf(result)).toBe('stack overflow');
  });

  it('handles an action source nested 100,000 deep as a syntax error', async () => {
    const result = await run('return ' + '['.repeat(100_000));
    expectFailure(result, 'SANDBOX_ERROR');
    expect(sandbox.stats().crashes).toBe(0);
  });
});

describe('C10: fetch flood', () => {
  it('10,000 sequential calls: 20 reach the host, the rest throw FETCH_BUDGET_EXCEEDED', async () => {
    const host = fakeFetch({ 'https://api.test/': { status: 200, body: 'ok' } });
    const result = await run(
      `let refused = 0, other = 0;
       for (let i = 0; i < 10000; i++) {
         try { await fetch('https://api.test/'); }
         catch (e) { if (e instanceof TypeError && e.message.includes('FETCH_BUDGET_EXCEEDED')) refused++; else other++; }
       }
       return { refused, other };`,
      { fetch: host.fetch, limits: { timeoutMs: 5_000 } },
    );
    expect(valueOf(result)).toEqual({ refused: 9_980, other: 0 });
    expect(host.calls).toHaveLength(20);
    expect(result.fetches).toBe(20);
  });

  it('1,000 parallel calls: at most 20 reach the host, never more than 4 at once', async () => {
    const host = fakeFetch({ 'https://api.test/': { status: 200, body: 'ok' } }, 10);
    const result = await run(
      `const outcomes = await Promise.all(Array.from({ length: 1000 }, () =>
         fetch('https://api.test/').then((r) => 'ok', (e) => e.message.includes('FETCH_BUDGET_EXCEEDED') ? 'refused' : e.message)));
       return { ok: outcomes.filter((o) => o === 'ok').length, refused: outcomes.filter((o) => o === 'refused').length };`,
      { fetch: host.fetch, limits: { timeoutMs: 5_000 } },
    );
    expect(valueOf(result)).toEqual({ ok: 20, refused: 980 });
    expect(host.calls).toHaveLength(20);
    expect(host.maxConcurrent).toBe(4);
  });

  it('keeps the budget per run: the next run gets its own 20', async () => {
    const host = fakeFetch({ 'https://api.test/': { status: 200, body: 'ok' } });
    const source =
      'let n = 0; for (let i = 0; i < 25; i++) { try { await fetch("https://api.test/"); n++; } catch {} } return n;';
    expect(valueOf(await run(source, { fetch: host.fetch }))).toBe(20);
    expect(valueOf(await run(source, { fetch: host.fetch, limits: { maxFetches: 3 } }))).toBe(3);
    expect(host.calls).toHaveLength(23);
  });
});

describe('C11: pathological outputs', () => {
  // these check what comes out, not time: a loaded CI machine must not turn them into timeouts
  const run = runner(sandbox, { timeoutMs: 5_000 });

  it.each([
    ['a 500 MB string', "return 'x'.repeat(500 * 1024 * 1024);", 'SANDBOX_MEMORY'],
    ['a 2 MB string', "return 'x'.repeat(2 * 1024 * 1024);", 'OUTPUT_TOO_LARGE'],
    ['a million small items', "return '0'.repeat(1e6).split('');", 'OUTPUT_TOO_LARGE'],
    ['a 1 MB string of two-byte characters', "return 'é'.repeat(600 * 1024);", 'OUTPUT_TOO_LARGE'],
    [
      'a circular object',
      'const o = { a: {} }; o.a.b = o; return o;',
      'OUTPUT_INVALID: The returned value contains a circular reference',
    ],
    [
      'a 10,000-deep object',
      'let o = {}; for (let i = 0; i < 10000; i++) o = { o }; return o;',
      'OUTPUT_INVALID: The returned value is nested',
    ],
    [
      'a 33-deep array',
      'let o = 1; for (let i = 0; i < 33; i++) o = [o]; return o;',
      'OUTPUT_INVALID: The returned value is nested deeper than 32',
    ],
    ['a BigInt', 'return { n: 10n };', 'OUTPUT_INVALID: The returned value contains a BigInt'],
    ['a Symbol', 'return [Symbol("s")];', 'OUTPUT_INVALID: The returned value contains a Symbol'],
    ['a function', 'return { f() {} };', 'OUTPUT_INVALID: The returned value contains a function'],
    [
      'a Proxy whose traps throw',
      'return new Proxy({}, { ownKeys() { throw new Error("trap"); } });',
      'OUTPUT_INVALID: Reading the returned value threw',
    ],
    [
      'a Proxy that recurses forever',
      'const p = new Proxy({}, { get: () => p, ownKeys: () => ["a"], getOwnPropertyDescriptor: () => ({ value: p, enumerable: true, configurable: true }) }); return p;',
      'OUTPUT_INVALID',
    ],
    [
      'a getter that throws',
      'return { get x() { throw new Error("no"); } };',
      'OUTPUT_INVALID: Reading the returned value threw: no',
    ],
    [
      'a revoked Proxy',
      'const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return { proxy };',
      'OUTPUT_INVALID',
    ],
  ])('%s: %s', async (_name, source, expected) => {
    const result = await run(source);
    expectFailure(result, expected);
    await expectServing();
  });

  it.each([
    ['32 levels deep', 'let o = 1; for (let i = 0; i < 32; i++) o = [o]; return o;'],
    ['just under 1 MB', "return 'x'.repeat(1024 * 1024 - 2);"],
    ['an array of 400,000 zeros (800 KB)', 'return new Array(400000).fill(0);'],
    ['many keys', 'const o = {}; for (let i = 0; i < 50000; i++) o["key" + i] = i; return o;'],
    ['a plain Proxy, read through its traps', 'return new Proxy({ a: 1 }, {});'],
  ])('accepts a value at the limits: %s', async (_name, source) => {
    const result = await run(source);
    expect(result.ok).toBe(true);
  });
});
