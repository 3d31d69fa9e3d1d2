/** Webhook triggers: an optional `signing_secret_id` naming a secret of the organization. */
import { AppError } from '../../../core/errors.ts';
import type { Store } from '../../../core/ports/store.ts';
import { signingSecretIdOf } from '../webhook-signature.ts';
import type { TriggerKind } from './kind.ts';

export function webhookTrigger(store: Store): TriggerKind {
  return {
    async configure(organizationId, configuration) {
      const secretId = signingSecretIdOf(configuration);
      if (secretId instanceof Error)
        throw new AppError('VALIDATION_FAILED', `trigger_configuration: ${secretId.message}`, {
          path: '/trigger_configuration',
        });
      if (secretId !== undefined && !(await store.secrets.get(organizationId, secretId)))
        throw new AppError('VALIDATION_FAILED', `trigger_configuration: no secret with id ${secretId}`, {
          path: '/trigger_configuration/signing_secret_id',
        });
      return configuration ?? null;
    },
  };
}
