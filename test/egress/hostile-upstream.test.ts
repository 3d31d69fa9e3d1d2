/**
 * docs/security.md G-18 and H08/H10/H12/H13 through the real client: a hanging or trickling upstream meets
 * one total deadline, oversized and compressed bodies are capped after decoding with the socket
 * aborted, and bad bodies come back as bytes for the caller to judge.
 */
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuardedHttpClient } from '../../src/adapters/http-client/guarded-client.ts';
import type { HttpClient } from '../../src/core/ports/http-client.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { egressOptions, expectCode } from './support.ts';

let upstream: Upstream;
let client: HttpClient;

beforeAll(async () => {
  upstream = await startUpstream();
  client = createGuardedHttpClient(egressOptions());
});

afterAll(async () => {
  await client.close();
  await upstream.close();
});

const text = (body: Uint8Array) => Buffer.from(body).toString('utf8');
const lastRequest = () => upstream.requests[upstream.requests.length - 1]!;

/** Resolves once the upstream saw the client go away from its latest request (or fails after 2 s). */
async function upstreamSawAbort(): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    if (lastRequest().aborted) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('a well-behaved upstream', () => {
  it('sends default headers, drops managed ones and returns a normalized response', async () => {
    const response = await client.request({
      method: 'POST',
      url: `${upstream.url}/echo?a=1&b=two`,
      headers: {
        'X-Trace': 't-1',
        'Content-Type': 'text/plain',
        Host: 'internal.admin',
        Connection: 'close',
      },
      body: 'hello',
    });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${upstream.url}/echo?a=1&b=two`);
    expect(response.redirects).toBe(0);
    expect(response.body).toBeInstanceOf(Uint8Array);
    expect(response.headers['content-type']).toBe('application/json');
    const echo = JSON.parse(text(response.body));
    expect(echo).toMatchObject({
      method: 'POST',
      path: '/echo?a=1&b=two',
      query: { a: '1', b: 'two' },
      body: 'hello',
    });
    expect(echo.headers).toMatchObject({
      'x-trace': 't-1',
      'user-agent': 'switchboard-test/1',
      'accept-encoding': 'gzip, deflate, br',
      host: upstream.url.slice('http://'.length),
    });
    expect(echo.headers.connection).not.toBe('close');
  });

  it("keeps the caller's user-agent and accept-encoding", async () => {
    const response = await client.request({
      method: 'GET',
      url: `${upstream.url}/echo`,
      headers: { 'User-Agent': 'custom/2', 'Accept-Encoding': 'identity' },
    });
    const echo = JSON.parse(text(response.body));
    expect(echo.headers['user-agent']).toBe('custom/2');
    expect(echo.headers['accept-encoding']).toBe('identity');
  });

  it('joins repeated headers and drops set-cookie', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/headers') return false;
      res.setHeader('X-Multi', ['one', 'two']);
      res.setHeader('Set-Cookie', ['session=secret', 'other=1']);
      res.end('ok');
      return true;
    });
    try {
      const response = await client.request({ method: 'GET', url: `${upstream.url}/headers` });
      expect(response.headers['x-multi']).toBe('one, two');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(Object.keys(response.headers).every((name) => name === name.toLowerCase())).toBe(true);
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it.each([
    ['gzip'],
    ['x-gzip'],
    ['deflate'],
    ['deflate-raw'],
    ['br'],
    ['zstd'],
    ['gzip, br'],
    ['deflate, gzip, br'],
  ])('decodes %s and drops the encoding headers', async (encoding) => {
    const response = await client.request({
      method: 'GET',
      url: `${upstream.url}/encoded?encoding=${encodeURIComponent(encoding)}&text=${encodeURIComponent('decoded '.repeat(100))}`,
    });
    expect(text(response.body)).toBe('decoded '.repeat(100));
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['content-length']).toBeUndefined();
  });

  it('passes a body with an unknown encoding through as received', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/compress') return false;
      res.writeHead(200, { 'content-encoding': 'compress' });
      res.end('raw bytes');
      return true;
    });
    try {
      const response = await client.request({ method: 'GET', url: `${upstream.url}/compress` });
      expect(text(response.body)).toBe('raw bytes');
      expect(response.headers['content-encoding']).toBe('compress');
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it('fails a body that does not decode, without echoing it', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/bad-gzip') return false;
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end('not gzip at all: BANNER-TEXT');
      return true;
    });
    try {
      const error = await expectCode(
        client.request({ method: 'GET', url: `${upstream.url}/bad-gzip` }),
        'CONNECTION_FAILED',
      );
      expect(error.message).not.toContain('BANNER');
    } finally {
      upstream.setHandler(undefined);
    }
  });
});

describe('bad bodies come back as typed results (H12)', () => {
  it.each([
    ['/html-as-json', 200, (body: Buffer) => body.toString().startsWith('<!doctype html>')],
    ['/empty', 200, (body: Buffer) => body.length === 0],
    ['/no-content', 204, (body: Buffer) => body.length === 0],
    ['/invalid-utf8', 200, (body: Buffer) => body.includes(Buffer.from([0xff, 0xfe]))],
    ['/deep-json?depth=100000', 200, (body: Buffer) => body.length === 200_000],
    ['/array', 200, (body: Buffer) => body.toString() === '[1,2,3]'],
    ['/status/503?retry_after=999999', 503, (body: Buffer) => body.toString() === '{"status":503}'],
  ])('%s', async (path, status, check) => {
    const response = await client.request({ method: 'GET', url: `${upstream.url}${path}` });
    expect(response.status).toBe(status);
    expect(check(Buffer.from(response.body))).toBe(true);
  });

  it('keeps Retry-After for the caller to cap', async () => {
    const response = await client.request({
      method: 'GET',
      url: `${upstream.url}/status/429?retry_after=999999`,
    });
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe('999999');
  });

  it('reads no body for HEAD even when the length announced is over the cap', async () => {
    const response = await client.request({
      method: 'HEAD',
      url: `${upstream.url}/big?bytes=${10 * 1024 * 1024}`,
    });
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
  });
});

describe('deadlines (H08, G-18)', () => {
  const within = async (
    promise: Promise<unknown>,
    code: 'UPSTREAM_TIMEOUT' | 'ABORTED',
    deadline: number,
  ) => {
    const started = performance.now();
    await expectCode(promise, code);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(deadline - 20);
    // docs/security.md G-18 allows ±1 s; the exchange's own timer is far tighter than that.
    expect(elapsed).toBeLessThan(deadline + 600);
  };

  it('a hanging upstream meets the total deadline', async () => {
    await within(
      client.request({ method: 'GET', url: `${upstream.url}/hang`, timeoutMs: 400 }),
      'UPSTREAM_TIMEOUT',
      400,
    );
  });

  it('slow headers meet the total deadline', async () => {
    await within(
      client.request({ method: 'GET', url: `${upstream.url}/slow-headers?ms=3000`, timeoutMs: 300 }),
      'UPSTREAM_TIMEOUT',
      300,
    );
  });

  it('a trickling body cannot extend the deadline (it is total, not idle)', async () => {
    await within(
      client.request({ method: 'GET', url: `${upstream.url}/trickle`, timeoutMs: 700 }),
      'UPSTREAM_TIMEOUT',
      700,
    );
  });

  it('a trickling compressed body meets the deadline as UPSTREAM_TIMEOUT, and the signal as ABORTED', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/gzip-trickle') return false;
      res.writeHead(200, { 'content-encoding': 'gzip' });
      const gzip = createGzip();
      gzip.pipe(res);
      const timer = setInterval(() => {
        gzip.write('x');
        gzip.flush();
      }, 50);
      res.on('close', () => clearInterval(timer));
      return true;
    });
    try {
      await within(
        client.request({ method: 'GET', url: `${upstream.url}/gzip-trickle`, timeoutMs: 400 }),
        'UPSTREAM_TIMEOUT',
        400,
      );
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      await within(
        client.request({ method: 'GET', url: `${upstream.url}/gzip-trickle`, signal: controller.signal }),
        'ABORTED',
        300,
      );
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it("the operator's cap bounds a request's own deadline", async () => {
    const capped = createGuardedHttpClient(egressOptions({ timeoutMs: 300, timeoutCapMs: 500 }));
    try {
      await within(
        capped.request({ method: 'GET', url: `${upstream.url}/hang`, timeoutMs: 60_000 }),
        'UPSTREAM_TIMEOUT',
        500,
      );
      await within(capped.request({ method: 'GET', url: `${upstream.url}/hang` }), 'UPSTREAM_TIMEOUT', 300);
    } finally {
      await capped.close();
    }
  });

  it("the caller's signal aborts, before or during the request", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await within(
      client.request({ method: 'GET', url: `${upstream.url}/hang`, signal: controller.signal }),
      'ABORTED',
      200,
    );
    const seen = upstream.requests.length;
    await expectCode(
      client.request({ method: 'GET', url: `${upstream.url}/echo`, signal: AbortSignal.abort() }),
      'ABORTED',
    );
    expect(upstream.requests.length).toBe(seen);
  });

  it('the deadline holds while a connection is still being opened', async () => {
    const slow = createGuardedHttpClient(
      egressOptions({ allowPrivateNetworks: ['slow.test'], connectTimeoutMs: 3_000, timeoutMs: 3_000 }),
      {
        resolve: () =>
          new Promise((resolve) => setTimeout(() => resolve([{ address: '127.0.0.2', family: 4 }]), 1_500)),
      },
    );
    try {
      await within(
        slow.request({ method: 'GET', url: `http://slow.test:${upstream.port}/echo`, timeoutMs: 300 }),
        'UPSTREAM_TIMEOUT',
        300,
      );
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      await within(
        slow.request({
          method: 'GET',
          url: `http://slow.test:${upstream.port}/echo`,
          signal: controller.signal,
        }),
        'ABORTED',
        200,
      );
    } finally {
      await slow.close();
    }
  });

  it('a slow resolution counts against the connect timeout', async () => {
    const slow = createGuardedHttpClient(
      egressOptions({ allowPrivateNetworks: ['slow.test'], connectTimeoutMs: 200, timeoutMs: 3_000 }),
      {
        resolve: () =>
          new Promise((resolve) => setTimeout(() => resolve([{ address: '127.0.0.2', family: 4 }]), 1_500)),
      },
    );
    try {
      const started = performance.now();
      await expectCode(
        slow.request({ method: 'GET', url: `http://slow.test:${upstream.port}/echo` }),
        'CONNECT_TIMEOUT',
      );
      expect(performance.now() - started).toBeLessThan(700);
    } finally {
      await slow.close();
    }
  });
});

describe('response size (H10): the cap counts decoded bytes and aborts the socket', () => {
  const MB = 1024 * 1024;

  it.each([
    ['with Content-Length', `/big?bytes=${10 * MB}`],
    ['chunked, without Content-Length', `/big?bytes=${10 * MB}&chunked=1`],
  ])('a 10 MB body %s fails RESPONSE_TOO_LARGE at the 1 MB cap', async (_name, path) => {
    const started = performance.now();
    await expectCode(client.request({ method: 'GET', url: `${upstream.url}${path}` }), 'RESPONSE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await upstreamSawAbort()).toBe(true);
  });

  it('a body under the cap is returned whole', async () => {
    const response = await client.request({
      method: 'GET',
      url: `${upstream.url}/big?bytes=${MB - 10}&chunked=1`,
    });
    expect(response.body.length).toBe(MB - 10);
  });

  it("a request's own limit applies, clamped to the operator's cap", async () => {
    await expectCode(
      client.request({ method: 'GET', url: `${upstream.url}/big?bytes=2000`, maxResponseBytes: 1000 }),
      'RESPONSE_TOO_LARGE',
    );
    const bigger = await client.request({
      method: 'GET',
      url: `${upstream.url}/big?bytes=${3 * MB}&chunked=1`,
      maxResponseBytes: 3 * MB,
    });
    expect(bigger.body.length).toBe(3 * MB);
    await expectCode(
      client.request({
        method: 'GET',
        url: `${upstream.url}/big?bytes=${5 * MB}`,
        maxResponseBytes: 100 * MB,
      }),
      'RESPONSE_TOO_LARGE',
    );
  });

  it.each([
    ['gzip', '/gzip-bomb'],
    ['br', '/br-bomb'],
  ])('a %s bomb (small on the wire, 256 MB decoded) stops at the cap', async (_encoding, path) => {
    const url = `${upstream.url}${path}?bytes=${256 * MB}`;
    // The first request also makes the upstream (same process) build its bomb; measure the second.
    await expectCode(client.request({ method: 'GET', url }), 'RESPONSE_TOO_LARGE');
    const before = process.memoryUsage();
    const started = performance.now();
    await expectCode(client.request({ method: 'GET', url }), 'RESPONSE_TOO_LARGE');
    expect(performance.now() - started).toBeLessThan(1_000);
    const after = process.memoryUsage();
    // Decoding everything would hold 256 MB; the cap keeps it to about 1 MB (plus GC slack).
    expect(after.arrayBuffers + after.heapUsed - (before.arrayBuffers + before.heapUsed)).toBeLessThan(
      64 * MB,
    );
  });

  it('compressed bytes under the cap that decode over it are refused (the cap is after decoding)', async () => {
    const compressed = gzipSync(Buffer.alloc(2 * MB));
    expect(compressed.length).toBeLessThan(MB);
    upstream.setHandler((req, res) => {
      if (req.url !== '/small-gzip') return false;
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': compressed.length });
      res.end(compressed);
      return true;
    });
    try {
      await expectCode(
        client.request({ method: 'GET', url: `${upstream.url}/small-gzip` }),
        'RESPONSE_TOO_LARGE',
      );
      const ok = await client.request({ method: 'GET', url: `${upstream.url}/gzip-bomb?bytes=${MB / 2}` });
      expect(ok.body.length).toBe(MB / 2);
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it('a lying Content-Length fails CONNECTION_FAILED without hanging', async () => {
    const started = performance.now();
    await expectCode(
      client.request({ method: 'GET', url: `${upstream.url}/lying-length` }),
      'CONNECTION_FAILED',
    );
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('request body limit', () => {
  it('refuses a body over the limit before connecting', async () => {
    const seen = upstream.requests.length;
    const error = await expectCode(
      client.request({ method: 'POST', url: `${upstream.url}/echo`, body: 'x'.repeat(64 * 1024 + 1) }),
      'REQUEST_TOO_LARGE',
    );
    expect(error.message).not.toContain('xxx');
    await expectCode(
      client.request({ method: 'POST', url: `${upstream.url}/echo`, body: new Uint8Array(64 * 1024 + 1) }),
      'REQUEST_TOO_LARGE',
    );
    expect(upstream.requests.length).toBe(seen);
    // Multi-byte characters count as bytes, not as string length.
    await expectCode(
      client.request({ method: 'POST', url: `${upstream.url}/echo`, body: 'é'.repeat(40 * 1024) }),
      'REQUEST_TOO_LARGE',
    );
  });

  it('sends a body at the limit', async () => {
    const response = await client.request({
      method: 'PUT',
      url: `${upstream.url}/echo`,
      body: new Uint8Array(64 * 1024),
    });
    expect(response.status).toBe(200);
    expect(lastRequest().body.length).toBe(64 * 1024);
  });

  it('refuses a header value with CR or LF, naming the header but not the value', async () => {
    const error = await expectCode(
      client.request({
        method: 'GET',
        url: `${upstream.url}/echo`,
        headers: { 'X-Customer': 'acme\r\nX-Admin: true' },
      }),
      'INVALID_URL',
    );
    expect(error.message).not.toContain('acme');
    expect(error.message).not.toContain('X-Admin');
  });
});
