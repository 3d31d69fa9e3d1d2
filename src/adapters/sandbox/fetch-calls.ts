/**
 * The host side of one run's fetch calls, on whichever thread makes them (the pool's, through the run's
 * SandboxFetch; a worker's, through the fetch it built from the run's scope): the call budget, the
 * concurrency limit (calls past it wait their turn, within the budget already), and each answer as the
 * JSON text the guest's fetch parses. Every call gets the run's signal, aborted when the run ends.
 */
import type { SandboxFetch, SandboxFetchRequest, SandboxLimits } from '../../core/ports/sandbox.ts';
import { failurePayload, fetchPayload } from './fetch-payload.ts';

/**
 * Largest fetch answer passed into the guest, as JSON text. The egress client caps response bodies far
 * below this; the check keeps a misconfigured host function from exhausting a worker's heap.
 */
const MAX_FETCH_PAYLOAD_CHARS = 32 * 1024 * 1024;

type Answer = (n: number, payload: string) => void;

export class FetchCalls {
  readonly #fetch: SandboxFetch;
  readonly #limits: Pick<SandboxLimits, 'maxFetches' | 'maxConcurrentFetches'>;
  readonly #signal: AbortSignal;
  readonly #answer: Answer;
  readonly #waiting: Array<{ n: number; request: SandboxFetchRequest }> = [];
  #made = 0;
  #active = 0;

  constructor(
    fetch: SandboxFetch,
    limits: Pick<SandboxLimits, 'maxFetches' | 'maxConcurrentFetches'>,
    signal: AbortSignal,
    answer: Answer,
  ) {
    this.#fetch = fetch;
    this.#limits = limits;
    this.#signal = signal;
    this.#answer = answer;
  }

  /** Calls passed to the host function (or waiting for their turn). */
  get made(): number {
    return this.#made;
  }

  /** Call `n` of the run (1-based); its answer comes through `answer`, refusals included. */
  request(n: number, request: SandboxFetchRequest): void {
    const { maxFetches } = this.#limits;
    if (this.#made >= maxFetches) {
      this.#answer(
        n,
        failurePayload(`FETCH_BUDGET_EXCEEDED: a run may call fetch at most ${maxFetches} times`),
      );
      return;
    }
    this.#made++;
    this.#waiting.push({ n, request });
    this.#start();
  }

  #start(): void {
    while (
      !this.#signal.aborted &&
      this.#active < this.#limits.maxConcurrentFetches &&
      this.#waiting.length > 0
    ) {
      const call = this.#waiting.shift() as { n: number; request: SandboxFetchRequest };
      this.#active++;
      void this.#call(call.n, call.request);
    }
  }

  async #call(n: number, request: SandboxFetchRequest): Promise<void> {
    let payload: string;
    try {
      const copy: SandboxFetchRequest = {
        url: request.url,
        method: request.method,
        headers: { ...request.headers },
        body: request.body,
      };
      payload = fetchPayload(await this.#fetch(copy, this.#signal));
      if (payload.length > MAX_FETCH_PAYLOAD_CHARS)
        payload = failurePayload('fetch: the response is too large');
    } catch (error) {
      payload = failurePayload(error instanceof Error ? error.message : String(error));
    }
    this.#active--;
    this.#answer(n, payload);
    this.#start();
  }
}
