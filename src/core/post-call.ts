/**
 * Post-call execution (Talkover's `external` actions, execution mode `post_call`): an action called during
 * a conversation is not run then; it waits for the conversation's end and then runs from the durable
 * queue, retried with backoff, at least once, with a stable idempotency key the upstream can deduplicate on.
 */

export const POST_CALL_JOB = 'post-call';

export type PostCallState = 'waiting' | 'enqueued';

export interface PostCallRequest {
  /** The execution this becomes: the same id from the moment it is queued. */
  executionId: string;
  organizationId: string;
  conversationId: string;
  actionId: string;
  actionVersion: number;
  /** The inputs as validated when it was called. */
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
  callerKeyId: string | null;
  state: PostCallState;
  jobId: string | null;
  createdAt: string;
  enqueuedAt: string | null;
}

/** The job's payload: the request it runs. */
export interface PostCallJob {
  organizationId: string;
  executionId: string;
}

/** The Idempotency-Key every attempt of one post-call run sends upstream. */
export const postCallKey = (executionId: string): string => `post-call:${executionId}`;
