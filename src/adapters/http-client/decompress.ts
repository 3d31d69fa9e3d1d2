/**
 * Decoders for a response's Content-Encoding, so the size cap counts the bytes the action receives
 * (docs/security.md G-18, H10). Lenient like browsers: a truncated stream yields what it decoded.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/** More layers than this is an attack, not a server (cf. undici's own fetch limit). */
const MAX_CODINGS = 5;

const ZLIB_OPTIONS: zlib.ZlibOptions = {
  flush: zlib.constants.Z_SYNC_FLUSH,
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
};
const BROTLI_OPTIONS: zlib.BrotliOptions = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

/** "deflate" is meant to be zlib-wrapped but some servers send raw deflate: pick by the first byte. */
class InflateEither extends Transform {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#inner === undefined) {
      if (chunk.length === 0) return callback();
      const inner =
        ((chunk[0] as number) & 0x0f) === 0x08
          ? zlib.createInflate(ZLIB_OPTIONS)
          : zlib.createInflateRaw(ZLIB_OPTIONS);
      inner.on('data', (data: Buffer) => this.push(data));
      inner.on('error', (error) => this.destroy(error));
      this.#inner = inner;
    }
    this.#inner.write(chunk, () => callback());
  }

  override _flush(callback: TransformCallback): void {
    if (this.#inner === undefined) return callback();
    this.#inner.once('end', () => callback());
    this.#inner.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    callback(error);
  }
}

const DECODERS: ReadonlyMap<string, () => Transform> = new Map<string, () => Transform>([
  ['gzip', () => zlib.createGunzip(ZLIB_OPTIONS)],
  ['x-gzip', () => zlib.createGunzip(ZLIB_OPTIONS)],
  ['deflate', () => new InflateEither()],
  ['br', () => zlib.createBrotliDecompress(BROTLI_OPTIONS)],
  ...(typeof zlib.createZstdDecompress === 'function'
    ? [['zstd', () => zlib.createZstdDecompress()] as [string, () => Transform]]
    : []),
]);

export class TooManyEncodingsError extends Error {}

/**
 * The decoders to apply, in order (the last coding listed was applied last, so it is undone first).
 * Empty when there is nothing to undo; undefined when a coding is unknown, in which case the body is
 * passed on as received, with its Content-Encoding (as fetch does).
 */
export function decodersFor(contentEncoding: string | undefined): Transform[] | undefined {
  if (contentEncoding === undefined || contentEncoding === '' || contentEncoding === 'identity') return [];
  const codings = contentEncoding
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length > MAX_CODINGS) throw new TooManyEncodingsError();
  if (!codings.every((coding) => DECODERS.has(coding))) return undefined;
  return codings.reverse().map((coding) => (DECODERS.get(coding) as () => Transform)());
}
