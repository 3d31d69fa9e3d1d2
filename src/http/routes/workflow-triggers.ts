/**
 * Triggers that start workflow runs from outside: `POST /v1/hooks/<token>` (public; the unguessable
 * token is the credential, limited per token, small bodies only, optionally Standard-Webhooks signed)
 * and `POST /v1/events` (API key, workflows:execute). Both answer 202 with the runs they started.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Delivery, TriggerService } from '../../app/workflows/triggers.ts';
import { DEFAULT_JSON_LIMITS, parseGuardedJson } from '../../core/json-guard.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import { enforceRateLimit, principalOf } from '../plugins/auth.ts';

/** Webhook payloads are events, not uploads. */
export const HOOK_BODY_LIMIT = 256 * 1024;

const Fired = Type.Object({
  workflow_id: Type.String(),
  run_id: Type.Union([Type.String(), Type.Null()], { description: 'Null when no run started' }),
  skipped: Type.Union([Type.String(), Type.Null()], { description: 'Why no run started' }),
});
const DeliveryView = Type.Object({
  duplicate: Type.Boolean({ description: 'This delivery id was seen before: nothing new started' }),
  run_ids: Type.Array(Type.String()),
  workflows: Type.Array(Fired),
});

const deliveryView = (d: Delivery) => ({
  duplicate: d.duplicate,
  run_ids: d.fired.flatMap((f) => (f.runId ? [f.runId] : [])),
  workflows: d.fired.map((f) => ({ workflow_id: f.workflowId, run_id: f.runId, skipped: f.skipped })),
});

/** A header's value as sent (its first, if repeated); the use case checks lengths and says what is wrong. */
const header = (value: string | string[] | undefined): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && first.length > 0 ? first : undefined;
};

interface HookBody {
  raw: string;
  value: unknown;
}

const tags = ['workflows'];

/** Public: registered in its own context so its JSON parser keeps the raw text the signature covers. */
export const hookRoutes: FastifyPluginAsyncTypebox<{
  triggers: TriggerService;
  rateLimiter: RateLimiter;
  /** Deliveries per rolling minute to the webhooks of one organization, with its API requests. */
  perOrganizationPerMinute: number;
  perTokenPerMinute: number;
}> = async (app, { triggers, rateLimiter, perTokenPerMinute, perOrganizationPerMinute }) => {
  const limit = (key: string, perMinute: number, message: string) =>
    enforceRateLimit(rateLimiter, key, perMinute, message);

  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: HOOK_BODY_LIMIT },
    (_request, body, done) => {
      const raw = body as string;
      try {
        done(null, { raw, value: raw.length === 0 ? {} : parseGuardedJson(raw, DEFAULT_JSON_LIMITS) });
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  app.post(
    '/hooks/:token',
    {
      config: { public: true },
      bodyLimit: HOOK_BODY_LIMIT,
      schema: {
        operationId: 'deliverWebhook',
        tags,
        summary: 'Deliver to a webhook-triggered workflow: the JSON body becomes the trigger data',
        description:
          'No API key: the token in the URL is the credential. When the trigger configuration names a `signing_secret_id`, Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) are required: a delivery is accepted when any `v1` entry of `webhook-signature` (at most 64 space-separated entries; `v1a` and other versions are skipped) verifies. A repeated `webhook-id` (or `Idempotency-Key`, each at most 256 bytes) within 24 h starts nothing and answers the first delivery.',
        params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 202: DeliveryView },
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      await limit(`hook:${token}`, perTokenPerMinute, 'Too many deliveries to this webhook; wait and retry');
      const body = request.body as HookBody | undefined;
      const delivery = await triggers.webhook({
        token,
        body: body?.value ?? {},
        rawBody: body?.raw ?? '',
        signed: {
          id: header(request.headers['webhook-id']),
          timestamp: header(request.headers['webhook-timestamp']),
          signature: header(request.headers['webhook-signature']),
        },
        idempotencyKey: header(request.headers['idempotency-key']),
        admit: (organizationId) =>
          limit(
            `org:${organizationId}`,
            perOrganizationPerMinute,
            "Too many requests for this webhook's organization; wait and retry",
          ),
      });
      return reply.code(202).send(deliveryView(delivery));
    },
  );
};

export const eventRoutes: FastifyPluginAsyncTypebox<{ triggers: TriggerService }> = async (
  app,
  { triggers },
) => {
  app.post(
    '/events',
    {
      config: { scope: 'workflows:execute' },
      schema: {
        operationId: 'reportEvent',
        tags,
        summary: 'Report an event: starts every active workflow whose trigger type is the event type',
        description:
          'Each workflow’s trigger constraints (JSON Logic) are checked against `data` first. A repeated `id` starts nothing and answers the runs of the first delivery.',
        body: Type.Object(
          {
            type: Type.String({
              minLength: 1,
              maxLength: 64,
              description: 'An event trigger type, e.g. ticket-created',
            }),
            id: Type.String({
              minLength: 1,
              maxLength: 256,
              description: 'The event id; deduplicated for 24 h',
            }),
            data: Type.Record(Type.String(), Type.Unknown()),
          },
          { additionalProperties: false },
        ),
        response: { 202: DeliveryView },
      },
    },
    async (request, reply) => {
      const delivery = await triggers.event(principalOf(request), request.body);
      return reply.code(202).send(deliveryView(delivery));
    },
  );
};
