/**
 * The lookup hook handed to every socket the client opens. Resolution and the address check happen
 * here, inside the connection, so the addresses vetted are the only ones dialled: a TTL-0 name that
 * rebinds between a check and a connect has no second query to answer (docs/security.md A08). Node does not
 * call it for literal IPs; the URL guard checks those before dispatch.
 */
import { isIP, type LookupFunction } from 'node:net';
import { EgressError } from '../../core/ports/http-client.ts';
import { type AllowList, deniedAddressReason, deniedNameReason, normalizeHost } from './address-policy.ts';
import type { ResolvedAddress, Resolver } from './resolver.ts';
import type { Route } from './url-guard.ts';

export function createGuardedLookup(resolve: Resolver, allowList: AllowList, route: Route): LookupFunction {
  async function vet(hostname: string): Promise<ResolvedAddress[]> {
    const host = normalizeHost(hostname.toLowerCase());
    const listedName = allowList.hasName(host);
    if (!listedName) {
      const reason = deniedNameReason(host);
      if (reason !== undefined) throw new EgressError('EGRESS_DENIED', `${host} is ${reason}`);
    }
    const answers = await resolve(host);
    const vetted: ResolvedAddress[] = [];
    for (const { address } of answers) {
      const family = isIP(address);
      // Rule (A05, A14): one denied answer refuses the whole name, whatever the others are.
      if (!listedName) refuseIfDenied(host, address, allowList, route);
      if (family !== 0) vetted.push({ address, family: family === 6 ? 6 : 4 });
    }
    if (vetted.length === 0) {
      throw new EgressError('CONNECTION_FAILED', `could not resolve ${host} (no address)`);
    }
    return vetted;
  }

  return (hostname, options, callback) => {
    vet(hostname).then(
      (addresses) => {
        const family = options.family;
        const wanted =
          family === 4 || family === 6 ? addresses.filter((answer) => answer.family === family) : addresses;
        const first = wanted[0];
        if (first === undefined) {
          callback(
            new EgressError('CONNECTION_FAILED', `could not resolve ${hostname} (no IPv${family} address)`),
            '',
          );
        } else if (options.all === true) {
          callback(null, wanted);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => {
        const failure =
          error instanceof EgressError
            ? error
            : new EgressError('CONNECTION_FAILED', `could not resolve ${hostname}`);
        callback(failure, '');
      },
    );
  };
}

function refuseIfDenied(host: string, address: string, allowList: AllowList, route: Route): void {
  if (allowList.hasAddress(address)) return;
  if (route === 'allowlisted') {
    throw new EgressError(
      'EGRESS_DENIED',
      `${host} resolved to ${address}, which is not allow-listed (required on a non-standard port)`,
    );
  }
  const reason = deniedAddressReason(address);
  if (reason !== undefined)
    throw new EgressError('EGRESS_DENIED', `${host} resolved to ${address}, ${reason}`);
}
