/**
 * Strict parsers for the address forms the egress guard sees: the canonical text WHATWG URL and DNS
 * answers produce. Anything else is not an address (and a resolver answer that does not parse is
 * refused). Also how client addresses are grouped for the failed-authentication limit.
 */

/** An IPv4 address in dotted-decimal form as an unsigned 32-bit integer, or undefined. */
export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46; // a virtual '.' closes the last part
    if (code === 46) {
      if (digits === 0 || part > 255) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      // A leading zero would mean octal in the legacy notations: not the canonical form.
      if (digits === 1 && part === 0) return undefined;
      part = part * 10 + (code - 48);
      if (++digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

export function formatIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** An IPv6 address (optionally with an embedded dotted quad) as eight 16-bit groups, or undefined. */
export function parseIPv6(text: string): Uint16Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  const head = parseGroups(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : parseGroups(text.slice(gap + 2), true);
  if (head === undefined || tail === undefined) return undefined;
  if (gap === -1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const groups = new Uint16Array(8);
  groups.set(head, 0);
  groups.set(tail, 8 - tail.length);
  return groups;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Colon-separated hex groups; the last may be a dotted quad (two groups) when `v4Last`. */
function parseGroups(part: string, v4Last: boolean): number[] | undefined {
  if (part === '') return [];
  const list = part.split(':');
  const values: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const group = list[i] as string;
    if (v4Last && i === list.length - 1 && group.includes('.')) {
      const v4 = parseIPv4(group);
      if (v4 === undefined) return undefined;
      values.push(v4 >>> 16, v4 & 0xffff);
    } else if (HEX_GROUP.test(group)) {
      values.push(parseInt(group, 16));
    } else {
      return undefined;
    }
  }
  return values;
}

/** The mask of a 16-bit group of which the first `bits` bits (all when 16 or more) are in a prefix. */
const groupMask = (bits: number): number => (bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff);

/** Whether the first `bits` bits of `address` equal those of `network`. */
export function inPrefix6(address: Uint16Array, network: Uint16Array, bits: number): boolean {
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = groupMask(bits);
    if (((address[i] as number) & mask) !== ((network[i] as number) & mask)) return false;
  }
  return true;
}

/** The IPv4 address carried by groups `at` and `at + 1`. */
export function embeddedIPv4(address: Uint16Array, at: number): number {
  return ((address[at] as number) * 65536 + (address[at + 1] as number)) >>> 0;
}

/**
 * The client a request counts against when its address alone is not the unit: an IPv4 address is one
 * client, an IPv6 address counts with its /`ipv6PrefixBits` network (one subscriber is usually handed a
 * whole /64, so counting single addresses would give it 2^64 tries), and an IPv4-mapped IPv6 address is
 * the IPv4 address it carries. Text that is no address is its own group.
 */
export function clientGroup(address: string, ipv6PrefixBits: number): string {
  if (parseIPv4(address) !== undefined) return address;
  const groups = parseIPv6(address);
  if (!groups) return address;
  if (groups.subarray(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return formatIPv4(embeddedIPv4(groups, 6));
  const network = new Uint16Array(8);
  for (let i = 0, bits = ipv6PrefixBits; i < 8 && bits > 0; i++, bits -= 16)
    network[i] = (groups[i] as number) & groupMask(bits);
  return `${[...network].map((g) => g.toString(16)).join(':')}/${ipv6PrefixBits}`;
}
