/**
 * A mock upstream with the modes the threat tests need (docs/security.md, "Test harness"): echo, statuses
 * with Retry-After, redirects and chains, hang, slow headers, trickle, oversize bodies, compression bombs, a
 * lying Content-Length, bad bodies, and a dedupe-aware effect counter keyed by Idempotency-Key.
 *
 * It listens on 127.0.0.2 by default (Linux routes all of 127/8 to lo), so tests allow-list 127.0.0.2
 * and keep 127.0.0.1 for canaries that must never be reached.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import zlib from 'node:zlib';

export interface RecordedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  /** Lowercased names, as Node parses them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Set when the client went away before the response finished (an aborted, not drained, socket). */
  aborted: boolean;
}

/** Handles the request and returns true, or returns false to fall through to the built-in routes. */
export type UpstreamHandler = (req: IncomingMessage & { body: Buffer }, res: ServerResponse) => boolean;

export interface Upstream {
  /** Origin, e.g. `http://127.0.0.2:40123`. */
  url: string;
  host: string;
  port: number;
  requests: RecordedRequest[];
  /** `/effects`: one count per `Idempotency-Key` value ('' when the header is missing). */
  effects: Map<string, number>;
  /** `/flaky`: calls seen per `key`. */
  attempts: Map<string, number>;
  setHandler(handler: UpstreamHandler | undefined): void;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

export async function startUpstream(options: { host?: string } = {}): Promise<Upstream> {
  const host = options.host ?? '127.0.0.2';
  const requests: RecordedRequest[] = [];
  const effects = new Map<string, number>();
  const attempts = new Map<string, number>();
  const sockets = new Set<Socket>();
  let override: UpstreamHandler | undefined;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: { ...req.headers },
        body,
        aborted: false,
      };
      requests.push(record);
      res.on('close', () => {
        if (!res.writableFinished) record.aborted = true;
      });
      const withBody = Object.assign(req, { body });
      if (override?.(withBody, res) === true) return;
      route(withBody, res, { effects, attempts });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = () => (server.address() as { port: number }).port;
  return {
    url: `http://${hostForUrl(host)}:${port()}`,
    host,
    port: port(),
    requests,
    effects,
    attempts,
    setHandler(handler) {
      override = handler;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

interface State {
  effects: Map<string, number>;
  attempts: Map<string, number>;
}

function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function route(req: IncomingMessage & { body: Buffer }, res: ServerResponse, state: State): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  const query = url.searchParams;
  const segments = url.pathname.split('/').filter(Boolean);
  const number = (name: string, fallback: number) => (query.has(name) ? Number(query.get(name)) : fallback);

  switch (segments[0]) {
    case 'echo':
      return json(res, 200, {
        method: req.method,
        path: req.url,
        query: Object.fromEntries(query),
        headers: req.headers,
        body: req.body.toString('utf8'),
      });
    case 'status': {
      const status = Number(segments[1] ?? 200);
      const headers: Record<string, string> = {};
      if (query.has('retry_after')) headers['retry-after'] = query.get('retry_after') as string;
      if (query.has('body')) {
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        return void res.end(query.get('body'));
      }
      return json(res, status, { status }, headers);
    }
    case 'redirect':
      res.writeHead(number('status', 302), { location: query.get('to') ?? '/echo', 'content-length': 0 });
      return void res.end();
    case 'chain': {
      const left = Number(segments[1] ?? 0);
      if (left <= 0)
        return json(res, 200, { done: true, method: req.method, body: req.body.toString('utf8') });
      res.writeHead(number('status', 302), {
        location: `/chain/${left - 1}${url.search}`,
        'content-length': 0,
      });
      return void res.end();
    }
    case 'hang':
      return; // never answers; the socket is destroyed by close()
    case 'slow-headers':
      setTimeout(() => json(res, 200, { slow: true }), number('ms', 1000)).unref();
      return;
    case 'trickle': {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('x'), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'big':
      return sendBig(res, number('bytes', 10 * 1024 * 1024), query.get('chunked') === '1');
    case 'gzip-bomb':
      return sendBomb(res, 'gzip', number('bytes', 100 * 1024 * 1024));
    case 'br-bomb':
      return sendBomb(res, 'br', number('bytes', 100 * 1024 * 1024));
    case 'encoded':
      return sendEncoded(res, query.get('encoding') ?? 'gzip', query.get('text') ?? 'hello, decoded world');
    case 'lying-length':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100_000 });
      res.write('only a little');
      setTimeout(() => res.socket?.destroy(), 50).unref();
      return;
    case 'html-as-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>');
    case 'empty':
      res.writeHead(200, { 'content-length': 0 });
      return void res.end();
    case 'no-content':
      res.writeHead(204);
      return void res.end();
    case 'invalid-utf8':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
      );
    case 'deep-json': {
      const depth = number('depth', 1_000_000);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('['.repeat(depth) + ']'.repeat(depth));
    }
    case 'array':
      return json(res, 200, [1, 2, 3]);
    case 'json':
      return json(res, 200, Object.fromEntries(query));
    case 'effects': {
      const key = header(req, 'idempotency-key') ?? '';
      const count = (state.effects.get(key) ?? 0) + 1;
      state.effects.set(key, count);
      return json(res, 200, { key, count });
    }
    case 'flaky': {
      const key = query.get('key') ?? '';
      const attempt = (state.attempts.get(key) ?? 0) + 1;
      state.attempts.set(key, attempt);
      if (attempt <= number('fail', 1)) {
        const headers: Record<string, string> = {};
        if (query.has('retry_after')) headers['retry-after'] = query.get('retry_after') as string;
        return json(res, number('status', 503), { key, attempt, failed: true }, headers);
      }
      return json(res, 200, { key, attempt });
    }
    default:
      return json(res, 404, { error: 'no such route', path: url.pathname });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Writes `total` bytes, respecting backpressure, and stops as soon as the client goes away. */
function sendBig(res: ServerResponse, total: number, chunked: boolean): void {
  res.writeHead(
    200,
    chunked ? { 'content-type': 'text/plain' } : { 'content-type': 'text/plain', 'content-length': total },
  );
  let left = total;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

const bombs = new Map<string, Promise<Buffer>>();

/**
 * A small body that decodes to `bytes` zeros, built without holding them: gzip members concatenate, so
 * one 1 MB member is repeated; brotli is streamed 1 MB at a time. Cached per size.
 */
function bomb(encoding: 'gzip' | 'br', bytes: number): Promise<Buffer> {
  const key = `${encoding}:${bytes}`;
  let body = bombs.get(key);
  if (body === undefined) {
    const mib = 1024 * 1024;
    const pieces = Math.max(1, Math.ceil(bytes / mib));
    const zeros = Buffer.alloc(Math.min(bytes, mib));
    if (encoding === 'gzip') {
      const member = zlib.gzipSync(zeros, { level: 9 });
      body = Promise.resolve(Buffer.concat(Array.from({ length: pieces }, () => member)));
    } else {
      body = new Promise<Buffer>((resolve, reject) => {
        const encoder = zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
        const out: Buffer[] = [];
        encoder.on('data', (chunk: Buffer) => out.push(chunk));
        encoder.on('end', () => resolve(Buffer.concat(out)));
        encoder.on('error', reject);
        let left = bytes;
        const pump = () => {
          while (left > 0) {
            const piece = left >= zeros.length ? zeros : zeros.subarray(0, left);
            left -= piece.length;
            if (!encoder.write(piece)) return void encoder.once('drain', pump);
          }
          encoder.end();
        };
        pump();
      });
    }
    bombs.set(key, body);
  }
  return body;
}

function sendBomb(res: ServerResponse, encoding: 'gzip' | 'br', bytes: number): void {
  void bomb(encoding, bytes).then((body) => {
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-encoding': encoding,
      'content-length': body.length,
    });
    res.end(body);
  });
}

const ENCODERS: Record<string, (input: Buffer) => Buffer> = {
  gzip: (input) => zlib.gzipSync(input),
  'x-gzip': (input) => zlib.gzipSync(input),
  deflate: (input) => zlib.deflateSync(input),
  'deflate-raw': (input) => zlib.deflateRawSync(input),
  br: (input) => zlib.brotliCompressSync(input),
  zstd: (input) => zlib.zstdCompressSync(input),
  identity: (input) => input,
};

/** `encoding` is a Content-Encoding list (e.g. `gzip, br`), applied left to right like a server would. */
function sendEncoded(res: ServerResponse, encoding: string, text: string): void {
  let body: Buffer = Buffer.from(text);
  const codings = encoding.split(',').map((coding) => coding.trim());
  for (const coding of codings) {
    const encode = ENCODERS[coding];
    if (encode === undefined) throw new Error(`no encoder for ${coding}`);
    body = encode(body);
  }
  const header = codings.map((coding) => (coding === 'deflate-raw' ? 'deflate' : coding)).join(', ');
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-encoding': header,
    'content-length': body.length,
  });
  res.end(body);
}

/**
 * The user directory of Langdock's "Get User Data" example: `GET /users/user_123` answers the user as
 * JSON, any other id a JSON 404.
 */
export const userDirectory: UpstreamHandler = (req, res) => {
  const user = /^\/users\/([^/?]+)$/.exec(req.url ?? '')?.[1];
  if (!user) return false;
  res.setHeader('content-type', 'application/json');
  if (user !== 'user_123') {
    res.statusCode = 404;
    res.end('{"error":"no such user"}');
  } else res.end(JSON.stringify({ id: user, name: 'Ada', plan: 'pro' }));
  return true;
};
