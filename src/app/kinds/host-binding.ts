/**
 * A secret goes only to the hosts it is bound to (SECURITY.md principle 3, G-03): those its
 * allowed_hosts list, or, when that list is empty, the action's own hosts (the one host an http action
 * calls; for a code action its integration's host and the hosts its source names).
 */
import { EgressError, type RedirectHop } from '../../core/ports/http-client.ts';
import type { SecretRecord } from '../../core/secrets.ts';

export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase();
  if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
  return h === pattern;
}

export function allowedFor(secret: SecretRecord, defaultHosts: readonly string[]): readonly string[] {
  return secret.allowedHosts.length > 0 ? secret.allowedHosts : defaultHosts.map((h) => h.toLowerCase());
}

/** The first secret that may not go to `host`, or undefined. */
export function secretRefusedFor(
  host: string,
  secrets: readonly SecretRecord[],
  defaultHosts: readonly string[],
): SecretRecord | undefined {
  return secrets.find(
    (secret) => !allowedFor(secret, defaultHosts).some((pattern) => hostMatches(host, pattern)),
  );
}

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
    `${redirected ? 'Redirect' : 'Request'} to ${host} refused: it would carry secret ${secret.name}, which ${where}. ` +
      'Add the host to the secret’s allowed_hosts if it should go there.',
  );
}

/** A beforeRedirect hook refusing any hop that would take a carried secret to a host it is not bound to. */
export function guardRedirects(
  secrets: readonly SecretRecord[],
  defaultHosts: readonly string[],
): (hop: RedirectHop) => void {
  return (hop) => {
    const refused = secretRefusedFor(hop.to.hostname, secrets, defaultHosts);
    if (refused) throw refusal(refused, hop.to.hostname, defaultHosts, true);
  };
}
