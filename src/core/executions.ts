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
  /** Kind-specific extras: console lines of a code action, a voice directive, spoken messages. */
  extra: Record<string, unknown>;
}
