/**
 * The secrets code can read (an action's own and its integration's), and the secrets:use rule: only
 * keys trusted with secrets write code that reads them, directly or by adding a secret to an integration
 * whose code actions would then read it.
 */
import { AppError } from '../core/errors.ts';
import type { Repositories } from '../core/ports/store.ts';
import { secretsInScope } from '../core/secrets.ts';
import type { SecretInScope } from './kinds/kind.ts';

/** The 403 for a save that would let code read secrets, from a key without secrets:use. */
export const secretsUseNeeded = (what: string): AppError =>
  new AppError(
    'INSUFFICIENT_SCOPE',
    `${what}; writing code that can read secrets needs the "secrets:use" scope besides "actions:write"`,
    { details: { required_scope: 'secrets:use' } },
  );

/** The stored secrets an action's code can read, by the names it reads them by (missing ones left out). */
export async function secretsReadBy(
  store: Pick<Repositories<'secrets'>, 'secrets'>,
  organizationId: string,
  integration: { secrets: Readonly<Record<string, string>> } | null,
  own: Readonly<Record<string, string>>,
): Promise<SecretInScope[]> {
  const inScope: SecretInScope[] = [];
  for (const [name, id] of Object.entries(secretsInScope(integration, own))) {
    const secret = await store.secrets.get(organizationId, id);
    if (secret)
      inScope.push({ name, declaredBy: Object.hasOwn(own, name) ? 'action' : 'integration', secret });
  }
  return inScope;
}
