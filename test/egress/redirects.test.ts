/**
 * docs/security.md A06 and G-03: redirects are followed by hand, every hop passes the guard again, at most
 * five hops, the method and body follow the fetch rules, and credentials never cross origins.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuardedHttpClient } from '../../src/adapters/http-client/guarded-client.ts';
import { EgressError, type HttpClient, type RedirectHop } from '../../src/core/ports/http-client.ts';
import { type Canaries, type ConnectionWatch, startCanaries, watchConnections } from '../helpers/canaries.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { egressOptions, expectCode } from './support.ts';

let origin: Upstream;
/** Another origin (another address), standing for a foreign host that records what it receives. */
let foreign: Upstream;
let canaries: Canaries;
let dns: DnsServer;
let client: HttpClient;
let watch: ConnectionWatch;

beforeAll(async () => {
  origin = await startUpstream();
  foreign = await startUpstream({ host: '127.0.0.3' });
  canaries = await startCanaries();
  dns = await startDnsServer({ 'attacker.test': { A: ['10.0.0.5'] }, 'foreign.test': { A: ['127.0.0.3'] } });
  client = createGuardedHttpClient(
    egressOptions({
      allowPrivateNetworks: ['127.0.0.2', '127.0.0.3'],
      allowedPorts: [canaries.v4.port, canaries.v6.port],
      dnsServers: [dns.address],
    }),
  );
});

afterAll(async () => {
  await client.close();
  await Promise.all([origin.close(), foreign.close(), canaries.close(), dns.close()]);
});

beforeEach(() => {
  watch = watchConnections();
});

afterEach(() => {
  watch.stop();
  expect(canaries.accepts).toBe(0);
});

const redirect = (to: string, status = 302) =>
  `${origin.url}/redirect?status=${status}&to=${encodeURIComponent(to)}`;
const json = (body: Uint8Array) => JSON.parse(Buffer.from(body).toString('utf8'));

describe('every hop is re-validated (A06)', () => {
  it.each([301, 302, 303, 307, 308])('refuses a %i to the metadata address', async (status) => {
    const error = await expectCode(
      client.request({ method: 'GET', url: redirect('http://169.254.169.254/latest/meta-data/', status) }),
      'EGRESS_DENIED',
    );
    expect(error.message).toBe(`redirect from 127.0.0.2 refused: 169.254.169.254 is a link-local address`);
  });

  it.each([
    () => `http://127.0.0.1:${canaries.v4.port}/`,
    () => `http://[::1]:${canaries.v6.port}/`,
    () => `http://0x7f000001:${canaries.v4.port}/`,
    () => `http://localhost:${canaries.v4.port}/`,
    () => `http://attacker.test:${canaries.v4.port}/`,
  ])('refuses a redirect inward to %s', async (to) => {
    await expectCode(client.request({ method: 'GET', url: redirect(to()) }), 'EGRESS_DENIED');
    expect(watch.attempts.every((attempt) => attempt.startsWith('127.0.0.2:'))).toBe(true);
  });

  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'ftp://example.com/',
    'data:text/plain,hi',
    'javascript:alert(1)',
  ])('refuses a redirect to the non-http scheme of %s', async (to) => {
    const error = await expectCode(client.request({ method: 'GET', url: redirect(to) }), 'EGRESS_DENIED');
    expect(error.message).toMatch(/scheme is not allowed/);
  });

  it('refuses a redirect carrying credentials', async () => {
    await expectCode(
      client.request({ method: 'GET', url: redirect(`http://user:pw@127.0.0.3:${foreign.port}/echo`) }),
      'EGRESS_DENIED',
    );
    expect(foreign.requests).toHaveLength(0);
  });

  it('reports an unparsable Location as CONNECTION_FAILED', async () => {
    await expectCode(client.request({ method: 'GET', url: redirect('http://[::1') }), 'CONNECTION_FAILED');
  });
});

describe('hop limit', () => {
  it('follows a chain of 5', async () => {
    const response = await client.request({ method: 'GET', url: `${origin.url}/chain/5` });
    expect(response.status).toBe(200);
    expect(response.redirects).toBe(5);
    expect(response.url).toBe(`${origin.url}/chain/0`);
  });

  it('fails the 6th hop with TOO_MANY_REDIRECTS', async () => {
    const before = origin.requests.length;
    await expectCode(client.request({ method: 'GET', url: `${origin.url}/chain/6` }), 'TOO_MANY_REDIRECTS');
    expect(origin.requests.length - before).toBe(6);
  });

  it("takes a request's lower limit and clamps a higher one", async () => {
    await expectCode(
      client.request({ method: 'GET', url: `${origin.url}/chain/3`, maxRedirects: 2 }),
      'TOO_MANY_REDIRECTS',
    );
    expect(
      (await client.request({ method: 'GET', url: `${origin.url}/chain/2`, maxRedirects: 2 })).redirects,
    ).toBe(2);
    await expectCode(
      client.request({ method: 'GET', url: `${origin.url}/chain/6`, maxRedirects: 50 }),
      'TOO_MANY_REDIRECTS',
    );
  });

  it('returns the 3xx itself when maxRedirects is 0', async () => {
    const response = await client.request({ method: 'GET', url: redirect('/echo'), maxRedirects: 0 });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('/echo');
    expect(response.redirects).toBe(0);
  });
});

describe('method and body', () => {
  const post = (status: number, method = 'POST') =>
    client.request({
      method,
      url: redirect('/echo', status),
      headers: { 'content-type': 'application/json', 'x-keep': 'yes' },
      body: '{"amount":100}',
    });

  it.each([307, 308])('%i keeps the method and the body', async (status) => {
    const echo = json((await post(status)).body);
    expect(echo).toMatchObject({ method: 'POST', body: '{"amount":100}' });
    expect(echo.headers['content-type']).toBe('application/json');
  });

  it.each([301, 302, 303])('%i turns POST into a GET without body or content headers', async (status) => {
    const echo = json((await post(status)).body);
    expect(echo).toMatchObject({ method: 'GET', body: '' });
    expect(echo.headers['content-type']).toBeUndefined();
    expect(echo.headers['content-length']).toBeUndefined();
    expect(echo.headers['x-keep']).toBe('yes');
  });

  it('303 turns PUT into GET; 302 keeps PUT with its body', async () => {
    expect(json((await post(303, 'PUT')).body)).toMatchObject({ method: 'GET', body: '' });
    expect(json((await post(302, 'PUT')).body)).toMatchObject({ method: 'PUT', body: '{"amount":100}' });
  });

  it('303 keeps HEAD', async () => {
    const response = await client.request({ method: 'HEAD', url: redirect('/echo', 303) });
    expect(response.status).toBe(200);
    expect(origin.requests[origin.requests.length - 1]!.method).toBe('HEAD');
  });

  it('resolves a relative Location against the current URL', async () => {
    const response = await client.request({
      method: 'GET',
      url: `${origin.url}/redirect?to=${encodeURIComponent('../echo?x=1')}`,
    });
    expect(json(response.body).path).toBe('/echo?x=1');
  });
});

describe('cross-origin hops (G-03)', () => {
  const secretHeaders = {
    Authorization: 'Bearer sk-canary-0123456789',
    Cookie: 'session=canary',
    'Proxy-Authorization': 'Basic canary',
    'X-Trace': 'trace-1',
  };

  it('asks beforeRedirect, then drops authorization, cookie and proxy-authorization', async () => {
    const hops: RedirectHop[] = [];
    const response = await client.request({
      method: 'POST',
      url: redirect(`${foreign.url}/echo`, 307),
      headers: secretHeaders,
      body: 'payload',
      beforeRedirect: (hop) => hops.push(hop),
    });
    expect(response.url).toBe(`${foreign.url}/echo`);
    expect(hops).toHaveLength(1);
    expect(hops[0]).toMatchObject({ status: 307, method: 'POST', keepsBody: true });
    expect(hops[0]!.from.origin).toBe(origin.url);
    expect(hops[0]!.to.href).toBe(`${foreign.url}/echo`);
    const seen = foreign.requests[foreign.requests.length - 1]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-trace']).toBe('trace-1');
    expect(JSON.stringify(foreign.requests)).not.toContain('canary');
  });

  it('reports the rewritten method to the callback', async () => {
    const hops: RedirectHop[] = [];
    await client.request({
      method: 'POST',
      url: redirect(`${foreign.url}/echo`, 303),
      body: 'payload',
      beforeRedirect: (hop) => hops.push(hop),
    });
    expect(hops[0]).toMatchObject({ status: 303, method: 'GET', keepsBody: false });
  });

  it.each([
    ['another name for the same address', () => `http://foreign.test:${foreign.port}/echo`],
    ['another scheme', () => `https://127.0.0.2:${origin.port}/echo`],
    ['another port', () => `http://127.0.0.2:${foreign.port}/echo`],
  ])('treats %s as another origin', async (_name, to) => {
    const hops: RedirectHop[] = [];
    await expectCode(
      client.request({
        method: 'GET',
        url: redirect(to()),
        beforeRedirect: (hop) => {
          hops.push(hop);
          throw new EgressError('EGRESS_DENIED', 'stop here');
        },
      }),
      'EGRESS_DENIED',
    );
    expect(hops).toHaveLength(1);
  });

  it('keeps credentials and skips the callback on a same-origin hop', async () => {
    let called = false;
    await client.request({
      method: 'GET',
      url: redirect('/echo'),
      headers: secretHeaders,
      beforeRedirect: () => (called = true),
    });
    expect(called).toBe(false);
    expect(origin.requests[origin.requests.length - 1]!.headers.authorization).toBe(
      'Bearer sk-canary-0123456789',
    );
  });

  it('a throw in beforeRedirect refuses the hop: the foreign origin receives nothing', async () => {
    const before = foreign.requests.length;
    const refusal = new EgressError('EGRESS_DENIED', 'secret "api" may not go to 127.0.0.3');
    const error = await expectCode(
      client.request({
        method: 'POST',
        url: redirect(`${foreign.url}/echo`, 307),
        headers: secretHeaders,
        body: 'sk-canary-in-body',
        beforeRedirect: () => {
          throw refusal;
        },
      }),
      'EGRESS_DENIED',
    );
    expect(error).toBe(refusal);
    expect(foreign.requests.length).toBe(before);
  });

  it('any other throw is refused as EGRESS_DENIED too', async () => {
    const error = await expectCode(
      client.request({
        method: 'GET',
        url: redirect(`${foreign.url}/echo`),
        beforeRedirect: () => {
          throw new TypeError('not allowed');
        },
      }),
      'EGRESS_DENIED',
    );
    expect(error.message).toBe('redirect to 127.0.0.3 refused');
  });
});
