import { describe, expect, it } from 'vitest';
import { clientGroup } from '../../src/core/ip-address.ts';

describe('clientGroup: who a failed authentication counts against', () => {
  it.each([
    ['an IPv4 address is itself', '203.0.113.9', 64, '203.0.113.9'],
    ['an IPv4-mapped IPv6 address is its IPv4 address', '::ffff:203.0.113.9', 64, '203.0.113.9'],
    ['a mapped address in hex groups too', '::ffff:cb00:7109', 64, '203.0.113.9'],
    ['an IPv6 address is its /64', '2001:db8:a:b:1:2:3:4', 64, '2001:db8:a:b:0:0:0:0/64'],
    ['in any notation', '2001:DB8:A:B::FFFF', 64, '2001:db8:a:b:0:0:0:0/64'],
    ['with a shorter prefix', '2001:db8:a:b::1', 48, '2001:db8:a:0:0:0:0:0/48'],
    ['with a prefix inside a group', '2001:db8:abcd::1', 36, '2001:db8:a000:0:0:0:0:0/36'],
    ['or every address alone at 128', '2001:db8::1', 128, '2001:db8:0:0:0:0:0:1/128'],
    ['loopback', '::1', 64, '0:0:0:0:0:0:0:0/64'],
    ['text that is no address is its own group', 'unknown', 64, 'unknown'],
  ])('%s', (_name, address, bits, group) => {
    expect(clientGroup(address, bits)).toBe(group);
  });

  it('puts addresses of one /64 together and the next /64 apart', () => {
    expect(clientGroup('2001:db8:1:2::1', 64)).toBe(clientGroup('2001:db8:1:2:ffff:ffff:ffff:ffff', 64));
    expect(clientGroup('2001:db8:1:2::1', 64)).not.toBe(clientGroup('2001:db8:1:3::1', 64));
  });
});
