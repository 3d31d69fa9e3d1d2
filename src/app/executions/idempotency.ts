/**
 * Idempotency-Key (docs/security.md, "Limits" and G-14): the same key and body return the stored response and
 * cause one effect; the same key with another body is a 422; concurrent requests with one key execute
 * once, the others waiting for its result. Keys are scoped to the organization and the route, kept 24 h.
 */
import { AppError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Store } from '../../core/ports/store.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
const POLL_MS = 20;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function checkIdempotencyKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces',
      {
        details: { location: 'headers' },
        path: '/Idempotency-Key',
      },
    );
  }
}

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface Idempotency {
  /**
   * `replayable`: whether a result is the answer to keep for the key. One that is not (an execution
   * stopped before it finished) is answered once and releases the key, as a thrown error does, so a
   * retry with the key runs again.
   */
  run<T>(
    organizationId: string,
    scope: string,
    key: string,
    request: unknown,
    deadlineMs: number,
    work: () => Promise<T>,
    replayable?: (result: T) => boolean,
  ): Promise<T>;
}

export function createIdempotency(store: Store, crypto: Crypto, clock: Clock): Idempotency {
  const now = () => new Date(clock.now()).toISOString();
  return {
    async run<T>(
      organizationId: string,
      scope: string,
      key: string,
      request: unknown,
      deadlineMs: number,
      work: () => Promise<T>,
      replayable?: (result: T) => boolean,
    ): Promise<T> {
      checkIdempotencyKey(key);
      const hash = crypto.sha256(canonicalJson(request));
      const giveUpAt = clock.now() + deadlineMs;
      for (;;) {
        const claim = await store.idempotency.claim(
          organizationId,
          scope,
          key,
          hash,
          now(),
          new Date(clock.now() + IDEMPOTENCY_TTL_MS).toISOString(),
        );
        if (claim.claimed) {
          let result: T;
          try {
            result = await work();
          } catch (error) {
            await store.idempotency.release(organizationId, scope, key);
            throw error;
          }
          if (replayable && !replayable(result)) {
            await store.idempotency.release(organizationId, scope, key);
            return result;
          }
          await store.idempotency.complete(organizationId, scope, key, { status: 200, body: result });
          return result;
        }
        if (claim.existing.requestHash !== hash) {
          throw new AppError(
            'IDEMPOTENCY_MISMATCH',
            'This Idempotency-Key was already used with a different request; use a new key for a new request',
          );
        }
        if (claim.existing.state === 'done' && claim.existing.response)
          return claim.existing.response.body as T;
        // another request with this key is running: wait for its answer
        while (clock.now() < giveUpAt) {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          const current = await store.idempotency.get(organizationId, scope, key);
          if (!current) break; // it failed and released the key: claim it again
          if (current.state === 'done' && current.response) return current.response.body as T;
        }
        if (clock.now() >= giveUpAt) {
          throw new AppError(
            'CONFLICT',
            'A request with this Idempotency-Key is still running; retry later with the same key',
            { retryAfterSeconds: 1 },
          );
        }
      }
    },
  };
}
