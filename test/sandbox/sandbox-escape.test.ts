/**
 * docs/security.md C (escapes): C01, C02, C13, C14, C15, and G-06's property that nothing of the
 * host is reachable from guest code. A canary env var and a canary file exist in this test process only;
 * no probe may read either, and every probe's output, logs and error text are searched for them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxResult } from '../../src/core/ports/sandbox.ts';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import { fakeFetch, runner, valueOf } from './support.ts';

const sandbox = createQuickJsSandbox({ workers: 2 });
const run = runner(sandbox, { timeoutMs: 2_000 });

const ENV_CANARY = `env-canary-${crypto.randomUUID()}`;
const FILE_CANARY = `file-canary-${crypto.randomUUID()}`;
const SECRET_CANARY = `secret-canary-${crypto.randomUUID()}`;
let canaryDir = '';
let canaryFile = '';

beforeAll(() => {
  process.env.SWITCHBOARD_SANDBOX_CANARY = ENV_CANARY;
  canaryDir = mkdtempSync(join(tmpdir(), 'sandbox-canary-'));
  canaryFile = join(canaryDir, 'canary.txt');
  writeFileSync(canaryFile, FILE_CANARY);
});

afterAll(async () => {
  delete process.env.SWITCHBOARD_SANDBOX_CANARY;
  rmSync(canaryDir, { recursive: true, force: true });
  await sandbox.close();
});

/** Everything a run hands back, as one string, to search for canaries and host traces. */
function everything(result: SandboxResult): string {
  return JSON.stringify(result);
}

function expectNoLeak(result: SandboxResult): void {
  const text = everything(result);
  expect(text).not.toContain(ENV_CANARY);
  expect(text).not.toContain(FILE_CANARY);
  expect(text).not.toContain(SECRET_CANARY);
  expect(text).not.toMatch(/\/work\/|node:internal|\.ts:\d|wasm:\/\//);
}

/** The standard library QuickJS provides, plus the five globals a code action gets. Nothing else. */
const GLOBALS = [
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'Function',
  'Infinity',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'InternalError',
  'Iterator',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'Symbol',
  'SyntaxError',
  'TypeError',
  'URIError',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'WeakMap',
  'WeakSet',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'eval',
  'globalThis',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'undefined',
  'unescape',
  'atob',
  'btoa',
  'console',
  'fetch',
  'inputs',
  'secrets',
  'Symbol(Symbol.toStringTag)',
].sort();

describe('C01: constructor chains reach only the guest global', () => {
  it('has exactly the expected globals, and no host object among them', async () => {
    const result = await run('return Reflect.ownKeys(globalThis).map(String).sort()');
    expect(valueOf(result)).toEqual(GLOBALS);
  });

  it.each([
    ['this.constructor.constructor', "return this.constructor.constructor('return typeof process')()"],
    ['an arrow function constructor', "return (() => {}).constructor('return globalThis')() === globalThis"],
    [
      'the async function constructor',
      "return await (async () => {}).constructor('return typeof require')()",
    ],
    [
      'the generator function constructor',
      "return (function* () {}).constructor('return typeof module')().next().value",
    ],
    [
      'template-literal property names',
      'return this[`constructor`][`constructor`](`return typeof Buffer`)()',
    ],
    ['a host-provided function', "return console.log.constructor('return this')() === globalThis"],
    ['the fetch function', "return fetch.constructor('return typeof process')()"],
    [
      'a fetch response method',
      "const r = await fetch('https://x.test/'); return r.text.constructor('return typeof process')()",
    ],
    [
      'Function on a bound function',
      "return Function.prototype.bind.call(Function, null, 'return typeof process')()()",
    ],
    ['a string-keyed global lookup', "return typeof globalThis['pro' + 'cess']"],
    ['indirect eval', "return (0, eval)('typeof require')"],
  ])('%s', async (_name, source) => {
    const result = await run(source, { fetch: fakeFetch().fetch });
    expect([true, 'undefined']).toContain(valueOf(result));
    expectNoLeak(result);
  });

  it.each([
    'process',
    'require',
    'module',
    'exports',
    'Buffer',
    '__dirname',
    'global',
    'setTimeout',
    'setImmediate',
    'queueMicrotask',
    'structuredClone',
    'WebAssembly',
    'SharedArrayBuffer',
    'Atomics',
    'WeakRef',
    'FinalizationRegistry',
    'XMLHttpRequest',
    'WebSocket',
    'Deno',
    'Bun',
    'std',
    'os',
    'scriptArgs',
    'print',
  ])('%s is absent', async (name) => {
    const result = await run(`return [typeof ${name}, ${JSON.stringify(name)} in globalThis]`);
    expect(valueOf(result)).toEqual(['undefined', false]);
  });
});

describe('C02: stack-trace tricks reach no host frame', () => {
  it('has no V8 stack API: prepareStackTrace is never called, captureStackTrace is absent', async () => {
    const result = await run(
      `let called = false;
       Error.prepareStackTrace = (e, frames) => { called = true; return frames; };
       const stack = new Error('x').stack;
       return [called, typeof stack, typeof Error.captureStackTrace, typeof Error.stackTraceLimit];`,
    );
    expect(valueOf(result)).toEqual([false, 'string', 'undefined', 'undefined']);
  });

  it('shows only guest frames in stacks, even for errors raised while the host is calling back into the guest', async () => {
    const result = await run(
      `const stacks = [];
       const grab = () => { try { null.x; } catch (e) { stacks.push(e.stack); } };
       console.log({ toJSON() { grab(); return 1; } });
       const r = await fetch('https://x.test/');
       r.headers.forEach(() => grab());
       await r.json().catch((e) => stacks.push(e.stack));
       try { atob('*'); } catch (e) { stacks.push(e.stack); }
       const err = new Error('m');
       Object.defineProperty(err, 'stack', { get() { grab(); return 'custom'; } });
       stacks.push(err.stack);
       return stacks;`,
      {
        fetch: fakeFetch({ 'https://x.test/': { status: 200, headers: { a: '1' }, body: 'not json' } }).fetch,
      },
    );
    const stacks = valueOf(result) as string[];
    expect(stacks.length).toBeGreaterThanOrEqual(5);
    for (const stack of stacks) {
      for (const frame of stack.split('\n').filter(Boolean)) {
        // the author's file, the sandbox's own guest-side files, engine built-ins, JSON.parse's "<input>"
        expect(frame).toMatch(
          /\((action\.js|switchboard-[a-z0-9]+\.js|native)(:\d+:\d+)?\)$|^custom$|at (action\.js|<input>|<eval>)[:\d]*$/,
        );
      }
    }
    expectNoLeak(result);
  });

  it('a thrown error with a hostile stack getter yields the message only', async () => {
    const result = await run(
      `const e = new Error('boom');
       Object.defineProperty(e, 'stack', { get() { throw new Error('getter'); } });
       throw e;`,
    );
    expect(result).toMatchObject({ ok: false, code: 'SANDBOX_ERROR' });
    expectNoLeak(result);
  });
});

describe('C13: no dynamic loading, no WebAssembly, no shared memory', () => {
  it.each([
    [
      'import()',
      "try { await import('fs'); return 'loaded'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'import() of a data URL',
      "try { await import('data:text/javascript,export default 1'); return 'loaded'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'require',
      "try { require('child_process'); return 'loaded'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'process.binding',
      "try { process.binding('fs'); return 'loaded'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'WebAssembly.compile',
      "try { await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); return 'compiled'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'SharedArrayBuffer and Atomics.wait',
      "try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); return 'waited'; } catch (e) { return e.name; }",
      'ReferenceError',
    ],
    [
      'a SharedArrayBuffer reached through a prototype',
      "return Object.getOwnPropertyNames(Object.getPrototypeOf(Int8Array.prototype).constructor).includes('SharedArrayBuffer')",
      false,
    ],
  ])('%s is unavailable', async (_name, source, expected) => {
    const result = await run(source);
    expect(valueOf(result)).toBe(expected);
  });

  it('refuses module syntax outright', async () => {
    const result = await run(
      "import { readFileSync } from 'fs';\nreturn readFileSync('/etc/passwd', 'utf8');",
    );
    expect(result).toMatchObject({ ok: false, code: 'SANDBOX_ERROR' });
  });
});

describe('C14: secret scoping', () => {
  it('injects only the declared secrets; undeclared reads are undefined; nothing is looked up by name', async () => {
    const result = await run(
      `return {
         declared: secrets.A, undeclared: secrets.B, other: secrets.SECRET_CANARY, keys: Object.keys(secrets),
         forIn: (() => { const k = []; for (const name in secrets) k.push(name); return k; })(),
         descriptor: Object.getOwnPropertyDescriptor(secrets, 'A'),
       }`,
      { secrets: { A: 'value-a' } },
    );
    expect(valueOf(result)).toEqual({
      declared: 'value-a',
      keys: ['A'],
      forIn: ['A'],
      descriptor: { value: 'value-a', writable: false, enumerable: true, configurable: false },
    });
  });

  it('gives a run no secret another run was given', async () => {
    await run('return secrets.TOKEN', { secrets: { TOKEN: SECRET_CANARY } });
    const result = await run('return [secrets.TOKEN, Object.keys(secrets), globalThis.leaked]');
    expect(valueOf(result)).toEqual([null, [], null]);
    expectNoLeak(result);
  });
});

describe('C15: no filesystem or environment reachable', () => {
  const probes = [
    'return typeof process === "undefined" ? "no process" : process.env.SWITCHBOARD_SANDBOX_CANARY',
    'return globalThis.process?.env',
    'return Function("return this")().process?.env',
    'return eval("typeof require") === "function" ? require("fs").readFileSync(CANARY_FILE, "utf8") : "no require"',
    'try { return (await import(CANARY_FILE)).default; } catch (e) { return e.message; }',
    'try { return (await import("os")).homedir(); } catch (e) { return e.message; }',
    'try { return std.loadFile(CANARY_FILE); } catch (e) { return e.message; }',
    'try { return os.getenv("SWITCHBOARD_SANDBOX_CANARY"); } catch (e) { return e.message; }',
    'const r = await fetch("file://" + CANARY_FILE); return r.text();',
    'const r = await fetch("/proc/self/environ"); return r.text();',
    'return [typeof scriptArgs, typeof print, typeof __filename]',
  ];

  it.each(probes)('%s', async (probe) => {
    const host = fakeFetch();
    const result = await run(probe.replaceAll('CANARY_FILE', JSON.stringify(canaryFile)), {
      fetch: host.fetch,
    });
    expectNoLeak(result);
    // a fetch is only ever a request handed to the host function, never a read of a local file
    for (const call of host.calls) expect(call.url).not.toContain(FILE_CANARY);
  });
});
