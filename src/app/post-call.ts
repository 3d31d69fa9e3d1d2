/**
 * Post-call execution: when a conversation ends, every `post_call` action it called is handed to the
 * durable queue; the queue's worker runs each one (retried with backoff on failures worth retrying, at
 * least once) with the same Idempotency-Key on every attempt, so an upstream that deduplicates on it sees
 * one effect. See core/post-call.ts.
 */
import type { ErrorCategory } from '../core/actions/outcomes.ts';
import type { ExecutionRecord } from '../core/executions.ts';
import type { Clock } from '../core/ports/clock.ts';
import type { Logger } from '../core/ports/logger.ts';
import type { Queue } from '../core/ports/queue.ts';
import type { Store } from '../core/ports/store.ts';
import { POST_CALL_JOB, postCallKey, type PostCallJob, type PostCallRequest } from '../core/post-call.ts';
import type { Principal } from '../core/tenancy.ts';

/** Failures another attempt may cure; the others (bad input, refused, not found) would fail the same way. */
const RETRYABLE: ReadonlySet<ErrorCategory> = new Set(['upstream_error', 'timeout', 'rate_limited']);

export interface PostCallDeps {
  store: Pick<Store, 'postCall'>;
  queue: Queue;
  clock: Clock;
  logger: Logger;
  /**
   * Runs one attempt of a request and records it under the request's execution id; `signal` (the job's)
   * stops it when the worker stops or the job's lease is lost.
   */
  run(request: PostCallRequest, attempt: number, signal: AbortSignal): Promise<ExecutionRecord>;
}

export interface EndedConversation {
  conversationId: string;
  postCall: Array<{ executionId: string; actionId: string; jobId: string }>;
}

export type PostCallService = ReturnType<typeof createPostCallService>;

export function createPostCallService(deps: PostCallDeps) {
  const { store, queue } = deps;

  return {
    /**
     * Enqueues every post-call request of the conversation. Safe to repeat: a request's job is keyed by
     * its execution id, so a second call (or a retry after a crash between enqueueing and marking) finds
     * the job that exists.
     */
    async end(principal: Principal, conversationId: string): Promise<EndedConversation> {
      const { organizationId } = principal;
      const requests = await store.postCall.ofConversation(organizationId, conversationId);
      const postCall: EndedConversation['postCall'] = [];
      for (const request of requests) {
        let jobId = request.jobId;
        if (request.state === 'waiting' || jobId === null) {
          const payload: PostCallJob = { organizationId, executionId: request.executionId };
          const job = await queue.enqueue(POST_CALL_JOB, payload, {
            key: postCallKey(request.executionId),
            organizationId,
          });
          jobId = job.id;
          await store.postCall.markEnqueued(
            organizationId,
            request.executionId,
            jobId,
            new Date(deps.clock.now()).toISOString(),
          );
        }
        postCall.push({ executionId: request.executionId, actionId: request.actionId, jobId });
      }
      return { conversationId, postCall };
    },

    /** Starts working post-call jobs in this process (the server does; the CLI does not). */
    work(concurrency = 4): void {
      queue.work<PostCallJob>(
        POST_CALL_JOB,
        async (job, { signal }) => {
          const request = await store.postCall.get(job.payload.organizationId, job.payload.executionId);
          if (!request) return; // its organization is gone
          const record = await deps.run(request, job.attempt, signal);
          // stopped with its job: not an outcome, the job runs it again
          if (record.status === 'cancelled' && signal.aborted)
            throw new Error(`post-call attempt ${job.attempt} was stopped with its job`);
          const category = record.error?.category;
          if (record.status === 'failed' && category !== undefined && RETRYABLE.has(category)) {
            deps.logger.warn(
              { execution_id: record.id, attempt: job.attempt, category },
              'post-call action failed; retrying later',
            );
            if (job.attempt < job.maxAttempts)
              throw new Error(`post-call attempt ${job.attempt} failed: ${category}`);
          }
        },
        { concurrency },
      );
    },
  };
}
