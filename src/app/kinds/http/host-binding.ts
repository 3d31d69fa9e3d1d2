/**
 * A secret goes only to the hosts it is bound to (SECURITY.md principle 3, G-03): those its
 * allowed_hosts list, or, when that list is empty, the one host the action itself calls.
 */
import { EgressError, type RedirectHop } from '../../../core/ports/http-client.ts';
import type { SecretRecord } from '../../../core/secrets.ts';

export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase();
  if (pattern.startsWith('*.')) return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
  return h === pattern;
}

export function allowedFor(secret: SecretRecord, defaultHost: string): readonly string[] {
  return secret.allowedHosts.length > 0 ? secret.allowedHosts : [defaultHost.toLowerCase()];
}

/** The first secret that may not go to `host`, or undefined. */
export function secretRefusedFor(
  host: string,
  secrets: readonly SecretRecord[],
  defaultHost: string,
): SecretRecord | undefined {
  return secrets.find(
    (secret) => !allowedFor(secret, defaultHost).some((pattern) => hostMatches(host, pattern)),
  );
}

export function refusal(
  secret: SecretRecord,
  host: string,
  defaultHost: string,
  redirected: boolean,
): EgressError {
  const where = allowedFor(secret, defaultHost).join(', ');
  return new EgressError(
    'EGRESS_DENIED',
    `${redirected ? 'Redirect' : 'Request'} to ${host} refused: it would carry secret ${secret.name}, which may only be sent to ${where}. ` +
      'Add the host to the secret’s allowed_hosts if it should go there.',
  );
}

/** A beforeRedirect hook refusing any hop that would take a carried secret to a host it is not bound to. */
export function guardRedirects(
  secrets: readonly SecretRecord[],
  defaultHost: string,
): (hop: RedirectHop) => void {
  return (hop) => {
    const refused = secretRefusedFor(hop.to.hostname, secrets, defaultHost);
    if (refused) throw refusal(refused, hop.to.hostname, defaultHost, true);
  };
}
