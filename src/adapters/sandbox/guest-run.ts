/**
 * One execution of a code action inside a worker, on a prepared (fresh) context: the author's code, the
 * loop that pumps promise jobs and fetch answers, the host side of console, atob/btoa and fetch, and the
 * result copied out as JSON text. Every handle it takes is kept by the prepared context and disposed
 * with it, strictly, after the answer has been sent.
 */
import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle } from 'quickjs-emscripten-core';
import type { SandboxFetchRequest } from '../../core/ports/sandbox.ts';
import {
  DESCRIBE,
  PRELUDE_FILENAME,
  USER_FILENAME,
  WRAPPER_LINES_BEFORE,
  wrapSource,
} from './guest-prelude.ts';
import { jsonNesting, truncateUtf8 } from './json-text.ts';
import type { Engine, HostSide, PreparedContext } from './prepared-context.ts';
import type { FromWorker, ToWorker, WorkerOutcome } from './protocol.ts';

type RunMessage = Extract<ToWorker, { t: 'run' }>;
export type RunReport = Omit<Extract<FromWorker, { t: 'done' }>, 't' | 'id' | 'wasmBytes'>;

/** Promise jobs run per call into the engine between two clock checks. */
const JOB_BATCH = 512;
/** URL, headers and body of one fetch call as JSON text, in UTF-16 units; the egress applies its own caps. */
const MAX_FETCH_REQUEST_CHARS = 8 * 1024 * 1024;
/** Room for the host's own allocations once the guest is done (reading the result out, disposal). */
const HOST_HEADROOM_BYTES = 8 * 1024 * 1024;
/** Longest string atob/btoa take, in UTF-16 units: the text is copied into the worker's own heap. */
const MAX_BASE64_CHARS = 16 * 1024 * 1024;
const LEVEL_PREFIXES = ['', '[info] ', '[warn] ', '[error] ', '[debug] '];
const USER_FRAME = new RegExp(`${USER_FILENAME.replace('.', '\\.')}:(\\d+)`);
const NOT_LATIN1 = /[\u0100-\uffff]/;
const ASCII_WHITESPACE = /[\t\n\f\r ]/g;
const PADDING = /={1,2}$/;
const BASE64_DIGITS = /^[A-Za-z0-9+/]*$/;

type Stop = 'timeout' | 'memory';

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? `${mb} MB` : `${bytes} bytes`;
}

export class GuestRun implements HostSide {
  readonly #engine: Engine;
  readonly #prepared: PreparedContext;
  readonly #ctx: QuickJSContext;
  readonly #msg: RunMessage;
  readonly #requestFetch: (n: number, request: SandboxFetchRequest) => void;
  readonly #deadline: number;
  readonly #started: number;
  readonly #deferreds = new Map<number, QuickJSDeferredPromise>();
  readonly #inbox: Array<{ n: number; payload: string }> = [];
  #wake: (() => void) | undefined;
  #stop: Stop | undefined;
  #fetches = 0;
  #inFlight = 0;
  readonly #logs: string[] = [];
  #logBytes = 0;
  #logsTruncated = false;
  /** The engine misbehaved on the host side: retire the worker after this run. */
  #broken = false;
  /** The author's source compiled (in this run or ahead of it). */
  #compiled = false;

  constructor(
    engine: Engine,
    prepared: PreparedContext,
    msg: RunMessage,
    requestFetch: (n: number, request: SandboxFetchRequest) => void,
  ) {
    this.#engine = engine;
    this.#prepared = prepared;
    this.#ctx = prepared.ctx;
    this.#msg = msg;
    this.#requestFetch = requestFetch;
    this.#started = performance.now();
    this.#deadline = this.#started + msg.limits.timeoutMs;
  }

  /** A fetch answer from the main thread. */
  deliver(n: number, payload: string): void {
    this.#inbox.push({ n, payload });
    this.#wake?.();
  }

  async execute(): Promise<RunReport> {
    const { limits } = this.#msg;
    this.#engine.guard.limit(this.#engine.baseBytes + limits.memoryBytes);
    this.#prepared.rt.setMemoryLimit(limits.memoryBytes);
    this.#prepared.bind(this);
    let outcome: WorkerOutcome;
    try {
      outcome = await this.#run();
    } catch (error) {
      // The engine failed on the host side (it aborted, or its native stack overflowed): whatever the
      // cause, its memory can no longer be trusted, so this worker goes.
      this.#broken = true;
      outcome = this.#stopOutcome() ?? {
        ok: false,
        code: 'SANDBOX_CRASHED',
        message:
          error instanceof RangeError
            ? 'The sandbox engine ran out of native stack (the code nests too deeply)'
            : 'The sandbox engine failed',
      };
    }
    this.#engine.guard.raise(HOST_HEADROOM_BYTES);
    return {
      outcome,
      logs: this.#logs,
      logsTruncated: this.#logsTruncated,
      fetches: this.#fetches,
      durationMs: performance.now() - this.#started,
      retire: this.#broken,
    };
  }

  /** Whether the code called fetch (the worker compiles fetch ahead for its next runs if so). */
  get usedFetch(): boolean {
    return this.#fetches > 0;
  }

  /** Whether the author's source compiled (so it may be compiled ahead for the next run). */
  get sourceCompiled(): boolean {
    return this.#compiled;
  }

  /** Frees the run's context and runtime; called after its answer is sent. Throws if the engine aborts. */
  dispose(): void {
    for (const deferred of this.#deferreds.values()) deferred.dispose();
    this.#deferreds.clear();
    this.#prepared.dispose();
  }

  interrupt(): boolean {
    if (this.#stop !== undefined) return true;
    if (this.#engine.guard.hit) this.#stop = 'memory';
    else if (performance.now() > this.#deadline) this.#stop = 'timeout';
    return this.#stop !== undefined;
  }

  #memoryOutcome(): WorkerOutcome {
    const limit = megabytes(this.#msg.limits.memoryBytes);
    return { ok: false, code: 'SANDBOX_MEMORY', message: `The code used more than its ${limit} of memory` };
  }

  #stopOutcome(): WorkerOutcome | undefined {
    if (this.#engine.guard.hit) this.#stop = 'memory';
    const { limits } = this.#msg;
    if (this.#stop === 'memory') return this.#memoryOutcome();
    if (this.#stop === 'timeout') {
      return {
        ok: false,
        code: 'SANDBOX_TIMEOUT',
        message: `The code ran longer than its ${limits.timeoutMs} ms time limit`,
      };
    }
    return undefined;
  }

  #keep<T extends QuickJSHandle>(handle: T): T {
    return this.#prepared.keep(handle);
  }

  async #run(): Promise<WorkerOutcome> {
    const ctx = this.#ctx;
    const { source, inputs, secrets, limits } = this.#msg;
    const args = [ctx.newString(inputs), ctx.newString(secrets), ctx.newNumber(limits.logBytes + 1)];
    const setup = ctx.callFunction(this.#prepared.setup, ctx.undefined, ...args.map((h) => this.#keep(h)));
    if (setup.error) {
      this.#keep(setup.error);
      const stopped = this.#stopOutcome();
      if (stopped) return stopped;
      throw new Error('The sandbox prelude failed');
    }
    const serialize = this.#keep(setup.value);

    let fn = this.#prepared.compiledFor(source);
    if (!fn) {
      const compiled = ctx.evalCode(wrapSource(source), USER_FILENAME, { type: 'global' });
      if (compiled.error) return this.#thrown(this.#keep(compiled.error));
      fn = this.#keep(compiled.value);
    }
    this.#compiled = true;
    const called = ctx.callFunction(fn, ctx.undefined);
    if (called.error) return this.#thrown(this.#keep(called.error));
    const promise = this.#keep(called.value);

    for (;;) {
      const jobError = this.#drainJobs();
      const stopped = this.#stopOutcome();
      if (stopped) return stopped;
      if (jobError) return this.#thrown(jobError);
      const state = ctx.getPromiseState(promise);
      if (state.type === 'fulfilled') {
        if (!state.notAPromise) this.#keep(state.value);
        return this.#output(serialize, state.value);
      }
      if (state.type === 'rejected') return this.#thrown(this.#keep(state.error));
      if (this.#inbox.length > 0) {
        this.#answerFetches();
        continue;
      }
      if (this.#inFlight === 0) {
        // No job queued, no fetch in flight and no timers exist: nothing can ever settle the promise.
        return {
          ok: false,
          code: 'SANDBOX_TIMEOUT',
          message: 'The code awaits a promise that nothing can settle (no fetch in flight, no job queued)',
        };
      }
      if (!(await this.#waitForAnswer())) {
        this.#stop = 'timeout';
        return this.#stopOutcome() as WorkerOutcome;
      }
    }
  }

  /** Runs queued promise jobs; returns the exception that stopped them, if any. */
  #drainJobs(): QuickJSHandle | undefined {
    for (;;) {
      const result = this.#prepared.rt.executePendingJobs(JOB_BATCH);
      if (result.error) return this.#keep(result.error);
      if (result.value < JOB_BATCH) return undefined;
      if (performance.now() > this.#deadline) {
        this.#stop ??= 'timeout';
        return undefined;
      }
    }
  }

  /** Waits for a fetch answer; false when the deadline came first. */
  async #waitForAnswer(): Promise<boolean> {
    const remaining = this.#deadline - performance.now();
    if (remaining <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, remaining);
    });
    clearTimeout(timer);
    this.#wake = undefined;
    return this.#inbox.length > 0 || performance.now() < this.#deadline;
  }

  #answerFetches(): void {
    for (const { n, payload } of this.#inbox.splice(0)) {
      const deferred = this.#deferreds.get(n);
      if (!deferred) continue;
      this.#deferreds.delete(n);
      this.#inFlight--;
      const value = this.#ctx.newString(payload);
      try {
        deferred.resolve(value);
      } finally {
        value.dispose();
        deferred.dispose();
      }
    }
  }

  /** The author's error: its message, and its line in the author's source when a frame names it. */
  #thrown(error: QuickJSHandle): WorkerOutcome {
    const stopped = this.#stopOutcome();
    if (stopped) return stopped;
    const ctx = this.#ctx;
    const unreadable: WorkerOutcome = {
      ok: false,
      code: 'SANDBOX_ERROR',
      message: 'The code threw a value that could not be read',
    };
    const describe = ctx.evalCode(DESCRIBE, PRELUDE_FILENAME, { type: 'global', strict: true });
    if (describe.error) {
      this.#keep(describe.error);
      return this.#stopOutcome() ?? unreadable;
    }
    const described = ctx.callFunction(this.#keep(describe.value), ctx.undefined, error);
    if (described.error) {
      this.#keep(described.error);
      return this.#stopOutcome() ?? unreadable;
    }
    const parts = this.#json(this.#keep(described.value), 16_000);
    if (!Array.isArray(parts)) return unreadable;
    const [message, stack, lineNumber] = parts as unknown[];
    // QuickJS refused one allocation larger than the whole limit (no growth was attempted)
    if (message === 'InternalError: out of memory') return this.#memoryOutcome();
    const fromStack = typeof stack === 'string' ? USER_FRAME.exec(stack) : null;
    const fileLine = fromStack ? Number(fromStack[1]) : typeof lineNumber === 'number' ? lineNumber : 0;
    const sourceLines = this.#msg.source.split('\n').length;
    const line =
      fileLine > 0 ? Math.min(Math.max(fileLine - WRAPPER_LINES_BEFORE, 1), sourceLines) : undefined;
    return {
      ok: false,
      code: 'SANDBOX_ERROR',
      message: typeof message === 'string' && message ? message : 'The code threw',
      line,
    };
  }

  #output(serialize: QuickJSHandle, value: QuickJSHandle): WorkerOutcome {
    const ctx = this.#ctx;
    const { outputBytes, outputDepth } = this.#msg.limits;
    const tooLarge: WorkerOutcome = {
      ok: false,
      code: 'OUTPUT_TOO_LARGE',
      message: `The returned value is larger than ${outputBytes} bytes as JSON`,
    };
    const result = ctx.callFunction(serialize, ctx.undefined, value, this.#keep(ctx.newNumber(outputBytes)));
    if (result.error) {
      this.#keep(result.error);
      return (
        this.#stopOutcome() ?? {
          ok: false,
          code: 'OUTPUT_INVALID',
          message: 'The returned value could not be read',
        }
      );
    }
    const stopped = this.#stopOutcome();
    if (stopped) return stopped;
    const out = this.#keep(result.value);
    if (ctx.typeof(out) !== 'string') {
      const code = this.#stringProp(out, 0);
      if (code === 'OUTPUT_TOO_LARGE') return tooLarge;
      return {
        ok: false,
        code: 'OUTPUT_INVALID',
        message: this.#stringProp(out, 1) || 'The returned value is not JSON',
      };
    }
    // Checked again here, on the text itself: the prelude's word is not trusted.
    if (this.#stringLength(out) > outputBytes) return tooLarge;
    this.#engine.guard.raise(HOST_HEADROOM_BYTES + 4 * outputBytes);
    const json = ctx.getString(out);
    if (Buffer.byteLength(json) > outputBytes) return tooLarge;
    if (jsonNesting(json) > outputDepth) {
      return {
        ok: false,
        code: 'OUTPUT_INVALID',
        message: `The returned value is nested deeper than ${outputDepth} levels`,
      };
    }
    return { ok: true, json };
  }

  #stringProp(handle: QuickJSHandle, key: number): string {
    const item = this.#keep(this.#ctx.getProp(handle, key));
    return this.#ctx.typeof(item) === 'string' ? this.#ctx.getString(item) : '';
  }

  /** The length of a guest string in UTF-16 units, read without copying it out. */
  #stringLength(handle: QuickJSHandle): number {
    const length = this.#ctx.getProp(handle, 'length');
    const units = this.#ctx.getNumber(length);
    length.dispose();
    return units;
  }

  /** A guest string that carries JSON text, parsed; undefined when it is too long or not JSON. */
  #json(handle: QuickJSHandle, maxUnits: number): unknown {
    if (this.#ctx.typeof(handle) !== 'string' || this.#stringLength(handle) > maxUnits) return undefined;
    try {
      return JSON.parse(this.#ctx.getString(handle)) as unknown;
    } catch {
      return undefined;
    }
  }

  /**
   * Host functions must not throw: an exception unwinding through the engine's frames corrupts it. An
   * unexpected failure answers the guest with a plain value and retires the worker after the run.
   */
  #hostCall(fallback: string | number, body: () => QuickJSHandle): QuickJSHandle {
    try {
      return body();
    } catch {
      // a failure while the run is being stopped is expected; any other leaves the engine suspect
      if (this.#stopOutcome() === undefined) this.#broken = true;
      return typeof fallback === 'number' ? this.#ctx.newNumber(fallback) : this.#ctx.newString(fallback);
    }
  }

  log(level: QuickJSHandle, line: QuickJSHandle, length: QuickJSHandle): QuickJSHandle {
    return this.#hostCall(0, () => this.#log(level, line, length));
  }

  base64(mode: QuickJSHandle, text: QuickJSHandle): QuickJSHandle {
    return this.#hostCall(2, () => this.#base64(mode, text));
  }

  fetch(request: QuickJSHandle): QuickJSHandle {
    return this.#hostCall('fetch: the sandbox could not make this call', () => this.#fetch(request));
  }

  #log(levelHandle: QuickJSHandle, lineHandle: QuickJSHandle, lengthHandle: QuickJSHandle): QuickJSHandle {
    const ctx = this.#ctx;
    const { logBytes } = this.#msg.limits;
    const room = logBytes - this.#logBytes;
    if (this.#logsTruncated) return ctx.newNumber(0);
    // JSON text of at most `room + 1` characters, each escaped to at most 6
    const text = this.#json(lineHandle, 6 * (room + 1) + 2);
    if (typeof text !== 'string') return ctx.newNumber(0);
    const line = (LEVEL_PREFIXES[ctx.getNumber(levelHandle)] ?? '') + text;
    const bytes = Buffer.byteLength(line);
    if (bytes <= room && ctx.getNumber(lengthHandle) <= text.length) {
      this.#logs.push(line);
      this.#logBytes += bytes;
      return ctx.newNumber(room - bytes);
    }
    const cut = truncateUtf8(line, room);
    if (cut.length > 0) this.#logs.push(cut);
    this.#logs.push(`[switchboard] log truncated: the limit is ${logBytes} bytes`);
    this.#logBytes = logBytes;
    this.#logsTruncated = true;
    return ctx.newNumber(0);
  }

  /** atob (mode 0) and btoa (mode 1) over Latin-1 strings, as browsers define them. */
  #base64(modeHandle: QuickJSHandle, textHandle: QuickJSHandle): QuickJSHandle {
    const ctx = this.#ctx;
    const mode = ctx.getNumber(modeHandle);
    const text = this.#json(textHandle, 6 * MAX_BASE64_CHARS + 2);
    if (typeof text !== 'string' || text.length > MAX_BASE64_CHARS) return ctx.newNumber(2);
    if (mode === 1) {
      if (NOT_LATIN1.test(text)) return ctx.newNumber(1);
      return ctx.newString(JSON.stringify(Buffer.from(text, 'latin1').toString('base64')));
    }
    let digits = text.replace(ASCII_WHITESPACE, '');
    if (digits.length % 4 === 0) digits = digits.replace(PADDING, '');
    if (digits.length % 4 === 1 || !BASE64_DIGITS.test(digits)) return ctx.newNumber(0);
    return ctx.newString(JSON.stringify(Buffer.from(digits, 'base64').toString('latin1')));
  }

  #fetch(requestHandle: QuickJSHandle): QuickJSHandle {
    const ctx = this.#ctx;
    const { maxFetches } = this.#msg.limits;
    if (this.#fetches >= maxFetches) {
      return ctx.newString(`FETCH_BUDGET_EXCEEDED: a run may call fetch at most ${maxFetches} times`);
    }
    const parsed = this.#json(requestHandle, MAX_FETCH_REQUEST_CHARS);
    if (parsed === undefined) return ctx.newString('fetch: the request is too large');
    const request = toFetchRequest(parsed);
    if (!request) return ctx.newString('fetch: bad arguments');
    this.#fetches++;
    this.#inFlight++;
    const n = this.#fetches;
    const deferred = ctx.newPromise();
    this.#deferreds.set(n, deferred);
    this.#requestFetch(n, request);
    // the engine frees this handle once it has passed the promise to the guest
    return deferred.handle;
  }
}

/** [url, method, headers, body] from the guest's fetch, checked field by field. */
function toFetchRequest(value: unknown): SandboxFetchRequest | undefined {
  if (!Array.isArray(value)) return undefined;
  const [url, method, headers, body] = value as unknown[];
  if (typeof url !== 'string' || typeof method !== 'string') return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  if (body !== null && typeof body !== 'string') return undefined;
  const copy: Record<string, string> = {};
  for (const [name, item] of Object.entries(headers)) copy[name] = String(item);
  return { url, method, headers: copy, body };
}
