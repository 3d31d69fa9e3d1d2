/**
 * Which addresses and names an outbound request may never reach (docs/security.md A01–A05, A14), and the
 * operator's allowlist that overrides it. Checks run on parsed addresses, never on raw URL text.
 */
import { BlockList, isIP } from 'node:net';
import { embeddedIPv4, formatIPv4, inPrefix6, parseIPv4, parseIPv6 } from '../../core/ip-address.ts';

const PRIVATE = 'a private address';
const DOCUMENTATION = 'a documentation address';

interface Range4 {
  network: number;
  bits: number;
  reason: string;
}

/** Ordered: the first match names the reason, so narrower ranges come before the ones holding them. */
const DENIED_IPV4: readonly Range4[] = (
  [
    ['0.0.0.0', 8, 'a "this network" address'],
    ['10.0.0.0', 8, PRIVATE],
    ['100.64.0.0', 10, 'a shared (carrier-grade NAT) address'],
    ['127.0.0.0', 8, 'a loopback address'],
    ['169.254.0.0', 16, 'a link-local address'],
    ['172.16.0.0', 12, PRIVATE],
    ['192.0.0.0', 24, 'an IETF protocol address'],
    ['192.0.2.0', 24, DOCUMENTATION],
    ['192.88.99.0', 24, 'a 6to4 relay address'],
    ['192.168.0.0', 16, PRIVATE],
    ['198.18.0.0', 15, 'a benchmarking address'],
    ['198.51.100.0', 24, DOCUMENTATION],
    ['203.0.113.0', 24, DOCUMENTATION],
    ['224.0.0.0', 4, 'a multicast address'],
    ['255.255.255.255', 32, 'a broadcast address'],
    ['240.0.0.0', 4, 'a reserved address'],
  ] as const
).map(([network, bits, reason]) => ({ network: parseIPv4(network) as number, bits, reason }));

interface Range6 {
  network: Uint16Array;
  bits: number;
  /** A fixed reason, or where an IPv4 address is embedded (group index) and how to name the form. */
  reason: string | { at: number; form: string };
}

const DENIED_IPV6: readonly Range6[] = (
  [
    ['::', 128, 'an unspecified address'],
    ['::1', 128, 'a loopback address'],
    ['::ffff:0:0', 96, { at: 6, form: 'an IPv4-mapped form of' }],
    ['::ffff:0:0:0', 96, { at: 6, form: 'an IPv4-translated form of' }],
    ['64:ff9b::', 96, { at: 6, form: 'a NAT64 form of' }],
    ['64:ff9b:1::', 48, 'a local-use NAT64 address'],
    ['100::', 64, 'a discard-only address'],
    // Teredo tunnels: the client address is obfuscated inside and routing depends on the relay.
    ['2001::', 32, 'a Teredo tunnel address'],
    ['2001:db8::', 32, DOCUMENTATION],
    ['2002::', 16, { at: 1, form: 'a 6to4 form of' }],
    ['3fff::', 20, DOCUMENTATION],
    ['fc00::', 7, PRIVATE],
    ['fe80::', 10, 'a link-local address'],
    ['fec0::', 10, 'a site-local address'],
    ['ff00::', 8, 'a multicast address'],
    // Deprecated IPv4-compatible addresses: nothing public lives there.
    ['::', 96, 'an IPv4-compatible address'],
  ] as const
).map(([network, bits, reason]) => ({ network: parseIPv6(network) as Uint16Array, bits, reason }));

function deniedIPv4(value: number): string | undefined {
  for (const range of DENIED_IPV4) {
    const shift = 32 - range.bits;
    if (value >>> shift === range.network >>> shift) return range.reason;
  }
  return undefined;
}

function deniedIPv6(groups: Uint16Array): string | undefined {
  for (const range of DENIED_IPV6) {
    if (!inPrefix6(groups, range.network, range.bits)) continue;
    if (typeof range.reason === 'string') return range.reason;
    const v4 = embeddedIPv4(groups, range.reason.at);
    const inner = deniedIPv4(v4);
    return inner === undefined ? undefined : `${range.reason.form} ${formatIPv4(v4)}, ${inner}`;
  }
  return undefined;
}

/**
 * Why `address` (an IP literal without brackets) must not be reached, or undefined when it is public.
 * Text that is not an address is refused too: the guard fails closed.
 */
export function deniedAddressReason(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return deniedIPv4(v4);
  const v6 = address.includes(':') ? parseIPv6(address) : undefined;
  if (v6 !== undefined) return deniedIPv6(v6);
  return 'not a valid IP address';
}

const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

/** Names refused before any DNS query; `host` is lowercased without trailing dots. */
export function deniedNameReason(host: string): string | undefined {
  if (host === 'localhost' || host.endsWith('.localhost')) return 'a loopback name';
  if (METADATA_NAMES.has(host)) return 'a cloud metadata name';
  return undefined;
}

/** The host of a parsed URL as the checks compare it: no IPv6 brackets, no trailing dots. */
export function normalizeHost(hostname: string): string {
  let host = hostname;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  let end = host.length;
  while (end > 0 && host.charCodeAt(end - 1) === 46) end--;
  return end === host.length ? host : host.slice(0, end);
}

/** The operator's SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: exact host names, IPs and CIDRs. */
export interface AllowList {
  readonly hasAddressRules: boolean;
  hasName(host: string): boolean;
  hasAddress(address: string): boolean;
}

export function compileAllowList(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const addresses = new BlockList();
  let hasAddressRules = false;
  for (const raw of entries) {
    const entry = normalizeHost(raw.trim().toLowerCase());
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const ip = slash === -1 ? entry : normalizeHost(entry.slice(0, slash));
    const family = isIP(ip);
    if (slash !== -1) {
      const bits = entry.slice(slash + 1);
      const max = family === 4 ? 32 : 128;
      if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max) {
        throw new Error(`allowPrivateNetworks: "${raw}" is not a valid CIDR`);
      }
      addresses.addSubnet(ip, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
      hasAddressRules = true;
    } else if (family !== 0) {
      addresses.addAddress(ip, family === 4 ? 'ipv4' : 'ipv6');
      hasAddressRules = true;
    } else if (/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(entry)) {
      names.add(entry);
    } else {
      throw new Error(`allowPrivateNetworks: "${raw}" is not a host name, IP or CIDR`);
    }
  }
  return {
    hasAddressRules,
    hasName: (host) => names.size > 0 && names.has(host),
    hasAddress(address) {
      if (!hasAddressRules) return false;
      const family = isIP(address);
      return family !== 0 && addresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
