/**
 * Generated SSRF payloads (docs/security.md G-02): every denied range written in every notation WHATWG URL
 * accepts for it, plus denied names, and public controls that must pass. Each payload carries the
 * canonical host the parse must produce, so a notation that fails to parse cannot pass for a refusal.
 */

export interface Payload {
  /** `host[:port]` as written in the URL. */
  authority: string;
  /** What `new URL(...).hostname` must be. */
  canonical: string;
  notation: string;
}

/** One or two addresses per denied IPv4 range (16 ranges). */
export const DENIED_IPV4 = [
  '0.0.0.0',
  '0.1.2.3',
  '10.0.0.1',
  '10.255.255.254',
  '100.64.0.1',
  '100.127.255.254',
  '127.0.0.1',
  '127.255.255.254',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.0.0.170',
  '192.0.2.1',
  '192.88.99.1',
  '192.168.1.1',
  '198.18.0.1',
  '198.19.255.255',
  '198.51.100.1',
  '203.0.113.1',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
];

const octets = (ip: string) => ip.split('.').map(Number) as [number, number, number, number];
const toInt = (ip: string) => octets(ip).reduce((value, octet) => value * 256 + octet, 0);
const hex = (n: number) => n.toString(16);
const hex4 = (n: number) => n.toString(16).padStart(4, '0');
const groupsOf = (ip: string) => {
  const [a, b, c, d] = octets(ip);
  return [(a << 8) | b, (c << 8) | d] as const;
};
/** WHATWG's serialization of the plainly written IPv6 form: the parser is the reference here, not the guard. */
const v6 = (prefix: string, ip: string) => new URL(`http://[${prefix}${ip}]/`).hostname;

const IPV4_NOTATIONS: ReadonlyArray<[string, (ip: string) => string, (ip: string) => string]> = [
  ['dotted decimal', (ip) => ip, (ip) => ip],
  ['decimal integer', (ip) => String(toInt(ip)), (ip) => ip],
  ['hex integer', (ip) => `0x${hex(toInt(ip))}`, (ip) => ip],
  ['upper-case hex integer', (ip) => `0X${hex(toInt(ip)).toUpperCase()}`, (ip) => ip],
  ['octal integer', (ip) => `0${toInt(ip).toString(8)}`, (ip) => ip],
  [
    'dotted hex',
    (ip) =>
      octets(ip)
        .map((o) => `0x${hex(o)}`)
        .join('.'),
    (ip) => ip,
  ],
  [
    'dotted octal',
    (ip) =>
      octets(ip)
        .map((o) => `0${o.toString(8)}`)
        .join('.'),
    (ip) => ip,
  ],
  [
    'zero-padded octal',
    (ip) =>
      octets(ip)
        .map((o) => `000${o.toString(8)}`)
        .join('.'),
    (ip) => ip,
  ],
  [
    'mixed hex and decimal',
    (ip) => {
      const [a, b, c, d] = octets(ip);
      return `0x${hex(a)}.${b}.0${c.toString(8)}.${d}`;
    },
    (ip) => ip,
  ],
  [
    'three parts (a.b.16bit)',
    (ip) => {
      const [a, b, c, d] = octets(ip);
      return `${a}.${b}.${c * 256 + d}`;
    },
    (ip) => ip,
  ],
  [
    'two parts (a.24bit)',
    (ip) => {
      const [a, b, c, d] = octets(ip);
      return `${a}.${(b << 16) + (c << 8) + d}`;
    },
    (ip) => ip,
  ],
  ['trailing dot', (ip) => `${ip}.`, (ip) => ip],
  ['percent-encoded', (ip) => [...ip].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join(''), (ip) => ip],
  [
    'full-width digits',
    (ip) => [...ip].map((ch) => (ch === '.' ? '\uff0e' : String.fromCharCode(0xff10 + Number(ch)))).join(''),
    (ip) => ip,
  ],
  ['IPv4-mapped IPv6', (ip) => `[::ffff:${ip}]`, (ip) => v6('::ffff:', ip)],
  [
    'IPv4-mapped IPv6, hex',
    (ip) => {
      const [h, l] = groupsOf(ip);
      return `[::ffff:${hex4(h)}:${hex4(l)}]`;
    },
    (ip) => v6('::ffff:', ip),
  ],
  ['IPv4-mapped IPv6, expanded', (ip) => `[0:0:0:0:0:ffff:${ip}]`, (ip) => v6('::ffff:', ip)],
  ['IPv4-translated IPv6', (ip) => `[::ffff:0:${ip}]`, (ip) => v6('::ffff:0:', ip)],
  ['NAT64', (ip) => `[64:ff9b::${ip}]`, (ip) => v6('64:ff9b::', ip)],
  [
    '6to4',
    (ip) => {
      const [h, l] = groupsOf(ip);
      return `[2002:${hex4(h)}:${hex4(l)}::1]`;
    },
    (ip) => {
      const [h, l] = groupsOf(ip);
      return new URL(`http://[2002:${hex(h)}:${hex(l)}::1]/`).hostname;
    },
  ],
];

/** Denied IPv6 ranges in the forms people write them, with how WHATWG serializes them. */
const DENIED_IPV6: ReadonlyArray<[string, string]> = [
  ['[::1]', '[::1]'],
  ['[0:0:0:0:0:0:0:1]', '[::1]'],
  ['[0000:0000:0000:0000:0000:0000:0000:0001]', '[::1]'],
  ['[::0:1]', '[::1]'],
  ['[::]', '[::]'],
  ['[0::0]', '[::]'],
  ['[0:0:0:0:0:0:0:0]', '[::]'],
  ['[fc00::1]', '[fc00::1]'],
  ['[fd12::1]', '[fd12::1]'],
  ['[FD00:EC2::254]', '[fd00:ec2::254]'],
  ['[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]', '[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]'],
  ['[fe80::1]', '[fe80::1]'],
  ['[FE80::A:B:C:D]', '[fe80::a:b:c:d]'],
  ['[febf:ffff::1]', '[febf:ffff::1]'],
  ['[fec0::1]', '[fec0::1]'],
  ['[ff02::1]', '[ff02::1]'],
  ['[ff05::1:3]', '[ff05::1:3]'],
  ['[2001:db8::1]', '[2001:db8::1]'],
  ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]', '[2001:db8:85a3::8a2e:370:7334]'],
  ['[100::1]', '[100::1]'],
  ['[2001::1]', '[2001::1]'],
  ['[64:ff9b:1::a00:1]', '[64:ff9b:1::a00:1]'],
  ['[::127.0.0.1]', '[::7f00:1]'],
  ['[::10.0.0.1]', '[::a00:1]'],
  ['[3fff::1]', '[3fff::1]'],
];

/** Names refused before DNS, in the spellings WHATWG folds onto them. */
const DENIED_NAMES: ReadonlyArray<[string, string]> = [
  ['localhost', 'localhost'],
  ['LOCALHOST', 'localhost'],
  ['LocalHost', 'localhost'],
  ['localhost.', 'localhost.'],
  ['localhost..', 'localhost..'],
  ['ｌｏｃａｌｈｏｓｔ', 'localhost'],
  ['api.localhost', 'api.localhost'],
  ['a.b.LOCALHOST.', 'a.b.localhost.'],
  ['metadata.google.internal', 'metadata.google.internal'],
  ['METADATA.GOOGLE.INTERNAL.', 'metadata.google.internal.'],
  ['metadata.goog', 'metadata.goog'],
  ['metadata', 'metadata'],
  ['Metadata.', 'metadata.'],
  ['instance-data', 'instance-data'],
  ['instance-data.ec2.internal', 'instance-data.ec2.internal'],
  ['%6c%6f%63%61%6c%68%6f%73%74', 'localhost'],
];

export function deniedPayloads(): Payload[] {
  const payloads: Payload[] = [];
  for (const ip of DENIED_IPV4) {
    for (const [notation, write, canonical] of IPV4_NOTATIONS) {
      payloads.push({ authority: write(ip), canonical: canonical(ip), notation: `${notation} of ${ip}` });
    }
  }
  for (const [written, canonical] of DENIED_IPV6)
    payloads.push({ authority: written, canonical, notation: 'IPv6' });
  for (const [written, canonical] of DENIED_NAMES)
    payloads.push({ authority: written, canonical, notation: 'name' });
  return payloads;
}

/** Public addresses, many right next to a denied range's edge: the guard must not over-block them. */
export const PUBLIC_IPV4 = [
  '1.1.1.1',
  '1.0.0.1',
  '8.8.8.8',
  '8.8.4.4',
  '9.9.9.9',
  '9.255.255.255',
  '11.0.0.0',
  '11.0.0.1',
  '23.0.0.1',
  '31.13.64.35',
  '34.117.59.81',
  '45.33.32.156',
  '52.95.110.1',
  '64.233.160.0',
  '66.102.0.1',
  '93.184.215.14',
  '99.255.255.255',
  '100.63.255.255',
  '100.128.0.0',
  '101.0.0.1',
  '104.16.0.1',
  '126.255.255.255',
  '128.0.0.0',
  '128.0.0.1',
  '140.82.112.3',
  '151.101.1.69',
  '157.240.1.35',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '172.217.0.46',
  '185.199.108.153',
  '191.255.255.255',
  '192.0.1.255',
  '192.0.3.0',
  '192.31.196.1',
  '192.52.193.1',
  '192.88.98.255',
  '192.88.100.0',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '198.51.99.255',
  '198.51.101.0',
  '199.232.0.1',
  '203.0.112.255',
  '203.0.114.0',
  '208.67.222.222',
  '216.58.214.14',
  '223.255.255.254',
  '13.107.42.14',
  '20.112.52.29',
  '40.76.4.15',
  '54.239.28.85',
  '74.125.24.100',
  '76.76.21.21',
  '80.80.80.80',
  '84.200.69.80',
  '89.233.43.71',
  '94.140.14.14',
  '103.21.244.0',
  '108.177.8.1',
  '114.114.114.114',
  '129.250.35.250',
  '130.211.0.1',
  '142.250.72.14',
  '149.112.112.112',
  '156.154.70.1',
  '162.159.200.1',
  '176.103.130.130',
  '195.46.39.39',
  '200.160.2.3',
  '209.244.0.3',
  '212.58.244.22',
];

export const PUBLIC_IPV6 = [
  '2606:4700:4700::1111',
  '2606:4700:4700::1001',
  '2001:4860:4860::8888',
  '2001:4860:4860::8844',
  '2620:fe::fe',
  '2a00:1450:4001:82a::200e',
  '2a03:2880:f10c:83:face:b00c:0:25de',
  '2400:cb00:2048:1::c629:d7a2',
  '2001:500:88:200::10',
  '2001:7fd::1',
  '2a02:26f0:fd::',
  '2604:a880:400:d0::1',
  '2001:db9::1',
  '2001:1::1',
  '2002:808:808::1',
  '64:ff9b::808:808',
  '::ffff:808:808',
  'fbff:ffff::1',
  'fe7f::1',
  'ff::1',
  '2600::1',
  '2620:0:ccc::2',
  '2a01:4f8:c17:b8f::2',
  '2001:41d0:8:e8ad::1',
];
