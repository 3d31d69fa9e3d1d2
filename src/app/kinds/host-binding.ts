/**
 * Secrets are bound to the hosts they may go to, and only holders of secrets:write bind them (a secret's
 * allowed_hosts). An http action sends a secret to its allowed_hosts, or, when that list is empty, to
 * the one host the action calls. Code that can read secrets may reach only the hosts those secrets are
 * bound to, with every request: code can transform a value past any scan, so what a request visibly
 * carries cannot decide where it may go.
 */
import { EgressError, type RedirectHop } from '../../core/ports/http-client.ts';
import type { SecretRecord } from '../../core/secrets.ts';

export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase();
  if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
  return h === pattern;
}

const boundTo = (host: string, patterns: readonly string[]) =>
  patterns.some((pattern) => hostMatches(host, pattern));

export function allowedFor(secret: SecretRecord, defaultHosts: readonly string[]): readonly string[] {
  return secret.allowedHosts.length > 0 ? secret.allowedHosts : defaultHosts.map((h) => h.toLowerCase());
}

/** The first secret that may not go to `host`, or undefined. */
export function secretRefusedFor(
  host: string,
  secrets: readonly SecretRecord[],
  defaultHosts: readonly string[],
): SecretRecord | undefined {
  return secrets.find((secret) => !boundTo(host, allowedFor(secret, defaultHosts)));
}

const hop = (redirected: boolean) => (redirected ? 'Redirect' : 'Request');

export function refusal(
  secret: SecretRecord,
  host: string,
  defaultHosts: readonly string[],
  redirected: boolean,
): EgressError {
  const allowed = allowedFor(secret, defaultHosts);
  const where = allowed.length > 0 ? `may only be sent to ${allowed.join(', ')}` : 'is bound to no host';
  return new EgressError(
    'EGRESS_DENIED',
    `${hop(redirected)} to ${host} refused: it would carry secret ${secret.name}, which ${where}. ` +
      'Add the host to the secret’s allowed_hosts if it should go there.',
  );
}

/** A beforeRedirect hook refusing every hop `refuse` gives a reason for. */
export function redirectGuard(refuse: (host: string) => EgressError | undefined): (hop: RedirectHop) => void {
  return (next) => {
    const refused = refuse(next.to.hostname);
    if (refused) throw refused;
  };
}

/** A beforeRedirect hook refusing any hop that would take a carried secret to a host it is not bound to. */
export function guardRedirects(
  secrets: readonly SecretRecord[],
  defaultHosts: readonly string[],
): (hop: RedirectHop) => void {
  return redirectGuard((host) => {
    const refused = secretRefusedFor(host, secrets, defaultHosts);
    return refused && refusal(refused, host, defaultHosts, true);
  });
}

/**
 * Why code that can read `inScope` may not send a request to `host`: one of those secrets is bound to
 * no host (so nowhere is safe, and the message says how to bind it), or no secret is bound to `host`.
 * Undefined when it may; code that can read no secret meets only the egress guard.
 */
export function scopeRefusal(
  host: string,
  inScope: readonly SecretRecord[],
  redirected: boolean,
): EgressError | undefined {
  if (inScope.length === 0) return undefined;
  const unbound = inScope.find((secret) => secret.allowedHosts.length === 0);
  if (unbound) {
    return new EgressError(
      'EGRESS_DENIED',
      `${hop(redirected)} to ${host} refused: this code can read secret ${unbound.name}, which is bound to no ` +
        'host, so it may not fetch anything. Bind the secret to the hosts it is for: ' +
        `PATCH /v1/secrets/${unbound.id} with {"allowed_hosts": ["api.example.com"]}.`,
    );
  }
  if (inScope.some((secret) => boundTo(host, secret.allowedHosts))) return undefined;
  const hosts = [...new Set(inScope.flatMap((secret) => secret.allowedHosts))];
  return new EgressError(
    'EGRESS_DENIED',
    `${hop(redirected)} to ${host} refused: this code can read secrets (${inScope.map((s) => s.name).join(', ')}), ` +
      `so it may fetch only the hosts they are bound to: ${hosts.join(', ')}. If it should reach ${host}, ` +
      'add it to the allowed_hosts of the secret it is for (PATCH /v1/secrets/{id}).',
  );
}

/** The warning for code that can read `secret` while it is bound to no host: every fetch refuses. */
export const unboundSecretWarning = (name: string, secret: SecretRecord, whose: string): string =>
  `Secret ${name}${whose} is bound to no host, so the fetch of code that can read it refuses every request ` +
  `until it is: PATCH /v1/secrets/${secret.id} with {"allowed_hosts": [...]} (a key with secrets:write ` +
  'decides where a secret may go).';
