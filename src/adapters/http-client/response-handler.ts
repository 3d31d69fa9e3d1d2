/**
 * One hop of an exchange, on undici's dispatch API: no stream or promise per chunk on the common path,
 * and the hop can be failed at any moment (deadline, caller abort) even while its connection is still
 * being opened, which the request() API cannot do. The body is capped after decoding (docs/security.md H10):
 * going over aborts the socket instead of draining it, so memory stays near the cap.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Writable, type Transform, pipeline } from 'node:stream';
import type { Dispatcher } from 'undici';
import { EgressError } from '../../core/ports/http-client.ts';
import { TooManyEncodingsError, decodersFor } from './decompress.ts';
import { REDIRECT_STATUSES } from './redirects.ts';

export interface HopResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Empty for a redirect to follow. */
  body: Uint8Array;
  /** Whether a Content-Encoding was undone (its header and Content-Length no longer describe the bytes). */
  decoded: boolean;
}

export interface HopOptions {
  host: string;
  method: string;
  limit: number;
  /** Whether a 3xx with a Location is followed (its body is then thrown away, not returned). */
  followRedirects: boolean;
}

/** A redirect's own body is read and thrown away up to this size so its socket can be reused. */
const REDIRECT_DRAIN_BYTES = 64 * 1024;

export class ResponseHandler implements Dispatcher.DispatchHandler {
  readonly #options: HopOptions;
  readonly #resolve: (result: HopResult) => void;
  readonly #reject: (error: unknown) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #settled = false;
  #failure: Error | undefined;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #redirect = false;
  #chunks: Buffer[] = [];
  #total = 0;
  #decoders: Transform[] | undefined;

  constructor(options: HopOptions, resolve: (result: HopResult) => void, reject: (error: unknown) => void) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Ends the hop with `error` now, whatever stage it is in; the socket is aborted, not drained. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failure = error instanceof Error ? error : new Error('hop failed');
    this.#controller?.abort(this.#failure);
    for (const decoder of this.#decoders ?? []) decoder.destroy();
    this.#reject(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Failed while the connection was being opened: stop before anything is sent.
    if (this.#failure !== undefined) controller.abort(this.#failure);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (this.#settled || status < 200) return; // 1xx informational answers precede the real one
    this.#status = status;
    this.#headers = headers;
    if (this.#options.followRedirects && REDIRECT_STATUSES.has(status) && headers.location !== undefined) {
      this.#redirect = true;
      return;
    }
    const { host, limit, method } = this.#options;
    const length = headers['content-length'];
    const hasBody = status !== 204 && status !== 304 && method.toUpperCase() !== 'HEAD';
    if (hasBody && typeof length === 'string' && Number(length) > limit) {
      return this.fail(tooLarge(host, limit, 'announces'));
    }
    let decoders: Transform[] | undefined;
    try {
      decoders = decodersFor(single(headers['content-encoding']));
    } catch (error) {
      if (!(error instanceof TooManyEncodingsError)) throw error;
      return this.fail(
        new EgressError('CONNECTION_FAILED', `${host} sent a response with too many content encodings`),
      );
    }
    if (decoders !== undefined && decoders.length > 0) this.#startDecoding(decoders);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    if (this.#redirect) {
      this.#total += chunk.length;
      // Not worth reading on: give up the socket and follow the redirect now.
      if (this.#total > REDIRECT_DRAIN_BYTES) {
        this.#settled = true;
        controller.abort(new Error('redirect body discarded'));
        this.#resolveWith(new Uint8Array(0), false);
      }
      return;
    }
    const first = this.#decoders?.[0];
    if (first !== undefined) {
      if (!first.write(chunk)) {
        controller.pause();
        first.once('drain', () => controller.resume());
      }
      return;
    }
    this.#collect(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    const first = this.#decoders?.[0];
    if (first !== undefined) {
      first.end(); // the decoding pipeline resolves the hop when its last byte is out
      return;
    }
    this.#settled = true;
    this.#resolveWith(this.#redirect ? new Uint8Array(0) : join(this.#chunks, this.#total), false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  #collect(chunk: Buffer): void {
    this.#total += chunk.length;
    if (this.#total > this.#options.limit)
      this.fail(tooLarge(this.#options.host, this.#options.limit, 'sent'));
    else this.#chunks.push(chunk);
  }

  #startDecoding(decoders: Transform[]): void {
    this.#decoders = decoders;
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.#collect(chunk);
        callback(this.#settled ? new Error('stopped') : null);
      },
    });
    pipeline([...decoders, sink], (error) => {
      if (this.#settled) return;
      if (error) {
        this.fail(
          new EgressError('CONNECTION_FAILED', `${this.#options.host} sent a body that could not be decoded`),
        );
        return;
      }
      this.#settled = true;
      this.#resolveWith(join(this.#chunks, this.#total), true);
    });
  }

  #resolveWith(body: Uint8Array, decoded: boolean): void {
    this.#resolve({ status: this.#status, headers: this.#headers, body, decoded });
  }
}

function join(chunks: Buffer[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Buffer;
  return Buffer.concat(chunks, total);
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function tooLarge(host: string, limit: number, verb: 'announces' | 'sent'): EgressError {
  return new EgressError(
    'RESPONSE_TOO_LARGE',
    `${host} ${verb} a response body over the ${limit}-byte limit`,
  );
}
