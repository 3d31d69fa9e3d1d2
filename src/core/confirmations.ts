/**
 * Confirmation before consequential actions: an action with `requiresConfirmation` is not run when it is
 * called. Its inputs are validated, the request it would send is rendered (secrets masked) and shown, and
 * a pending request is kept until the user confirms (it runs then, under the same execution id), declines
 * (nothing runs) or lets it expire.
 */

/** How long a call waits for its confirmation unless the service is told otherwise. */
export const CONFIRMATION_TTL_MS = 10 * 60_000;

/** pending until decided; each of the others is final. */
export type ConfirmationState = 'pending' | 'confirmed' | 'declined' | 'expired';

export interface ConfirmationRequest {
  /** The execution this becomes: the same id from the moment it is called. */
  executionId: string;
  organizationId: string;
  actionId: string;
  /** The version that was called: confirming runs this one. */
  actionVersion: number;
  /** The inputs as validated when it was called. */
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  conversationId: string | null;
  callerKeyId: string | null;
  /** The caller's Idempotency-Key, sent upstream when it runs. */
  idempotencyKey: string | null;
  state: ConfirmationState;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
}

/** A decision on a pending request; `expired` is the clock's, the others the user's. */
export type ConfirmationDecision = Exclude<ConfirmationState, 'pending'>;
