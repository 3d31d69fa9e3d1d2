/**
 * docs/security.md G-02 as tables over the DNS-free guard (`checkUrl`, what runs at save time) and the
 * connect-time lookup: every denied range in every notation is refused, public controls pass.
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, describe, expect, it } from 'vitest';
import { compileAllowList, deniedAddressReason } from '../../src/adapters/http-client/address-policy.ts';
import { createGuardedHttpClient } from '../../src/adapters/http-client/guarded-client.ts';
import { createGuardedLookup } from '../../src/adapters/http-client/guarded-lookup.ts';
import { parseIPv4, parseIPv6 } from '../../src/core/ip-address.ts';
import type { ResolvedAddress } from '../../src/adapters/http-client/resolver.ts';
import { EgressError } from '../../src/core/ports/http-client.ts';
import { DENIED_IPV4, PUBLIC_IPV4, PUBLIC_IPV6, deniedPayloads } from './ssrf-payloads.ts';
import { egressOptions, expectCode } from './support.ts';

const client = createGuardedHttpClient(egressOptions({ allowPrivateNetworks: [], allowedPorts: [8080] }));
const payloads = deniedPayloads();

afterAll(async () => {
  await client.close();
});

describe('generated payloads (G-02)', () => {
  it('has at least 300 of them', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(300);
  });

  it.each(
    payloads.flatMap((payload) => [
      { ...payload, url: `http://${payload.authority}/latest/meta-data/` },
      { ...payload, url: `https://${payload.authority}:8080/x?y=1` },
    ]),
  )('refuses $notation: $url', ({ url, canonical }) => {
    // The notation must mean what it says: WHATWG parses it to the denied host.
    expect(new URL(url).hostname).toBe(canonical);
    let thrown: unknown;
    try {
      client.checkUrl(url);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(EgressError);
    expect((thrown as EgressError).code).toBe('EGRESS_DENIED');
    // The reason is about the host; the path and query never appear.
    expect((thrown as EgressError).message).not.toMatch(/meta-data|y=1/);
  });
});

describe('over-blocking: public destinations pass', () => {
  it('has at least 100 public controls', () => {
    expect(PUBLIC_IPV4.length + PUBLIC_IPV6.length).toBeGreaterThanOrEqual(100);
  });

  it.each([
    ...PUBLIC_IPV4.map((ip) => `http://${ip}/`),
    ...PUBLIC_IPV6.map((ip) => `https://[${ip}]/`),
    ...PUBLIC_IPV4.slice(0, 10).map((ip) => `http://[::ffff:${ip}]:8080/`),
    'https://api.example.com/v1/users?page=2',
    'http://EXAMPLE.com:80/',
    'https://example.com:443/',
    'https://hooks.slack.com./services/x',
    'https://localhost.example.com/',
    'https://metadata.example.com/',
    'https://my-localhost/',
    'https://xn--bcher-kva.example/',
  ])('%s', (url) => {
    expect(() => client.checkUrl(url)).not.toThrow();
  });
});

describe('the address policy', () => {
  it.each(DENIED_IPV4)('%s is denied with a reason', (ip) => {
    expect(deniedAddressReason(ip)).toMatch(/^an? /);
  });

  it.each([
    ['10.0.0.5', '10.0.0.5 is a private address'],
    ['127.0.0.1', '127.0.0.1 is a loopback address'],
    ['169.254.169.254', '169.254.169.254 is a link-local address'],
    ['::ffff:7f00:1', '::ffff:7f00:1 is an IPv4-mapped form of 127.0.0.1, a loopback address'],
    ['64:ff9b::a00:5', '64:ff9b::a00:5 is a NAT64 form of 10.0.0.5, a private address'],
    ['2002:a9fe:a9fe::1', '2002:a9fe:a9fe::1 is a 6to4 form of 169.254.169.254, a link-local address'],
  ])('explains %s', (ip, message) => {
    expect(`${ip} is ${deniedAddressReason(ip)}`).toBe(message);
  });

  it.each([
    '',
    'example.com',
    '1.2.3',
    '01.2.3.4',
    '1.2.3.256',
    '::1::',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9',
    ':::',
  ])('fails closed on %j, which is not an address', (text) => {
    expect(deniedAddressReason(text)).toBe('not a valid IP address');
  });

  it('parses the forms DNS and WHATWG produce', () => {
    expect(parseIPv4('192.168.1.1')).toBe(0xc0a80101);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect([...parseIPv6('2001:db8::1')!]).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect([...parseIPv6('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect([...parseIPv6('1:2:3:4:5:6:7:8')!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...parseIPv6('1::')!]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('the allowlist', () => {
  it('takes names, IPs and CIDRs of both families', () => {
    const list = compileAllowList([
      'Internal.Example.',
      '10.1.2.3',
      '192.168.0.0/16',
      '[fd00::1]',
      'fd12::/16',
      ' ',
    ]);
    expect(list.hasName('internal.example')).toBe(true);
    expect(list.hasName('other.example')).toBe(false);
    expect(list.hasAddress('10.1.2.3')).toBe(true);
    expect(list.hasAddress('10.1.2.4')).toBe(false);
    expect(list.hasAddress('192.168.77.1')).toBe(true);
    expect(list.hasAddress('fd00::1')).toBe(true);
    expect(list.hasAddress('fd12:1::1')).toBe(true);
    expect(list.hasAddress('fd13::1')).toBe(false);
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', 'fd00::/129', 'not a host', 'example.com/8', 'http://x'])(
    'refuses the invalid entry %j',
    (entry) => {
      expect(() => compileAllowList([entry])).toThrow(/allowPrivateNetworks/);
    },
  );
});

describe('the connect-time lookup (injected resolver)', () => {
  const lookupWith = (
    answers: ResolvedAddress[],
    allow: string[] = [],
    route: 'open' | 'allowlisted' = 'open',
  ) => createGuardedLookup(async () => answers, compileAllowList(allow), route);

  const run = (
    lookup: ReturnType<typeof lookupWith>,
    host: string,
    options: { all?: boolean; family?: number } = { all: true },
  ) =>
    new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) => {
      lookup(host, options, (error, address, family) => resolve({ error, address, family }));
    });

  it.each(PUBLIC_IPV4.slice(0, 20))('passes a name resolving to %s', async (ip) => {
    const result = await run(lookupWith([{ address: ip, family: 4 }]), 'api.example.com');
    expect(result.error).toBeNull();
    expect(result.address).toEqual([{ address: ip, family: 4 }]);
  });

  it.each([
    [[{ address: '10.0.0.5', family: 4 }], 'api.example.com resolved to 10.0.0.5, a private address'],
    [
      [
        { address: '93.184.215.14', family: 4 },
        { address: '::1', family: 6 },
      ],
      'api.example.com resolved to ::1, a loopback address',
    ],
    [
      [
        { address: '93.184.215.14', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
      'api.example.com resolved to 169.254.169.254, a link-local address',
    ],
    [[{ address: '::ffff:a9fe:a9fe', family: 6 }], 'an IPv4-mapped form of 169.254.169.254'],
    [[{ address: 'garbage', family: 4 }], 'not a valid IP address'],
  ] as Array<[ResolvedAddress[], string]>)(
    'refuses the whole name when any answer is denied: %j',
    async (answers, message) => {
      const result = await run(lookupWith(answers), 'api.example.com');
      expect(result.error).toBeInstanceOf(EgressError);
      expect((result.error as EgressError).code).toBe('EGRESS_DENIED');
      expect(result.error!.message).toContain(message);
    },
  );

  it('refuses denied names before resolving', async () => {
    let resolved = 0;
    const lookup = createGuardedLookup(
      async () => {
        resolved++;
        return [{ address: '93.184.215.14', family: 4 }];
      },
      compileAllowList([]),
      'open',
    );
    const result = await run(lookup, 'metadata.google.internal.');
    expect((result.error as EgressError).code).toBe('EGRESS_DENIED');
    expect(resolved).toBe(0);
  });

  it('answers in the single-address form and filters by family', async () => {
    const lookup = lookupWith([
      { address: '2606:4700::1111', family: 6 },
      { address: '1.1.1.1', family: 4 },
    ]);
    expect(await run(lookup, 'dual.example', { all: false })).toMatchObject({
      error: null,
      address: '2606:4700::1111',
      family: 6,
    });
    expect(await run(lookup, 'dual.example', { all: false, family: 4 })).toMatchObject({
      address: '1.1.1.1',
      family: 4,
    });
    expect(await run(lookup, 'dual.example', { all: true, family: 6 })).toMatchObject({
      address: [{ address: '2606:4700::1111', family: 6 }],
    });
  });

  it('lets allow-listed addresses and names through', async () => {
    expect(
      (await run(lookupWith([{ address: '10.1.2.3', family: 4 }], ['10.0.0.0/8']), 'db.internal')).error,
    ).toBeNull();
    expect(
      (await run(lookupWith([{ address: '127.0.0.1', family: 4 }], ['db.internal']), 'db.internal')).error,
    ).toBeNull();
  });

  it('on the allow-listed route, demands every answer be allow-listed, even public ones', async () => {
    const result = await run(
      lookupWith([{ address: '93.184.215.14', family: 4 }], ['10.0.0.0/8'], 'allowlisted'),
      'api.example.com',
    );
    expect((result.error as EgressError).code).toBe('EGRESS_DENIED');
    expect(result.error!.message).toContain('not allow-listed');
  });

  it('reports a failed resolution as CONNECTION_FAILED', async () => {
    const lookup = createGuardedLookup(
      async () => {
        throw new Error('boom');
      },
      compileAllowList([]),
      'open',
    );
    const result = await run(lookup, 'nowhere.example');
    expect((result.error as EgressError).code).toBe('CONNECTION_FAILED');
  });
});

describe('checkUrl', () => {
  it.each([
    ['not a url', 'INVALID_URL'],
    ['/relative/path', 'INVALID_URL'],
    ['http://', 'INVALID_URL'],
    ['http://1.2.3.4.5/', 'INVALID_URL'],
    ['http://[fe80::1%25eth0]/', 'INVALID_URL'],
    ['file:///etc/passwd', 'EGRESS_DENIED'],
    ['http://user:pass@api.example.com/', 'EGRESS_DENIED'],
    ['http://api.example.com:6379/', 'EGRESS_DENIED'],
    ['http://api.example.com:0/', 'EGRESS_DENIED'],
  ] as const)('%s fails %s', async (url, code) => {
    await expectCode(() => client.checkUrl(url), code);
  });

  it('allows operator-listed ports on public hosts', () => {
    expect(() => client.checkUrl('http://api.example.com:8080/')).not.toThrow();
    expect(() => client.checkUrl('http://93.184.215.14:8080/')).not.toThrow();
  });
});
