/** One run of one action, as recorded (every secret value already redacted). */
import type { ErrorCategory } from './actions/outcomes.ts';

export const EXECUTION_STATUSES = [
  'succeeded',
  'failed',
  'awaiting_confirmation',
  'queued',
  'running',
  'declined',
  'expired',
  /** Stopped before it finished: its caller went away, its job was told to stop, or its deadline passed. */
  'cancelled',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body as sent, possibly cut at the recording cap. */
  body: string | null;
}

export interface RecordedResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
  /** True when the recorded body was cut at the recording cap. */
  bodyTruncated: boolean;
}

export interface ExecutionError {
  category: ErrorCategory;
  /** A sentence the agent can say. */
  message: string;
  /** Details for the action's author (field issues, the upstream status, the egress reason). */
  detail?: string | undefined;
  status?: number | undefined;
  /** A machine-readable reason where the category is broad (SANDBOX_TIMEOUT, SECRET_IN_OUTPUT, ...). */
  code?: string | undefined;
  /** The line of a code action's source the error came from. */
  line?: number | undefined;
  issues?: { field: string; message: string; expected: string }[] | undefined;
}

/** What a voice runtime says around an execution (the action's speak_on_send and speak_on_receive). */
export interface ExecutionSpeech {
  /** Rendered with the inputs, runtime and context values; said while the action runs. */
  speakOnSend: string | null;
  /** Rendered with the output's fields as well, after success; null after a failure. */
  speakOnReceive: string | null;
  /** Why a configured message was left out (a placeholder that named nothing or had nothing to say). */
  omitted: { speak_on_send?: string; speak_on_receive?: string };
}

export interface ExecutionRecord {
  id: string;
  organizationId: string;
  actionId: string;
  actionVersion: number;
  actionName: string;
  kind: string;
  status: ExecutionStatus;
  inputs: Record<string, unknown>;
  /** The runtime and dynamic-context values the run saw. */
  context: Record<string, unknown>;
  request: RecordedRequest | null;
  response: RecordedResponse | null;
  output: unknown;
  /** True when the output was cut at the action's max_length. */
  outputTruncated: boolean;
  error: ExecutionError | null;
  attempts: number;
  durationMs: number;
  startedAt: string;
  finishedAt: string | null;
  callerKeyId: string | null;
  idempotencyKey: string | null;
  /** Kind-specific extras: console lines of a code action, a hold cut to the cap. */
  extra: Record<string, unknown>;
  /**
   * While it awaits confirmation (and once it expired or was declined): when the request stops waiting.
   * `request` then holds what it would send.
   */
  expiresAt?: string | undefined;
  /** Present when the action has spoken messages and it ran (absent from older records). */
  speech?: ExecutionSpeech | undefined;
}

/**
 * A workflow run acting on its own: its steps run actions as the run, with the key that started it (null
 * for a webhook, an event or a schedule). Records name the run and the step in their context.
 */
export interface WorkflowRunCaller {
  kind: 'workflow_run';
  organizationId: string;
  runId: string;
  stepId: string;
  keyId: string | null;
}

/** A dry run: what a call would send (secrets masked) or why it would fail; nothing sent or recorded. */
export interface DryRun {
  actionId: string;
  actionVersion: number;
  inputs: Record<string, unknown>;
  request: RecordedRequest | null;
  error: ExecutionError | null;
}
