/**
 * Workflows: a versioned tree of steps and if-else blocks behind a trigger. A run is pinned to one
 * version and advances step by step. This is the model the use cases and the store work with; the shape
 * API users send and read is a codec of the HTTP layer.
 */

/**
 * The trigger types. manual-trigger, webhook, cron-trigger, ai-trigger and the event types
 * (EVENT_TRIGGER_TYPES) start runs; form-trigger and manual-ticket-trigger are stored as given.
 */
export const TRIGGER_TYPES = [
  'manual-trigger',
  'ai-trigger',
  'cron-trigger',
  'form-trigger',
  'webhook',
  'contact-created',
  'phone-call-started',
  'phone-call-finished',
  'ticket-created',
  'ticket-reassigned',
  'ticket-resolved',
  'ticket-handoff',
  'pre-ticket-handoff',
  'ticket-tag-added',
  'ticket-inactive',
  'sequence-completed',
  'csat-score-submit',
  'prohibited-topic-detected',
  'sla-first-reply-breached',
  'sla-next-reply-breached',
  'sla-resolution-breached',
  'voice-call-transferred',
  'pre-voice-call-transfer',
  'pre-phone-call-finished',
  'manual-ticket-trigger',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** The trigger types `POST /v1/events` fires: every type that names something that happened. */
const NOT_EVENTS: ReadonlySet<TriggerType> = new Set([
  'manual-trigger',
  'ai-trigger',
  'cron-trigger',
  'form-trigger',
  'webhook',
  'manual-ticket-trigger',
]);
export const EVENT_TRIGGER_TYPES: readonly TriggerType[] = TRIGGER_TYPES.filter((t) => !NOT_EVENTS.has(t));
export const isEventTrigger = (type: string): type is TriggerType =>
  (EVENT_TRIGGER_TYPES as readonly string[]).includes(type);

export const STEP_TYPES = ['action', 'http', 'code', 'set', 'delay'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface Condition {
  /** A row of CONDITION_OPERATORS (conditions.ts). */
  operator: string;
  left: unknown;
  right?: unknown;
}

export interface RetryPolicy {
  /** Attempts in all, the first included (1 to 10). */
  maxAttempts: number;
  /** Wait before the second attempt; it doubles per attempt, capped at 60 s. */
  backoffSeconds?: number | undefined;
}

interface BlockFields {
  /** Unique in the workflow; `{{id.output...}}` reads what the step returned. */
  id: string;
  name?: string | undefined;
  /**
   * What the client sent with the block that the model has no use for (an editor's own fields), kept as
   * given and answered back.
   */
  extra?: Record<string, unknown> | undefined;
}

export interface StepBlock extends BlockFields {
  kind: 'step';
  type: StepType;
  /** The step type's parameters (an action's id and inputs, a request, code, values, seconds). */
  input: Record<string, unknown>;
  /** Each attempt's deadline; past it the attempt fails with category `timeout`. */
  timeoutSeconds?: number | undefined;
  /** Attempts again after a failure of category timeout, upstream_error or rate_limited. */
  retry?: RetryPolicy | undefined;
  /**
   * Present: a failure of the step (after its retries) runs these blocks instead of failing the run, and
   * the run then goes on after the step. `{{step_id.error.message}}` reads the failure.
   */
  onError?: Block[] | undefined;
}

export interface IfElseBlock extends BlockFields {
  kind: 'if-else';
  condition: Condition;
  then: Block[];
  else: Block[];
}

export type Block = StepBlock | IfElseBlock;

/** docs/security.md, "Limits": workflows have at most 200 steps and branches nest at most 32 deep. */
export const WORKFLOW_LIMITS = {
  blocks: 200,
  depth: 32,
  name: 200,
  description: 4000,
  delaySeconds: 30 * 86_400,
  timeoutSeconds: 900,
  maxAttempts: 10,
  backoffSeconds: 60,
};

/** Failures worth another attempt: the next one may well succeed. */
export const RETRYABLE_CATEGORIES: ReadonlySet<string> = new Set([
  'timeout',
  'upstream_error',
  'rate_limited',
]);

/**
 * Every step of the tree with its JSON Pointer into the definition (`/blocks/0/then/1`), in document
 * order (branches and error blocks included).
 */
export function* stepsIn(
  blocks: readonly Block[],
  path = '/blocks',
): Generator<{ step: StepBlock; path: string }> {
  for (const [i, block] of blocks.entries()) {
    const at = `${path}/${i}`;
    if (block.kind === 'step') {
      yield { step: block, path: at };
      if (block.onError) yield* stepsIn(block.onError, `${at}/onError`);
    } else {
      yield* stepsIn(block.then, `${at}/then`);
      yield* stepsIn(block.else, `${at}/else`);
    }
  }
}

export interface WorkflowDefinition {
  name: string;
  description: string | null;
  triggerType: TriggerType;
  triggerConfiguration: unknown;
  triggerConstraints: unknown;
  blocks: Block[];
  /** A visual editor's own state for the workflow (its canvas), opaque here and kept as given. */
  editorState: unknown;
  /** For webhook triggers: the opaque token of `/v1/hooks/<token>`, the same in every version. */
  webhookToken: string | null;
}

/** One version of a workflow; `workflowId` groups the versions, one of which is active. */
export interface WorkflowVersion extends WorkflowDefinition {
  id: string;
  organizationId: string;
  workflowId: string;
  versionNumber: number;
  /** A number the store assigns on insert, unique across versions; set on versions read from the store. */
  serial?: number | undefined;
  isActive: boolean;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINISHED_RUN: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export const STEP_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface RunError {
  /** The step that failed, when one did. */
  stepId: string | null;
  category: string;
  message: string;
}

export interface WorkflowRun {
  id: string;
  organizationId: string;
  workflowId: string;
  /** The version the run is pinned to, and finishes on. */
  versionId: string;
  versionNumber: number;
  status: RunStatus;
  /** The trigger's data: `{{trigger.*}}`. */
  input: Record<string, unknown>;
  error: RunError | null;
  callerKeyId: string | null;
  /** The run whose step started this one by calling this workflow's tool (ai-trigger). */
  parentRunId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A run of this version, queued, as it is first saved. */
export const queuedRun = (
  id: string,
  version: WorkflowVersion,
  input: Record<string, unknown>,
  callerKeyId: string | null,
  createdAt: string,
  parentRunId: string | null = null,
): WorkflowRun => ({
  id,
  organizationId: version.organizationId,
  workflowId: version.workflowId,
  versionId: version.id,
  versionNumber: version.versionNumber,
  status: 'queued',
  input,
  error: null,
  callerKeyId,
  parentRunId,
  createdAt,
  startedAt: null,
  finishedAt: null,
});

/**
 * The queue job attempt that holds a step, its fencing token: only it may begin an attempt of the step or
 * commit its result. A later attempt of the same job (the queue gave it the lease after the earlier one's
 * lapsed) takes the step over; another job never does, except the sweep's replacement for a lost job.
 */
export interface StepOwner {
  jobId: string;
  attempt: number;
}

/** One step (or if-else decision) of a run, committed before the next one is enqueued. */
export interface RunStep {
  runId: string;
  organizationId: string;
  stepId: string;
  /** Order in which the run reached it. */
  position: number;
  type: StepType | 'if-else';
  name: string | null;
  status: StepStatus;
  input: unknown;
  output: unknown;
  error: RunError | null;
  /** Times the step began; more than 1 means an attempt was interrupted or retried. */
  attempts: number;
  /** For action steps, the execution it made. */
  executionId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The job attempt that holds the step; none on decisions, and on records written before owners were. */
  owner?: StepOwner | null | undefined;
}

/** The queue job that runs one step; the key makes enqueueing a step twice a no-op. */
export const WORKFLOW_STEP_JOB = 'workflow-step';
/** The dead letter of a step job: the queue gave up on it, so its step and run fail. */
export const WORKFLOW_STEP_DEAD_JOB = 'workflow-step-dead';
export interface WorkflowStepJob {
  organizationId: string;
  runId: string;
  stepId: string;
}
export const stepKey = (runId: string, stepId: string): string => `run:${runId}:step:${stepId}`;
