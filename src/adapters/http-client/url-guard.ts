/**
 * The DNS-free half of the SSRF guard: scheme, userinfo, port, literal addresses and denied names,
 * all read from the one WHATWG parse the client then connects with (docs/security.md A03, A07, A09, A15).
 */
import { isIP } from 'node:net';
import { EgressError } from '../../core/ports/http-client.ts';
import { type AllowList, deniedAddressReason, deniedNameReason, normalizeHost } from './address-policy.ts';

/**
 * How a destination that passed may be dialled: `open` resolves through the public-address check;
 * `allowlisted` (a host name on a port not open to public hosts) only if every answer is allow-listed.
 */
export type Route = 'open' | 'allowlisted';

export interface UrlGuard {
  parse(raw: string): URL;
  /** Throws EGRESS_DENIED, or says how the destination may be dialled. */
  check(url: URL): Route;
}

const OPEN_PORTS = [80, 443];

export function createUrlGuard(allowList: AllowList, allowedPorts: readonly number[]): UrlGuard {
  const ports: ReadonlySet<number> = new Set([...OPEN_PORTS, ...allowedPorts]);

  return {
    parse(raw) {
      try {
        return new URL(raw);
      } catch {
        throw new EgressError('INVALID_URL', 'the URL is not a valid absolute URL');
      }
    },

    check(url) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new EgressError(
          'EGRESS_DENIED',
          `the ${url.protocol} scheme is not allowed (only http and https)`,
        );
      }
      const host = normalizeHost(url.hostname);
      if (url.username !== '' || url.password !== '') {
        throw new EgressError(
          'EGRESS_DENIED',
          `the URL for ${host} carries credentials (user@host); credentials belong in secrets`,
        );
      }
      const portOpen = url.port === '' || ports.has(Number(url.port));
      if (isIP(host) !== 0) {
        if (allowList.hasAddress(host)) return 'open';
        const reason = deniedAddressReason(host);
        if (reason !== undefined) throw new EgressError('EGRESS_DENIED', `${host} is ${reason}`);
        if (!portOpen) throw portDenied(host, url.port);
        return 'open';
      }
      if (allowList.hasName(host)) return 'open';
      const reason = deniedNameReason(host);
      if (reason !== undefined) throw new EgressError('EGRESS_DENIED', `${host} is ${reason}`);
      if (portOpen) return 'open';
      // The port is open only to allow-listed addresses, which the connection's lookup will demand.
      if (allowList.hasAddressRules) return 'allowlisted';
      throw portDenied(host, url.port);
    },
  };
}

function portDenied(host: string, port: string): EgressError {
  return new EgressError('EGRESS_DENIED', `port ${port} is not allowed for ${host}`);
}
