/**
 * A fresh QuickJS runtime and context with the prelude evaluated, made while the worker is idle so that a
 * run does not wait for it (creating the runtime and parsing the prelude is most of a trivial run's cost).
 * Each one serves exactly one run and is then disposed: no runtime or context is ever reused across runs.
 * While still idle, the worker may also compile the guest's fetch into it, and the source of the run it
 * expects next (the author's function, created and not called): the run then only calls it.
 *
 * Its host functions and interrupt handler call whichever run is bound to it; before that they do nothing.
 * Every handle taken here or by the run is disposed before the context and runtime: a leaked handle makes
 * QuickJS abort when the runtime is freed.
 */
import type {
  QuickJSContext,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import {
  BASE64_MODULE,
  CONSOLE_MODULE,
  FETCH_MODULE,
  PRELUDE,
  PRELUDE_FILENAME,
  USER_FILENAME,
  wrapSource,
} from './guest-prelude.ts';
import type { MemoryGuard } from './memory-guard.ts';

export interface Engine {
  module: QuickJSWASMModule;
  guard: MemoryGuard;
  /** Size of the engine's memory when the worker became ready. */
  baseBytes: number;
}

/** What a run provides to the guest through the prelude's host functions. None of them may throw. */
export interface HostSide {
  interrupt(): boolean;
  log(level: QuickJSHandle, line: QuickJSHandle, length: QuickJSHandle): QuickJSHandle;
  base64(mode: QuickJSHandle, text: QuickJSHandle): QuickJSHandle;
  fetch(request: QuickJSHandle): QuickJSHandle;
}

/**
 * QuickJS's own stack limit, so deep recursion is a catchable error in the guest. The worker's native
 * stack must be far larger (STACK_SIZE_MB in quickjs-sandbox.ts): parsing deeply nested source uses
 * about 28 bytes of native stack per byte of QuickJS stack, and a native overflow corrupts the engine.
 */
const MAX_STACK_BYTES = 256 * 1024;
/** Each step of preparing runs only our own code or compiles the author's; this bounds it all the same. */
const PREPARE_TIMEOUT_MS = 1_000;
const PREPARE_HEADROOM_BYTES = 8 * 1024 * 1024;
const MODULES: Readonly<Record<string, string>> = {
  console: CONSOLE_MODULE,
  base64: BASE64_MODULE,
  fetch: FETCH_MODULE,
};

export class PreparedContext {
  readonly rt: QuickJSRuntime;
  readonly ctx: QuickJSContext;
  /** The prelude's `setup(inputsJson, secretsJson, logChars) => serialize`. */
  readonly setup: QuickJSHandle;
  readonly #handles: QuickJSHandle[] = [];
  readonly #engine: Engine;
  /** The prelude's function that compiles the guest's fetch ahead of its first call. */
  readonly #warm: QuickJSHandle;
  #warmed = false;
  /** The source compiled ahead, and its function unless it did not compile. */
  #compiled: { source: string; fn: QuickJSHandle | undefined } | undefined;
  #deadline = 0;
  #host: HostSide | undefined;

  /** Throws when the engine cannot prepare a context: the worker is then unusable. */
  static prepare(engine: Engine): PreparedContext {
    const rt = engine.module.newRuntime();
    try {
      return new PreparedContext(engine, rt);
    } catch (error) {
      if (rt.alive) rt.dispose();
      throw error;
    }
  }

  private constructor(engine: Engine, rt: QuickJSRuntime) {
    this.#engine = engine;
    this.#step();
    this.rt = rt;
    rt.setMaxStackSize(MAX_STACK_BYTES);
    rt.setInterruptHandler(() => (this.#host ? this.#host.interrupt() : performance.now() > this.#deadline));
    const ctx = rt.newContext();
    this.ctx = ctx;
    try {
      const prelude = ctx.evalCode(PRELUDE, PRELUDE_FILENAME, { type: 'global', strict: true });
      if (prelude.error) {
        this.keep(prelude.error);
        throw new Error('The sandbox prelude failed');
      }
      const fn = this.keep(prelude.value);
      const load = this.keep(ctx.newFunction('load', (name, kit, arg) => this.#load(name, kit, arg)));
      const exported = ctx.callFunction(fn, ctx.undefined, load);
      if (exported.error) {
        this.keep(exported.error);
        throw new Error('The sandbox prelude failed');
      }
      const pair = this.keep(exported.value);
      this.setup = this.keep(ctx.getProp(pair, 0));
      this.#warm = this.keep(ctx.getProp(pair, 1));
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** A step of preparing starts: its own deadline and memory headroom. */
  #step(): void {
    this.#deadline = performance.now() + PREPARE_TIMEOUT_MS;
    this.#engine.guard.limit(this.#engine.guard.bytes + PREPARE_HEADROOM_BYTES);
  }

  /** Whether the guest's fetch is compiled already. */
  get fetchWarmed(): boolean {
    return this.#warmed;
  }

  /** Compiles the guest's fetch now rather than on its first call. Throws if the engine fails. */
  warmFetch(): void {
    if (this.#warmed) return;
    this.#step();
    const warmed = this.ctx.callFunction(this.#warm, this.ctx.undefined);
    this.keep(warmed.error ?? warmed.value);
    if (warmed.error) throw new Error('The sandbox prelude failed');
    this.#warmed = true;
  }

  /** The source compiled ahead into this context (or tried), if any. */
  get compiledSource(): string | undefined {
    return this.#compiled?.source;
  }

  /**
   * Compiles the author's source (wrapped as the run compiles it) without calling it. A source that does
   * not compile, or not within the step's bounds, is left for the run to compile and report.
   */
  compile(source: string): void {
    if (this.#compiled) return;
    this.#step();
    const result = this.ctx.evalCode(wrapSource(source), USER_FILENAME, { type: 'global' });
    if (result.error) this.keep(result.error);
    this.#compiled = { source, fn: result.error ? undefined : this.keep(result.value) };
  }

  /**
   * The author's function for `source`, when it was compiled ahead. Another source compiled ahead is
   * freed first: nothing of another run's code stays in the context of this one.
   */
  compiledFor(source: string): QuickJSHandle | undefined {
    const compiled = this.#compiled;
    if (compiled?.source === source) return compiled.fn;
    if (compiled?.fn?.alive) compiled.fn.dispose();
    return undefined;
  }

  /** The host side of each lazily compiled module: the function its factory receives. */
  #hostFunction(name: string): QuickJSHandle | undefined {
    const ctx = this.ctx;
    switch (name) {
      case 'console':
        return ctx.newFunction(
          'log',
          (level, line, length) => this.#host?.log(level, line, length) ?? ctx.newNumber(0),
        );
      case 'base64':
        return ctx.newFunction('base64', (mode, text) => this.#host?.base64(mode, text) ?? ctx.newNumber(2));
      case 'fetch':
        return ctx.newFunction('fetch', (request) => this.#host?.fetch(request) ?? ctx.undefined);
      default:
        return undefined;
    }
  }

  /**
   * The prelude's `load(name, kit, arg)`: compiles one module and calls its factory with the kit, its host
   * function and `arg`. Must not throw (it runs inside the engine); a failure leaves the guest without
   * that function, and calling it fails as a TypeError.
   */
  #load(nameHandle: QuickJSHandle, kit: QuickJSHandle, arg: QuickJSHandle): QuickJSHandle {
    const ctx = this.ctx;
    try {
      const name = ctx.typeof(nameHandle) === 'string' ? ctx.getString(nameHandle) : '';
      const source = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
      const host = source === undefined ? undefined : this.#hostFunction(name);
      if (source === undefined || host === undefined) return ctx.undefined;
      this.keep(host);
      const factory = ctx.evalCode(source, `switchboard-${name}.js`, { type: 'global', strict: true });
      if (factory.error) return this.keep(factory.error) && ctx.undefined;
      const made = ctx.callFunction(this.keep(factory.value), ctx.undefined, kit, host, arg);
      if (made.error) return this.keep(made.error) && ctx.undefined;
      // the engine frees the returned handle once the guest holds the function
      return made.value;
    } catch {
      return ctx.undefined;
    }
  }

  bind(host: HostSide): void {
    this.#host = host;
  }

  /** Disposed with the context. */
  keep<T extends QuickJSHandle>(handle: T): T {
    this.#handles.push(handle);
    return handle;
  }

  /** Frees every handle, then the context and the runtime. Throws if the engine aborts while doing so. */
  dispose(): void {
    for (let i = this.#handles.length - 1; i >= 0; i--) {
      const handle = this.#handles[i];
      if (handle?.alive) handle.dispose();
    }
    this.#handles.length = 0;
    this.ctx.dispose();
    this.rt.dispose();
  }
}
