/**
 * What fires workflows besides `POST /v1/workflows/{workflow_id}/runs`: webhook deliveries and events.
 * Both check the trigger constraints (JSON Logic over the trigger data) before a run starts, and both
 * deduplicate on the delivery's id through the idempotency store (24 h, docs/security.md G02): a repeat
 * answers what the first delivery did and starts nothing.
 */
import { AppError, notFound } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Principal } from '../../core/tenancy.ts';
import { constraintsPass } from '../../core/workflows/json-logic.ts';
import { isEventTrigger, type WorkflowVersion } from '../../core/workflows/model.ts';
import type { RevealSecret } from '../../core/ports/secret-reveal.ts';
import type { RunService } from './runs.ts';
import {
  MAX_DELIVERY_ID_BYTES,
  signingSecretIdOf,
  verifyWebhook,
  type SignedHeaders,
} from './webhook-signature.ts';

export const DELIVERY_TTL_MS = 24 * 3_600_000;

export interface TriggerDeps {
  store: Pick<Store, 'idempotency' | 'workflows'>;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  runs: RunService;
  reveal: RevealSecret;
}

/** One workflow's answer to a delivery: the run it started, or why it started none. */
export interface Fired {
  workflowId: string;
  runId: string | null;
  skipped: string | null;
}

export interface Delivery {
  fired: Fired[];
  /** True when this delivery id was seen before: nothing new started. */
  duplicate: boolean;
}

export interface WebhookRequest {
  token: string;
  body: unknown;
  rawBody: string;
  signed: SignedHeaders;
  idempotencyKey: string | undefined;
  /**
   * Admission for the workflow's organization, once the token has named it: throws to refuse (the
   * HTTP layer's per-organization rate limit, docs/security.md G05). Before the signature is checked.
   */
  admit?: ((organizationId: string) => Promise<void>) | undefined;
}

export interface EventInput {
  type: string;
  id: string;
  data: Record<string, unknown>;
}

export type TriggerService = ReturnType<typeof createTriggerService>;

const CONSTRAINTS_FAILED = 'trigger constraints not met';

/**
 * A delivery id up to MAX_DELIVERY_ID_BYTES of any form; a longer one is refused rather than ignored, so
 * a sender learns that its retries would not be deduplicated. Header values arrive one character a byte.
 */
function checkDeliveryId(header: string, value: string | undefined): void {
  if (value !== undefined && value.length > MAX_DELIVERY_ID_BYTES)
    throw new AppError(
      'VALIDATION_FAILED',
      `${header} is ${value.length} bytes long; at most ${MAX_DELIVERY_ID_BYTES} are accepted`,
    );
}

export function createTriggerService({ store, crypto, clock, logger, runs, reveal }: TriggerDeps) {
  const iso = (ms: number) => new Date(ms).toISOString();

  async function fire(version: WorkflowVersion, data: Record<string, unknown>): Promise<Fired> {
    if (!constraintsPass(version, data))
      return { workflowId: version.workflowId, runId: null, skipped: CONSTRAINTS_FAILED };
    const run = await runs.startVersion(version, data, null);
    return { workflowId: version.workflowId, runId: run.id, skipped: null };
  }

  /** Runs `work` once per (scope, id); a repeat answers the stored result with `duplicate: true`. */
  async function once(
    organizationId: string,
    scope: string,
    id: string | undefined,
    hash: string,
    work: () => Promise<Fired[]>,
  ): Promise<Delivery> {
    if (!id) return { fired: await work(), duplicate: false };
    const now = clock.now();
    const claim = await store.idempotency.claim(
      organizationId,
      scope,
      id,
      hash,
      iso(now),
      iso(now + DELIVERY_TTL_MS),
    );
    if (!claim.claimed) {
      if (claim.existing.state !== 'done')
        throw new AppError('CONFLICT', `Delivery ${id} is being processed; retry later`);
      return { fired: (claim.existing.response?.body as Fired[] | undefined) ?? [], duplicate: true };
    }
    let fired: Fired[];
    try {
      fired = await work();
    } catch (error) {
      await store.idempotency.release(organizationId, scope, id).catch(() => undefined);
      throw error;
    }
    await store.idempotency.complete(organizationId, scope, id, { status: 202, body: fired });
    return { fired, duplicate: false };
  }

  return {
    /** A delivery to `/v1/hooks/<token>`: unknown tokens are 404, bad signatures 401 (G01, G03). */
    async webhook(request: WebhookRequest): Promise<Delivery> {
      const version = await store.workflows.byWebhookToken(request.token);
      if (!version) throw notFound('Webhook');
      await request.admit?.(version.organizationId);
      checkDeliveryId('webhook-id', request.signed.id);
      checkDeliveryId('Idempotency-Key', request.idempotencyKey);
      const secretId = signingSecretIdOf(version.triggerConfiguration);
      if (secretId instanceof Error)
        throw new AppError('UNPROCESSABLE', 'The trigger configuration is invalid');
      if (secretId !== undefined) {
        const { value } = await reveal(version.organizationId, secretId);
        const refused = verifyWebhook(crypto, value, request.signed, request.rawBody, clock.now());
        if (refused) {
          logger.warn(
            { workflowId: version.workflowId, reason: refused.message },
            'webhook delivery refused: bad signature',
          );
          throw new AppError(refused.code, refused.message);
        }
      }
      const data =
        request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body)
          ? (request.body as Record<string, unknown>)
          : { body: request.body };
      return once(
        version.organizationId,
        `workflow-webhook:${version.workflowId}`,
        request.signed.id ?? request.idempotencyKey,
        crypto.sha256(request.rawBody),
        async () => [await fire(version, data)],
      );
    },

    /** `POST /v1/events`: every active workflow of the organization triggered by this event type. */
    async event(principal: Principal, event: EventInput): Promise<Delivery> {
      if (!isEventTrigger(event.type))
        throw new AppError('VALIDATION_FAILED', `"${event.type}" is not an event trigger type`, {
          path: '/type',
        });
      return once(
        principal.organizationId,
        'workflow-event',
        event.id,
        crypto.sha256(JSON.stringify([event.type, event.data])),
        async () => {
          const fired: Fired[] = [];
          for (const version of await store.workflows.activeByTrigger(principal.organizationId, event.type))
            fired.push(await fire(version, event.data));
          return fired;
        },
      );
    },
  };
}
