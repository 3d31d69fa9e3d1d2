/** Webhook triggers: an optional `signing_secret_id` naming a usable signing secret of the organization. */
import { AppError, isAppError } from '../../../core/errors.ts';
import type { RevealSecret } from '../../../core/ports/secret-reveal.ts';
import { signingKeyOf, signingSecretIdOf } from '../webhook-signature.ts';
import type { TriggerKind } from './kind.ts';

const SECRET_PATH = '/trigger_configuration/signing_secret_id';

export function webhookTrigger(reveal: RevealSecret): TriggerKind {
  /** The secret's value; a secret that does not exist is the caller's mistake, a 400. */
  async function valueOf(organizationId: string, secretId: string): Promise<string> {
    try {
      return (await reveal(organizationId, secretId)).value;
    } catch (error) {
      if (isAppError(error) && error.code === 'NOT_FOUND')
        throw new AppError('VALIDATION_FAILED', `trigger_configuration: no secret with id ${secretId}`, {
          path: SECRET_PATH,
        });
      throw error;
    }
  }

  return {
    async configure(organizationId, configuration) {
      const secretId = signingSecretIdOf(configuration);
      if (secretId instanceof Error)
        throw new AppError('VALIDATION_FAILED', `trigger_configuration: ${secretId.message}`, {
          path: '/trigger_configuration',
        });
      if (secretId === undefined) return configuration ?? null;
      // an empty key would let anyone sign a delivery, and one that is not base64 verifies nothing
      const key = signingKeyOf(await valueOf(organizationId, secretId));
      if (key instanceof Error)
        throw new AppError(
          'VALIDATION_FAILED',
          `trigger_configuration: the signing secret ${secretId} ${key.message}`,
          { path: SECRET_PATH },
        );
      return configuration;
    },
  };
}
