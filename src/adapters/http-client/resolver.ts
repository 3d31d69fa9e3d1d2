/**
 * Name resolution for outbound requests: the system resolver (getaddrinfo, so /etc/hosts counts), or
 * the operator's DNS servers. Every answer is returned, so the guard can check them all (A05, A14).
 */
import { Resolver as DnsResolver, lookup } from 'node:dns/promises';
import { EgressError } from '../../core/ports/http-client.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses; rejects when there are none. Injectable for tests. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export function systemResolver(): Resolver {
  return async (hostname) => {
    try {
      const answers = await lookup(hostname, { all: true, order: 'verbatim' });
      return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
    } catch (error) {
      throw resolutionFailed(hostname, error);
    }
  };
}

/** Queries `servers` (`ip` or `ip:port`) for A and AAAA records, in parallel. */
export function serverResolver(servers: readonly string[], timeoutMs: number): Resolver {
  const resolver = new DnsResolver({ timeout: Math.max(100, Math.min(timeoutMs, 2_000)), tries: 2 });
  resolver.setServers([...servers]);
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const answers: ResolvedAddress[] = [];
    if (v4.status === 'fulfilled') for (const address of v4.value) answers.push({ address, family: 4 });
    if (v6.status === 'fulfilled') for (const address of v6.value) answers.push({ address, family: 6 });
    if (answers.length > 0) return answers;
    // No answer in either family: report the more telling failure (a timeout over "no data").
    const failure = [v4, v6].find(
      (result) => result.status === 'rejected' && !NO_ANSWER.has(codeOf(result.reason)),
    );
    throw resolutionFailed(hostname, failure?.status === 'rejected' ? failure.reason : undefined);
  };
}

const NO_ANSWER: ReadonlySet<string> = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND', 'NODATA']);

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : 'ENOTFOUND';
}

function resolutionFailed(hostname: string, error: unknown): EgressError {
  return new EgressError('CONNECTION_FAILED', `could not resolve ${hostname} (${codeOf(error)})`);
}
