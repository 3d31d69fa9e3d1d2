/**
 * docs/security.md A (A01–A05, A07–A09, A14, A15) and G-02 through the real client, a real local DNS
 * server and canary listeners: every case must end in a typed refusal with 0 accepts on the canaries
 * and 0 connection attempts to anything but the allow-listed mock upstream.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGuardedHttpClient } from '../../src/adapters/http-client/guarded-client.ts';
import type { EgressErrorCode, HttpClient } from '../../src/core/ports/http-client.ts';
import {
  type Canaries,
  type Canary,
  type ConnectionWatch,
  startCanaries,
  startCanary,
  watchConnections,
} from '../helpers/canaries.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { startUpstream, type Upstream, type UpstreamHandler } from '../helpers/upstream.ts';
import { deniedPayloads } from './ssrf-payloads.ts';
import { egressError, egressOptions, expectCode } from './support.ts';

let canaries: Canaries;
/** A canary on 127.0.0.1 at the upstream's port: where a rebound name would land. */
let shadow: Canary;
let upstream: Upstream;
let dns: DnsServer;
let client: HttpClient;
let watch: ConnectionWatch;

const PUBLIC = '93.184.215.14';

beforeAll(async () => {
  upstream = await startUpstream();
  canaries = await startCanaries();
  shadow = await startCanary('127.0.0.1', upstream.port);
  dns = await startDnsServer({
    'attacker.test': { A: ['10.0.0.5'] },
    '127.0.0.1.nip.io': { A: ['127.0.0.1'] },
    'localtest.me': { A: ['127.0.0.1'], AAAA: ['::1'] },
    'metadata.attacker.test': { A: ['169.254.169.254'] },
    'mixed.test': { A: [PUBLIC], AAAA: ['::1'] },
    'mixed-v4.test': { A: [PUBLIC, '127.0.0.1'] },
    'mapped.test': { AAAA: ['::ffff:127.0.0.1'] },
    'nat64.test': { AAAA: ['64:ff9b::a9fe:a9fe'] },
    'upstream.test': { A: ['127.0.0.2'] },
    // Rebinding (A08): allow-listed upstream on the first query, the loopback canary on the second.
    'rebind.test': [{ A: ['127.0.0.2'] }, { A: ['127.0.0.1'] }],
  });
  client = createGuardedHttpClient(
    egressOptions({
      allowPrivateNetworks: ['127.0.0.2'],
      // The canaries' ports are open, so only the address check can stop a request reaching them.
      allowedPorts: [canaries.v4.port, canaries.v6.port, upstream.port],
      dnsServers: [dns.address],
      connectTimeoutMs: 500,
      timeoutMs: 1_500,
    }),
  );
});

afterAll(async () => {
  await client.close();
  await Promise.all([canaries.close(), shadow.close(), upstream.close(), dns.close()]);
});

beforeEach(() => {
  watch = watchConnections();
});

afterEach(() => {
  watch.stop();
  expect(canaries.accepts + shadow.accepts).toBe(0);
});

/** Only the allow-listed mock upstream may ever see a connection attempt. */
function expectNoForbiddenAttempts(): void {
  expect(watch.attempts.filter((attempt) => attempt !== `127.0.0.2:${upstream.port}`)).toEqual([]);
}

async function expectRefused(url: string, code: EgressErrorCode = 'EGRESS_DENIED', method = 'GET') {
  const error = await expectCode(
    client.request({ method, url, headers: { authorization: 'Bearer canary-secret' } }),
    code,
  );
  expect(error.message).not.toContain('canary-secret');
  expectNoForbiddenAttempts();
  return error;
}

const v4 = () => canaries.v4.port;
const v6 = () => canaries.v6.port;

describe('A01 cloud metadata', () => {
  it.each([
    () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    () => 'http://metadata.google.internal/computeMetadata/v1/',
    () => 'http://metadata/computeMetadata/v1/',
    () => 'http://[fd00:ec2::254]/latest/meta-data/',
    () => 'http://100.100.100.200/latest/meta-data/',
    () => 'http://192.0.0.192/opc/v2/instance/',
  ])('refuses %s before any socket or DNS query', async (url) => {
    const queries = dns.queries;
    const error = await expectRefused(url());
    expect(error.message).not.toContain('security-credentials');
    expect(dns.queries).toBe(queries);
  });
});

describe('A02 loopback and "this host"', () => {
  it.each([
    () => `http://127.0.0.1:${v4()}/`,
    () => `http://localhost:${v4()}/v1/keys`,
    () => `http://[::1]:${v6()}/`,
    () => `http://0.0.0.0:${v4()}/`,
    () => `http://0:${v4()}/`,
    () => `http://[::]:${v6()}/`,
    () => `http://127.0.0.1:5432/`,
  ])('refuses %s', async (url) => {
    await expectRefused(url());
  });
});

describe('A03 numeric encodings', () => {
  it.each([
    () => `http://2130706433:${v4()}/`,
    () => `http://0x7f000001:${v4()}/`,
    () => `http://0177.0.0.1:${v4()}/`,
    () => `http://017700000001:${v4()}/`,
    () => `http://127.1:${v4()}/`,
    () => `http://0x7f.0x0.0x0.0x1:${v4()}/`,
    () => `http://[::ffff:127.0.0.1]:${v4()}/`,
  ])('refuses %s', async (url) => {
    await expectRefused(url());
  });
});

describe('A04 private and link-local ranges', () => {
  it.each([
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://169.254.1.1/',
    'http://[fc00::1]/',
    'http://[fd12::1]/',
    'http://[fe80::1]/',
  ])('refuses %s', async (url) => {
    await expectRefused(url);
  });
});

describe('A05 names that resolve inward (real DNS)', () => {
  it.each([
    ['127.0.0.1.nip.io', 'resolved to 127.0.0.1, a loopback address'],
    ['localtest.me', 'a loopback address'],
    ['attacker.test', 'attacker.test resolved to 10.0.0.5, a private address'],
    ['metadata.attacker.test', 'resolved to 169.254.169.254, a link-local address'],
    ['mapped.test', 'an IPv4-mapped form of 127.0.0.1'],
    ['nat64.test', 'a NAT64 form of 169.254.169.254'],
  ])('refuses %s after resolving it', async (name, reason) => {
    const before = dns.queriesFor(name);
    const error = await expectRefused(`http://${name}:${v4()}/secret/path?token=abc`);
    expect(error.message).toContain(reason);
    expect(error.message).not.toMatch(/secret|token/);
    expect(dns.queriesFor(name)).toBeGreaterThan(before);
  });

  it.each(['attacker.test', 'localtest.me', '127.0.0.1.nip.io'])(
    'refuses https://%s too (TLS sockets use the same lookup)',
    async (name) => {
      await expectRefused(`https://${name}:${v4()}/`);
    },
  );

  it('reports an unknown name as CONNECTION_FAILED, not a refusal', async () => {
    await expectRefused('http://no-such-name.test/', 'CONNECTION_FAILED');
  });
});

describe('A07 scheme abuse', () => {
  it.each([
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_FLUSHALL',
    'ftp://example.com/file',
    'data:text/plain,hello',
    'dict://127.0.0.1:11211/stat',
    'ws://example.com/socket',
    'wss://example.com/socket',
    'javascript:alert(1)',
    'ldap://127.0.0.1/',
  ])('refuses %s at save time and at run time', async (url) => {
    expect(() => client.checkUrl(url)).toThrow(expect.objectContaining({ code: 'EGRESS_DENIED' }));
    await expectRefused(url);
  });
});

describe('A08 DNS rebinding (TTL 0)', () => {
  it('dials exactly the address it vetted, and vets again on a new connection', async () => {
    const closeAfter: UpstreamHandler = (req, res) => {
      if (req.url !== '/once') return false;
      res.writeHead(200, { connection: 'close', 'content-length': 2 });
      res.end('ok');
      return true;
    };
    upstream.setHandler(closeAfter);
    try {
      const before = dns.queriesFor('rebind.test');
      const first = await client.request({ method: 'GET', url: `http://rebind.test:${upstream.port}/once` });
      expect(first.status).toBe(200);
      // One resolution (one A and one AAAA query) for the one connection.
      expect(dns.queriesFor('rebind.test') - before).toBe(2);
      expect(watch.attempts).toEqual([`127.0.0.2:${upstream.port}`]);
      // The name now answers 127.0.0.1, where the shadow canary listens on the same port.
      const error = await expectRefused(`http://rebind.test:${upstream.port}/once`);
      expect(error.message).toContain('rebind.test resolved to 127.0.0.1');
      expect(dns.queriesFor('rebind.test') - before).toBe(4);
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it('holds on the allow-listed route too (a port only allow-listed addresses may use)', async () => {
    dns.set('rebind2.test', [{ A: ['127.0.0.2'] }, { A: ['127.0.0.1'] }]);
    const strict = createGuardedHttpClient(
      egressOptions({
        allowPrivateNetworks: ['127.0.0.2/32'],
        dnsServers: [dns.address],
        connectTimeoutMs: 500,
      }),
    );
    upstream.setHandler((req, res) => {
      res.writeHead(200, { connection: 'close', 'content-length': 2 });
      res.end('ok');
      return true;
    });
    try {
      const url = `http://rebind2.test:${upstream.port}/`;
      expect((await strict.request({ method: 'GET', url })).status).toBe(200);
      await expectCode(strict.request({ method: 'GET', url }), 'EGRESS_DENIED');
      expectNoForbiddenAttempts();
    } finally {
      upstream.setHandler(undefined);
      await strict.close();
    }
  });
});

describe('A09 userinfo and parser confusion', () => {
  it.each([
    () => `http://evil.com@127.0.0.1:${v4()}/`,
    () => `http://127.0.0.1:${v4()}\\@evil.com/`,
    () => `http://127.0.0.1:${v4()}#@evil.com/`,
    () => `http://127.0.0.1%2f@evil.com/`,
    () => `http://localhost.:${v4()}/`,
    () => `http://LOCALHOST:${v4()}/`,
    () => `http://user:password@api.example.com/`,
    () => `http://upstream.test@127.0.0.2:${upstream.port}/echo`,
  ])('refuses %s', async (url) => {
    const error = await expectRefused(url());
    expect(error.message).not.toContain('password');
  });
});

describe('A14 mixed answers and Happy Eyeballs', () => {
  it.each(['mixed.test', 'mixed-v4.test'])('refuses %s: one denied answer refuses the name', async (name) => {
    const error = await expectRefused(`http://${name}:${v6()}/`);
    expect(error.message).toMatch(/resolved to (::1|127\.0\.0\.1), a loopback address/);
  });
});

describe('A15 non-default ports on public hosts', () => {
  let banner: Server;
  let bannerPort: number;

  beforeAll(async () => {
    banner = createServer((socket) => {
      socket.resume();
      socket.end('-ERR REDIS-BANNER-0xdeadbeef unknown command\r\n');
    });
    await new Promise<void>((resolve) => banner.listen(0, '127.0.0.2', () => resolve()));
    bannerPort = (banner.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => banner.close(() => resolve()));
  });

  it.each(['http://api.example.com:6379/', 'http://api.example.com:22/', 'http://93.184.215.14:2375/'])(
    'refuses %s unless the operator listed the port, without a DNS query',
    async (url) => {
      // No IP or CIDR on the allowlist: a closed port cannot be opened by any answer, so no DNS.
      const names = createGuardedHttpClient(
        egressOptions({ allowPrivateNetworks: ['upstream.test'], dnsServers: [dns.address] }),
      );
      try {
        const queries = dns.queries;
        const error = await expectCode(names.request({ method: 'GET', url }), 'EGRESS_DENIED');
        expect(error.message).toMatch(/^port \d+ is not allowed for /);
        expect(dns.queries).toBe(queries);
        expectNoForbiddenAttempts();
      } finally {
        await names.close();
      }
    },
  );

  it('refuses a public answer on a closed port when the allowlist has addresses', async () => {
    // With an IP or CIDR allow-listed, a name on a closed port may only reach allow-listed answers.
    dns.set('api.example.com', { A: [PUBLIC] });
    const error = await expectRefused('http://api.example.com:6379/');
    expect(error.message).toContain(`api.example.com resolved to ${PUBLIC}, which is not allow-listed`);
    expect(() => client.checkUrl('http://93.184.215.14:6379/')).toThrow(/port 6379 is not allowed/);
  });

  it('never echoes a remote banner in the error', async () => {
    const error = await egressError(
      client.request({ method: 'GET', url: `http://127.0.0.2:${bannerPort}/` }),
    );
    expect(error.code).toBe('CONNECTION_FAILED');
    expect(error.message).toContain('malformed HTTP response');
    expect(error.message).not.toMatch(/REDIS|deadbeef|unknown command/);
    // Nothing reachable from the error carries the banner either (undici's parser error holds it).
    expect(error.cause).toBeUndefined();
  });
});

describe('G-02 generated payloads through request()', () => {
  /** Loopback and "this host" payloads aim at the canaries: a leak would be counted, not just refused. */
  const portFor = (canonical: string) =>
    canonical.includes(':') || canonical.startsWith('[') ? canaries.v6.port : canaries.v4.port;

  it('refuses every one with EGRESS_DENIED and 0 accepts', async () => {
    const payloads = deniedPayloads();
    const codes = new Map<string, number>();
    for (const payload of payloads) {
      const authority =
        payload.authority.endsWith(']') || !payload.authority.includes(':')
          ? `${payload.authority}:${portFor(payload.canonical)}`
          : payload.authority;
      const error = await egressError(client.request({ method: 'GET', url: `http://${authority}/` }));
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ EGRESS_DENIED: payloads.length });
    expectNoForbiddenAttempts();
  });
});

describe('allowed destinations still work', () => {
  it('reaches the allow-listed upstream by IP and by a name resolving to it', async () => {
    expect((await client.request({ method: 'GET', url: `${upstream.url}/echo` })).status).toBe(200);
    expect(
      (await client.request({ method: 'GET', url: `http://upstream.test:${upstream.port}/echo` })).status,
    ).toBe(200);
    expectNoForbiddenAttempts();
  });

  it('does not refuse a name with a public answer (it tries to connect)', async () => {
    dns.set('public.test', { A: [PUBLIC] });
    // The machine may have no route out; anything but a refusal shows the guard let it through.
    const result = await client.request({ method: 'GET', url: 'http://public.test/', timeoutMs: 500 }).then(
      () => 'connected',
      (error: { code: string }) => error.code,
    );
    expect(result).not.toBe('EGRESS_DENIED');
    expect(watch.attempts.some((attempt) => attempt.startsWith(`${PUBLIC}:`))).toBe(true);
  });
});
