/**
 * One request's clock and cancellation: a single total deadline over every hop and the whole body (a
 * trickling upstream cannot extend it, docs/security.md H08, G-18) and the caller's signal, both effective at
 * once, even while a connection is still being opened. Failures become typed EgressErrors whose text
 * never carries remote bytes (a parser error holds them, A15).
 */
import type { Dispatcher } from 'undici';
import { EgressError } from '../../core/ports/http-client.ts';
import { type HopOptions, type HopResult, ResponseHandler } from './response-handler.ts';

export class Exchange {
  readonly #timer: NodeJS.Timeout;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort: (() => void) | undefined;
  #current: ResponseHandler | undefined;
  #host: string;
  /** Set once the deadline passed or the caller aborted: every hop after that fails with it. */
  #ended: EgressError | undefined;

  constructor(deadlineMs: number, callerSignal: AbortSignal | undefined, host: string) {
    this.#host = host;
    this.#timer = setTimeout(() => {
      this.#end(
        new EgressError('UPSTREAM_TIMEOUT', `${this.#host} did not complete within ${deadlineMs} ms`),
      );
    }, deadlineMs);
    this.#callerSignal = callerSignal;
    if (callerSignal !== undefined) {
      this.#onCallerAbort = () =>
        this.#end(new EgressError('ABORTED', `the request to ${this.#host} was aborted by the caller`));
      callerSignal.addEventListener('abort', this.#onCallerAbort, { once: true });
    }
  }

  /** Sends one request and reads its answer under the limits of `options`. */
  hop(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions, options: HopOptions): Promise<HopResult> {
    this.#host = options.host;
    if (this.#ended !== undefined) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const handler = new ResponseHandler(options, resolve, reject);
      this.#current = handler;
      try {
        dispatcher.dispatch(request, handler);
      } catch (error) {
        handler.fail(error);
      }
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    if (this.#onCallerAbort !== undefined)
      this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }

  /** The typed error for whatever ended the exchange; `host` names the destination being talked to. */
  toEgressError(error: unknown, host: string, port: string): EgressError {
    if (error instanceof EgressError) return error;
    // An abort we caused surfaces as undici's error: the reason is ours.
    if (this.#ended !== undefined) return this.#ended;
    return fromTransportError(error, host, port);
  }

  #end(error: EgressError): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    this.#current?.fail(error);
  }
}

function fromTransportError(error: unknown, host: string, port: string): EgressError {
  const code = codeOf(error);
  const where = port === '' ? host : `${host}:${port}`;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new EgressError('CONNECT_TIMEOUT', `could not connect to ${where} in time`);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new EgressError('UPSTREAM_TIMEOUT', `${where} did not answer in time`);
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      // undici's own validation text (e.g. "invalid x-name header") names a header, never its value.
      return new EgressError(
        'INVALID_URL',
        `the request to ${where} is invalid: ${(error as Error).message}`,
      );
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return new EgressError('CONNECTION_FAILED', `${where} closed the connection early (${code})`);
    default:
      // The parser error holds the bytes it choked on (a Redis or SSH banner): never let them out.
      if (code.startsWith('HPE_') || (error as Error | undefined)?.name === 'HTTPParserError') {
        const detail = code === 'ERROR' ? '' : ` (${code})`;
        return new EgressError('CONNECTION_FAILED', `${where} sent a malformed HTTP response${detail}`);
      }
      return new EgressError('CONNECTION_FAILED', `the connection to ${where} failed (${code})`);
  }
}

/** An error code safe to repeat: a fixed identifier, never text that could come from the remote. */
function codeOf(error: unknown): string {
  let code = (error as { code?: unknown } | null | undefined)?.code;
  if (code === undefined && error instanceof AggregateError)
    code = (error.errors[0] as { code?: unknown })?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_]{1,48}$/.test(code) ? code : 'ERROR';
}
