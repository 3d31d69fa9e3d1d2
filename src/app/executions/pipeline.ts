/**
 * The one way an action runs, whoever calls it (the execute route, MCP, a confirmation, a post-call job,
 * variable options, a workflow step):
 *
 * - prepare: the integration and the secrets in scope, the conversation's budget, the time zone, the
 *   inputs checked and coerced against the variables;
 * - decide: run now, hold for the user's confirmation, or defer to the end of the conversation;
 * - run: the kind, under a signal that the caller, a stopping job or the execution deadline aborts;
 * - record: one record, redacted in one pass, kept as its decision needs.
 *
 * Each entry point (service.ts) says where its call comes from (an Origin); each stage reads from it what
 * it needs.
 */
import type { Action, Integration } from '../../core/actions/model.ts';
import { DEFAULT_MESSAGES, messageFor } from '../../core/actions/outcomes.ts';
import { prepareInputs } from '../../core/actions/variables.ts';
import { CONFIRMATION_TTL_MS } from '../../core/confirmations.ts';
import { AppError, CATEGORY_BY_CODE } from '../../core/errors.ts';
import type { DryRun, ExecutionRecord, ExecutionSpeech } from '../../core/executions.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import type { Store } from '../../core/ports/store.ts';
import { redactorFor } from '../../core/redaction.ts';
import { secretsInScope } from '../../core/secrets.ts';
import { isValidTimeZone } from '../../core/time.ts';
import type { RunOutcome } from '../kinds/kind.ts';
import type { KindRegistry } from '../kinds/registry.ts';
import type { RevealSecret } from '../../core/ports/secret-reveal.ts';
import { SecretAccess } from '../kinds/secret-access.ts';
import { ExecutionSignal } from './cancellation.ts';
import type { ExecutionRecorder } from './recorder.ts';
import { renderSpeech } from './speech.ts';

/** Where a call comes from: what the stages around the kind do follows from it. */
export type Origin =
  /** A caller's call (a key, an agent, a workflow's action step): budgeted, and it may be held or deferred. */
  | { kind: 'call' }
  /** What a call would send: counted against nothing, never held, deferred or recorded. */
  | { kind: 'dry_run' }
  /** The user confirmed a held call: it runs under the held execution's id (a post_call one is deferred). */
  | { kind: 'confirmed'; executionId: string }
  /** One attempt of a post-call request the queue hands over, under the queued execution's id. */
  | { kind: 'post_call'; executionId: string; attempt: number }
  /** A workflow http or code step's transient action: its inputs are the run's own values, not arguments. */
  | { kind: 'step' };

export interface Call {
  action: Action;
  inputs: Record<string, unknown>;
  /** Runtime variables and dynamic-context values. */
  context: Record<string, unknown>;
  /** The conversation it belongs to: its budget counts the call, and a post_call action waits for its end. */
  conversationId: string | undefined;
  idempotencyKey: string | null;
  /** The key that called; null for a webhook, an event or a run started without one. */
  callerKeyId: string | null;
  origin: Origin;
  /** Aborted when the caller stops waiting: a client that went away, a job told to stop. */
  signal?: AbortSignal | undefined;
}

export interface PerformOptions {
  /** False for a transient step, whose result the run records instead. */
  record: boolean;
}

export interface PipelineDeps {
  store: Pick<Store, 'integrations' | 'confirmations' | 'postCall' | 'executions'>;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  kinds: KindRegistry;
  reveal: RevealSecret;
  recorder: ExecutionRecorder;
  /**
   * The longest the kinds' own limits let an execution run (the egress and sandbox caps). A grace period
   * later, whatever is still under way (a token fetch and the request after it, a wait) is stopped and
   * the execution is `cancelled`.
   */
  deadlineMs: number;
  /** Executions of one action per conversation per minute (0: no budget). */
  budget: { limiter: RateLimiter; perMinute: number };
  /** How long a held call waits for its confirmation (CONFIRMATION_TTL_MS). */
  confirmationTtlMs?: number | undefined;
}

interface Prepared {
  call: Call;
  id: string;
  startedAt: number;
  integration: Integration | null;
  secrets: SecretAccess;
  /** As the kind gets them: checked and coerced, or as given when the call was refused before that. */
  inputs: Record<string, unknown>;
  /** Why the call goes no further: over its budget, an unknown time zone, inputs that do not fit. */
  refused: RunOutcome | undefined;
}

/** How a call ended, as its record says. */
type Ending =
  | {
      status: 'succeeded' | 'failed' | 'cancelled';
      outcome: RunOutcome;
      speech?: ExecutionSpeech | undefined;
    }
  | { status: 'awaiting_confirmation'; outcome: RunOutcome; expiresAt: string }
  | { status: 'queued'; outcome: RunOutcome };

type Decision = { to: 'run' } | { to: 'hold' } | { to: 'defer'; conversationId: string };
const RUN: Decision = Object.freeze({ to: 'run' });
const HOLD: Decision = Object.freeze({ to: 'hold' });

/** An action that requires confirmation waits for it; a post_call one called in a conversation waits for its end. */
function decide({ action, origin, conversationId }: Call): Decision {
  if (origin.kind === 'call' && action.requiresConfirmation) return HOLD;
  const mayDefer = origin.kind === 'call' || origin.kind === 'confirmed';
  if (mayDefer && action.executionMode === 'post_call' && conversationId !== undefined)
    return { to: 'defer', conversationId };
  return RUN;
}

/** The status a kind's outcome gives its record. */
function ended(outcome: RunOutcome, speech?: ExecutionSpeech): Ending {
  switch (outcome.status) {
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return { status: outcome.status, outcome, speech };
    case 'dry_run':
      // a kind that only rendered when it was asked to run has not run
      return { status: 'failed', outcome, speech };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Past the caps, so that a kind's own limit (with its precise error) ends a run first when it can. */
const DEADLINE_GRACE_MS = 250;

export function createPipeline(deps: PipelineDeps) {
  const { store, clock, logger, kinds } = deps;
  const deadlineMs = deps.deadlineMs + DEADLINE_GRACE_MS;

  async function prepare(call: Call): Promise<Prepared> {
    const { action, origin } = call;
    const startedAt = clock.now();
    const integration = action.integrationId
      ? ((await store.integrations.get(action.organizationId, action.integrationId)) ?? null)
      : null;
    const timeZone = typeof call.context.timezone === 'string' ? call.context.timezone : 'UTC';
    const prepared: Prepared = {
      call,
      id: 'executionId' in origin ? origin.executionId : deps.crypto.newId(),
      startedAt,
      integration,
      secrets: new SecretAccess(
        deps.reveal,
        action.organizationId,
        secretsInScope(integration, action.secrets),
      ),
      inputs: call.inputs,
      refused: (await overBudget(call)) ?? unknownTimeZone(timeZone),
    };
    // a step's inputs are its run's own values, not a caller's arguments
    if (!prepared.refused && origin.kind !== 'step') checkInputs(prepared, timeZone);
    return prepared;
  }

  /** A prompt-injected loop calling one action over and over in a conversation meets a budget. */
  async function overBudget({ action, origin, conversationId }: Call): Promise<RunOutcome | undefined> {
    const { limiter, perMinute } = deps.budget;
    // a confirmed call or a post-call attempt was counted when it was called
    if (origin.kind !== 'call' || !conversationId || perMinute <= 0) return undefined;
    const decision = await limiter.consume(
      `conversation:${action.organizationId}:${conversationId}:${action.id}`,
      perMinute,
    );
    if (decision.allowed) return undefined;
    return {
      status: 'failed',
      error: {
        category: 'rate_limited',
        message: `This action has been used too often in this conversation; wait ${decision.retryAfterSeconds} seconds before trying it again.`,
        detail: `budget exceeded: ${perMinute} executions of this action per conversation per minute`,
      },
      attempts: 0,
    };
  }

  /** Runs the kind (only rendering when `dryRun`); stopped by the caller or the deadline, it is cancelled. */
  async function runKind(prepared: Prepared, dryRun: boolean): Promise<RunOutcome> {
    const { call, id } = prepared;
    const { action } = call;
    const stop = new ExecutionSignal(deadlineMs, call.signal);
    let outcome: RunOutcome;
    try {
      outcome = stop.signal.aborted
        ? { status: 'failed', attempts: 0 }
        : await kinds.get(action.kind).run(action.config, {
            action,
            integration: prepared.integration,
            inputs: prepared.inputs,
            context: call.context,
            secrets: prepared.secrets,
            idempotencyKey: call.idempotencyKey,
            dryRun,
            executionId: id,
            signal: stop.signal,
            callerKeyId: call.callerKeyId,
          });
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'SECRET_UNAVAILABLE')) throw error;
      logger.warn({ execution_id: id, action_id: action.id }, error.message);
      outcome = failedWith(error);
    } finally {
      stop.dispose();
    }
    const stopped = stop.stopped;
    // an answer that came back is kept: what it did has happened
    if (stopped === undefined || outcome.status === 'succeeded' || outcome.status === 'dry_run')
      return outcome;
    const { category, detail } = stopped;
    return {
      ...outcome,
      status: 'cancelled',
      error: { category, message: DEFAULT_MESSAGES[category], detail },
    };
  }

  /** Shows the request the user is asked to confirm and keeps the call until they answer. */
  async function hold(prepared: Prepared): Promise<Ending> {
    const outcome = await runKind(prepared, true);
    // a request that cannot even be rendered fails now, not after the user said yes
    if (outcome.status !== 'dry_run') return ended(outcome);
    const { call } = prepared;
    const expiresAt = iso(prepared.startedAt + (deps.confirmationTtlMs ?? CONFIRMATION_TTL_MS));
    await store.confirmations.insert({
      ...heldRequest(prepared),
      conversationId: call.conversationId ?? null,
      idempotencyKey: call.idempotencyKey,
      state: 'pending',
      expiresAt,
      decidedAt: null,
    });
    return { status: 'awaiting_confirmation', outcome, expiresAt };
  }

  /** Keeps the call for the end of its conversation; committed before the caller is answered. */
  async function defer(prepared: Prepared, conversationId: string): Promise<Ending> {
    await store.postCall.insert({
      ...heldRequest(prepared),
      conversationId,
      state: 'waiting',
      jobId: null,
      enqueuedAt: null,
    });
    return { status: 'queued', outcome: { status: 'succeeded', attempts: 0 } };
  }

  async function runNow(prepared: Prepared): Promise<Ending> {
    const outcome = await runKind(prepared, false);
    const { action, context } = prepared.call;
    const speech = renderSpeech(action, prepared.inputs, context, new Date(prepared.startedAt), outcome);
    return ended(outcome, speech);
  }

  async function proceed(prepared: Prepared): Promise<Ending> {
    if (prepared.refused) return ended(prepared.refused);
    const decision = decide(prepared.call);
    switch (decision.to) {
      case 'hold':
        return hold(prepared);
      case 'defer':
        return defer(prepared, decision.conversationId);
      case 'run':
        return runNow(prepared);
    }
  }

  /** The record of how it ended, before redaction. */
  function recordOf(prepared: Prepared, ending: Ending): ExecutionRecord {
    const { call, id, startedAt } = prepared;
    const { action, origin } = call;
    const { outcome } = ending;
    const finishedAt = clock.now();
    const waiting = ending.status === 'queued' || ending.status === 'awaiting_confirmation';
    const record: ExecutionRecord = {
      id,
      organizationId: action.organizationId,
      actionId: action.id,
      actionVersion: action.version,
      actionName: action.name,
      kind: action.kind,
      status: ending.status,
      inputs: prepared.inputs,
      context: call.context,
      request: outcome.request ?? null,
      response: outcome.response ?? null,
      output: outcome.output ?? null,
      outputTruncated: outcome.outputTruncated ?? false,
      error: outcome.error ?? null,
      // a post-call run counts the queue's attempts, each of which may itself retry
      attempts: origin.kind === 'post_call' ? origin.attempt : outcome.attempts,
      durationMs: finishedAt - startedAt,
      startedAt: iso(startedAt),
      finishedAt: waiting ? null : iso(finishedAt),
      callerKeyId: call.callerKeyId,
      idempotencyKey: call.idempotencyKey,
      extra: outcome.extra ?? {},
    };
    if (ending.status === 'awaiting_confirmation') record.expiresAt = ending.expiresAt;
    if ('speech' in ending && ending.speech) record.speech = ending.speech;
    return record;
  }

  /** Stores the record as its ending needs; a transient step's is the run's to keep. */
  async function keep(record: ExecutionRecord, json: string, origin: Origin): Promise<void> {
    if (record.status === 'awaiting_confirmation') {
      // committed before the caller is answered: a confirmation in another process finds it
      await store.executions.insertMany([record], [json]);
    } else if (record.status === 'queued' && origin.kind === 'confirmed') {
      // a confirmed post_call action now waits for its conversation; a queued record replaces no other
      await store.executions.update(record);
    } else {
      await deps.recorder.record(record, json);
    }
  }

  return {
    async perform(call: Call, options: PerformOptions): Promise<ExecutionRecord> {
      const prepared = await prepare(call);
      const ending = await proceed(prepared);
      const redactor = redactorFor(prepared.secrets.values());
      const built = recordOf(prepared, ending);
      let record: ExecutionRecord;
      if (options.record) {
        const redacted = redactor.json(built);
        record = redacted.value;
        await keep(record, redacted.json, call.origin);
      } else {
        record = redactor.value(built);
      }
      logger.debug(
        {
          execution_id: record.id,
          action_id: record.actionId,
          status: record.status,
          category: record.error?.category,
          ms: record.durationMs,
        },
        'action executed',
      );
      return record;
    },

    async dryRun(call: Call): Promise<DryRun> {
      const prepared = await prepare(call);
      const outcome = prepared.refused ?? (await runKind(prepared, true));
      return redactorFor(prepared.secrets.values()).value({
        actionId: call.action.id,
        actionVersion: call.action.version,
        inputs: prepared.inputs,
        request: outcome.request ?? null,
        error: outcome.error ?? null,
      });
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** Checks and coerces the caller's arguments against the action's variables, or refuses the call. */
function checkInputs(prepared: Prepared, timeZone: string): void {
  const { action, inputs } = prepared.call;
  const checked = prepareInputs(action.variables, inputs, { now: new Date(prepared.startedAt), timeZone });
  if (!checked.ok) {
    prepared.refused = failedInput(checked.message, checked.issues);
    return;
  }
  prepared.inputs = checked.inputs;
  // a password field's value is a credential the caller brought: kept out of the record like a secret
  for (const variable of action.variables) {
    const value = checked.inputs[variable.name];
    if (variable.widget === 'password' && typeof value === 'string')
      prepared.secrets.derive(`input ${variable.name}`, value);
  }
}

const unknownTimeZone = (timeZone: string): RunOutcome | undefined =>
  isValidTimeZone(timeZone)
    ? undefined
    : failedInput(`"${timeZone}" is not a time zone; use an IANA name such as Europe/Berlin`, []);

/** What a held or deferred call needs to run later, under this execution's id. */
function heldRequest({ call, id, inputs, startedAt }: Prepared) {
  return {
    executionId: id,
    organizationId: call.action.organizationId,
    actionId: call.action.id,
    actionVersion: call.action.version,
    inputs,
    context: call.context,
    callerKeyId: call.callerKeyId,
    createdAt: iso(startedAt),
  };
}

/** A run that failed on an AppError the kind let through (a secret that does not decrypt). */
function failedWith(error: AppError): RunOutcome {
  const category = CATEGORY_BY_CODE[error.code];
  return {
    status: 'failed',
    error: { category, message: DEFAULT_MESSAGES[category], detail: error.message },
    attempts: 0,
  };
}

function failedInput(
  detail: string,
  issues: { field: string; message: string; expected: string }[],
): RunOutcome {
  return {
    status: 'failed',
    error: {
      category: 'invalid_input',
      message: detail || messageFor('invalid_input', undefined, undefined),
      detail,
      issues,
    },
    attempts: 0,
  };
}
