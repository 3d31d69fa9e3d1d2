/**
 * A fresh QuickJS runtime and context with the prelude evaluated, made while the worker is idle so that a
 * run does not wait for it (creating the runtime and parsing the prelude is most of a trivial run's cost).
 * Each one serves exactly one run and is then disposed: no runtime or context is ever reused across runs.
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
import { BASE64_MODULE, CONSOLE_MODULE, FETCH_MODULE, PRELUDE, PRELUDE_FILENAME } from './guest-prelude.ts';
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
/** Preparing runs only our own code; this bounds it all the same. */
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
  #host: HostSide | undefined;

  /**
   * Throws when the engine cannot prepare a context: the worker is then unusable. With `withFetch`, the
   * guest's fetch is compiled now rather than on its first call.
   */
  static prepare(engine: Engine, withFetch: boolean): PreparedContext {
    engine.guard.limit(engine.guard.bytes + PREPARE_HEADROOM_BYTES);
    const rt = engine.module.newRuntime();
    try {
      return new PreparedContext(rt, performance.now() + PREPARE_TIMEOUT_MS, withFetch);
    } catch (error) {
      if (rt.alive) rt.dispose();
      throw error;
    }
  }

  private constructor(rt: QuickJSRuntime, deadline: number, withFetch: boolean) {
    this.rt = rt;
    rt.setMaxStackSize(MAX_STACK_BYTES);
    rt.setInterruptHandler(() => (this.#host ? this.#host.interrupt() : performance.now() > deadline));
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
      if (withFetch) {
        const warmed = ctx.callFunction(this.keep(ctx.getProp(pair, 1)), ctx.undefined);
        this.keep(warmed.error ?? warmed.value);
        if (warmed.error) throw new Error('The sandbox prelude failed');
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
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
