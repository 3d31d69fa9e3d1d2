/**
 * The signal a kind runs under. It is aborted when the caller's own signal is (a client that closed its
 * connection, a queue job told to stop) or when the execution's deadline passes, whichever comes first;
 * the kind then aborts its upstream request or its sandbox run, and the execution is recorded
 * `cancelled`. One controller and one timer per execution, and no closure: the timer gets the instance
 * as its argument and the caller's signal calls the instance's handleEvent.
 */

/** Why an execution was stopped: its deadline (category `timeout`), or its caller (`cancelled`). */
export interface Stopped {
  category: 'timeout' | 'cancelled';
  detail: string;
}

function passDeadline(signal: ExecutionSignal): void {
  signal.stop({
    category: 'timeout',
    detail: `The execution passed its deadline of ${signal.deadlineMs} ms; what was under way was stopped`,
  });
}

const reasonOf = (reason: unknown): string =>
  reason instanceof Error && reason.message !== '' ? reason.message : 'The caller stopped waiting for it';

export class ExecutionSignal {
  readonly deadlineMs: number;
  readonly #controller = new AbortController();
  readonly #caller: AbortSignal | undefined;
  readonly #timer: ReturnType<typeof setTimeout>;
  #stopped: Stopped | undefined;

  constructor(deadlineMs: number, caller: AbortSignal | undefined) {
    this.deadlineMs = deadlineMs;
    this.#caller = caller;
    this.#timer = setTimeout(passDeadline, deadlineMs, this);
    if (caller?.aborted) this.handleEvent();
    else caller?.addEventListener('abort', this, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why it was stopped; undefined while it runs. */
  get stopped(): Stopped | undefined {
    return this.#stopped;
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.stop({ category: 'cancelled', detail: reasonOf(this.#caller?.reason) });
  }

  stop(why: Stopped): void {
    if (this.#stopped) return;
    this.#stopped = why;
    this.#controller.abort(new Error(why.detail));
  }

  /** The run is over: neither the deadline nor the caller can stop it any more. */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#caller?.removeEventListener('abort', this);
  }
}
