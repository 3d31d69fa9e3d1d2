/**
 * Executing an action, whichever API created it: validate and coerce the inputs, let the kind run,
 * redact every secret it touched from what is kept, record the execution, answer.
 */
import type { Action } from '../../core/actions/model.ts';
import { CONFIRMATION_TTL_MS, type ConfirmationRequest } from '../../core/confirmations.ts';
import { postCallKey, type PostCallRequest } from '../../core/post-call.ts';
import { DEFAULT_MESSAGES, messageFor } from '../../core/actions/outcomes.ts';
import { prepareInputs } from '../../core/actions/variables.ts';
import { AppError, notFound } from '../../core/errors.ts';
import type { ExecutionRecord, ExecutionSpeech } from '../../core/executions.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import type { ExecutionFilter, Store } from '../../core/ports/store.ts';
import { redactorFor } from '../../core/redaction.ts';
import { secretsInScope } from '../../core/secrets.ts';
import type { Principal } from '../../core/tenancy.ts';
import { isValidTimeZone } from '../../core/time.ts';
import type { KindRegistry } from '../kinds/registry.ts';
import type { RunOutcome } from '../kinds/kind.ts';
import { ActionLoader } from './action-loader.ts';
import { createConfirmations } from './confirmation.ts';
import { renderSpeech } from './speech.ts';
import type { Idempotency } from './idempotency.ts';
import type { ExecutionRecorder } from './recorder.ts';
import { SecretAccess, type RevealSecret } from './secret-access.ts';

export interface ExecuteRequest {
  inputs: Record<string, unknown>;
  /** The conversation the call belongs to: executions of one action per conversation are budgeted. */
  conversationId?: string | undefined;
  /** Runtime variables (contact_number, timezone, ...) and dynamic-context values. */
  context: Record<string, unknown>;
  dryRun: boolean;
  idempotencyKey: string | null;
  /**
   * Run this version of the action rather than the current one (a published agent serves the versions it
   * froze). It must still be active: a deleted or deactivated action does not run.
   */
  actionVersion?: number | undefined;
}

/** A dry run: what would be sent, secrets masked, nothing sent or recorded. */
export interface DryRun {
  dryRun: true;
  actionId: string;
  actionVersion: number;
  inputs: Record<string, unknown>;
  request: ExecutionRecord['request'];
  error: ExecutionRecord['error'];
}

export interface ExecutionDeps {
  store: Store;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  kinds: KindRegistry;
  reveal: RevealSecret;
  recorder: ExecutionRecorder;
  idempotency: Idempotency;
  /** The longest an execution may take (the egress cap): bounds waiting on an Idempotency-Key. */
  deadlineMs: number;
  /** Counts executions of one action per conversation (SECURITY.md B15). */
  budget: { limiter: RateLimiter; perMinute: number };
  /** How long a call of an action that requires confirmation waits for it (CONFIRMATION_TTL_MS). */
  confirmationTtlMs?: number | undefined;
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

/** How runAction runs: a call as it comes, or one attempt of a post-call request the queue hands over. */
interface RunMode {
  callerKeyId: string | null;
  /** Set for a post-call attempt: the execution id it was given when queued, and its attempt number. */
  postCall?: { executionId: string; attempt: number } | undefined;
  /** Set when the user confirmed a call that awaited confirmation: the execution id it was given. */
  confirmed?: { executionId: string } | undefined;
}

/** The conversation a call belongs to, when the caller named one. */
function conversationOf(request: ExecuteRequest): string | undefined {
  const fromContext = request.context.conversation_id;
  return (
    request.conversationId ??
    (typeof fromContext === 'string' && fromContext !== '' ? fromContext : undefined)
  );
}

export function createExecutionService(deps: ExecutionDeps) {
  const { store, crypto, clock, logger, kinds } = deps;
  const actions = new ActionLoader(store);

  async function runAction(
    mode: RunMode,
    action: Action,
    request: ExecuteRequest,
  ): Promise<ExecutionRecord | DryRun> {
    const startedAt = clock.now();
    const id = mode.postCall?.executionId ?? mode.confirmed?.executionId ?? crypto.newId();
    // an action that requires confirmation is shown, not run, until the user confirms it (core/confirmations.ts)
    const awaitConfirmation =
      action.requiresConfirmation && !mode.confirmed && !mode.postCall && !request.dryRun;
    // a post_call action called in a conversation waits for its end (app/post-call.ts)
    const deferTo =
      action.executionMode === 'post_call' && !mode.postCall && !request.dryRun
        ? conversationOf(request)
        : undefined;
    const integration = action.integrationId
      ? ((await store.integrations.get(action.organizationId, action.integrationId)) ?? null)
      : null;
    const secrets = new SecretAccess(
      deps.reveal,
      action.organizationId,
      secretsInScope(integration, action.secrets),
    );
    const timeZone = typeof request.context.timezone === 'string' ? request.context.timezone : 'UTC';

    let outcome: RunOutcome;
    let queued = false;
    let expiresAt: string | undefined;
    let speech: ExecutionSpeech | undefined;
    let inputs: Record<string, unknown> = request.inputs;
    // a post-call attempt or a confirmed call was counted when it was called
    const overBudget =
      mode.postCall || mode.confirmed ? undefined : await overConversationBudget(action, request);
    if (overBudget) {
      outcome = overBudget;
    } else if (!isValidTimeZone(timeZone)) {
      outcome = failedInput(`"${timeZone}" is not a time zone; use an IANA name such as Europe/Berlin`, []);
    } else {
      const prepared = prepareInputs(action.variables, request.inputs, {
        now: new Date(startedAt),
        timeZone,
      });
      if (prepared.ok) {
        inputs = prepared.inputs;
        // a password field's value is a credential the caller brought: kept out of the record like a secret
        for (const variable of action.variables) {
          const value = inputs[variable.name];
          if (variable.widget === 'password' && typeof value === 'string')
            secrets.derive(`input ${variable.name}`, value);
        }
      }
      const runKind = (dryRun: boolean) =>
        kinds
          .get(action.kind)
          .run(action.config, {
            action,
            integration,
            inputs,
            context: request.context,
            secrets,
            idempotencyKey: request.idempotencyKey,
            dryRun,
            executionId: id,
            signal: new AbortController().signal,
            callerKeyId: mode.callerKeyId,
          })
          .catch((error: unknown) => {
            if (!(error instanceof AppError && error.code === 'SECRET_UNAVAILABLE')) throw error;
            logger.warn({ execution_id: id, action_id: action.id }, error.message);
            return secretUnavailable(error.message);
          });
      // what a held request needs to run later, under this execution's id
      const held = {
        executionId: id,
        organizationId: action.organizationId,
        actionId: action.id,
        actionVersion: action.version,
        inputs,
        context: request.context,
        callerKeyId: mode.callerKeyId,
        createdAt: new Date(startedAt).toISOString(),
      };
      if (!prepared.ok) {
        outcome = failedInput(prepared.message, prepared.issues);
      } else if (awaitConfirmation) {
        outcome = await runKind(true);
        // a request that cannot even be rendered fails now, not after the user said yes
        if (outcome.status === 'dry_run') {
          expiresAt = new Date(startedAt + (deps.confirmationTtlMs ?? CONFIRMATION_TTL_MS)).toISOString();
          await store.confirmations.insert({
            ...held,
            conversationId: conversationOf(request) ?? null,
            idempotencyKey: request.idempotencyKey,
            state: 'pending',
            expiresAt,
            decidedAt: null,
          });
        }
      } else if (deferTo !== undefined) {
        // committed before the caller is answered: the request survives a crash
        await store.postCall.insert({
          ...held,
          conversationId: deferTo,
          state: 'waiting',
          jobId: null,
          enqueuedAt: null,
        });
        queued = true;
        outcome = { status: 'succeeded', attempts: 0 };
      } else {
        outcome = await runKind(request.dryRun);
        speech = renderSpeech(action, inputs, request.context, new Date(startedAt), outcome);
      }
    }

    const redactor = redactorFor(secrets.values());
    if (request.dryRun) {
      return redactor.value({
        dryRun: true as const,
        actionId: action.id,
        actionVersion: action.version,
        inputs,
        request: outcome.request ?? null,
        error: outcome.error ?? null,
      });
    }
    const finishedAt = clock.now();
    const { value: record, json } = redactor.json<ExecutionRecord>({
      id,
      organizationId: action.organizationId,
      actionId: action.id,
      actionVersion: action.version,
      actionName: action.name,
      kind: action.kind,
      status: queued
        ? 'queued'
        : expiresAt !== undefined
          ? 'awaiting_confirmation'
          : outcome.status === 'dry_run'
            ? 'failed'
            : outcome.status,
      inputs,
      context: request.context,
      request: outcome.request ?? null,
      response: outcome.response ?? null,
      output: outcome.output ?? null,
      outputTruncated: outcome.outputTruncated ?? false,
      error: outcome.error ?? null,
      // a post-call run counts the queue's attempts, each of which may itself retry
      attempts: mode.postCall ? mode.postCall.attempt : outcome.attempts,
      durationMs: finishedAt - startedAt,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: queued || expiresAt !== undefined ? null : new Date(finishedAt).toISOString(),
      callerKeyId: mode.callerKeyId,
      idempotencyKey: request.idempotencyKey,
      extra: outcome.extra ?? {},
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(speech ? { speech } : {}),
    });
    if (expiresAt !== undefined) {
      // committed before the caller is answered: a confirmation in another process finds it
      await store.executions.insertMany([record], [json]);
    } else if (queued && mode.confirmed) {
      // a confirmed post_call action now waits for its conversation; a queued record replaces no other
      await store.executions.update(record);
    } else {
      await deps.recorder.record(record, json);
    }
    logger.debug(
      {
        execution_id: id,
        action_id: action.id,
        status: record.status,
        category: record.error?.category,
        ms: record.durationMs,
      },
      'action executed',
    );
    return record;
  }

  /**
   * The action at `version` (the current one when undefined), undefined when the action is gone. An older
   * version keeps the current status: deactivating or deleting an action stops every version of it.
   */
  async function loadVersion(organizationId: string, id: string, version: number | undefined) {
    const current = await actions.load(organizationId, id);
    if (!current || version === undefined || current.version === version) return current;
    const old = await store.actions.getVersion(organizationId, id, version);
    return old && { ...current, ...old.definition, status: current.status, version };
  }

  /** A prompt-injected loop calling one action over and over in a conversation meets a budget (B15). */
  async function overConversationBudget(
    action: Action,
    request: ExecuteRequest,
  ): Promise<RunOutcome | undefined> {
    const conversation = conversationOf(request);
    const { limiter, perMinute } = deps.budget;
    if (!conversation || perMinute <= 0 || request.dryRun) return undefined;
    const decision = await limiter.consume(
      `conversation:${action.organizationId}:${conversation}:${action.id}`,
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

  const read = async (organizationId: string, id: string) =>
    deps.recorder.pending(organizationId, id) ?? (await store.executions.get(organizationId, id));

  const confirmations = createConfirmations({
    store,
    clock,
    recorder: deps.recorder,
    read,
    async load(request: ConfirmationRequest) {
      const { organizationId, actionId, actionVersion } = request;
      const action = await loadVersion(organizationId, actionId, actionVersion);
      if (!action) throw new AppError('CONFLICT', 'The action has been deleted; it cannot run');
      if (action.status !== 'active') {
        throw new AppError(
          'CONFLICT',
          `The action "${action.name}" is inactive; set its status to active to run it`,
        );
      }
      return action;
    },
    async run(action: Action, request: ConfirmationRequest) {
      const record = await runAction(
        { callerKeyId: request.callerKeyId, confirmed: { executionId: request.executionId } },
        action,
        {
          inputs: request.inputs,
          context: request.context,
          conversationId: request.conversationId ?? undefined,
          dryRun: false,
          idempotencyKey: request.idempotencyKey,
        },
      );
      return record as ExecutionRecord;
    },
  });

  return {
    /** Runs an execution that awaits confirmation (under its id) and answers it finished. */
    confirm: confirmations.confirm,
    /** Records an execution that awaits confirmation declined; nothing runs. */
    decline: confirmations.decline,

    async execute(
      principal: Principal,
      actionId: string,
      request: ExecuteRequest,
    ): Promise<ExecutionRecord | DryRun> {
      const action = await loadVersion(principal.organizationId, actionId, request.actionVersion);
      if (!action) throw notFound(request.actionVersion === undefined ? 'Action' : 'Action version');
      if (action.status !== 'active') {
        throw new AppError(
          'CONFLICT',
          `The action "${action.name}" is inactive; set its status to active to run it`,
        );
      }
      const { idempotencyKey } = request;
      const mode: RunMode = { callerKeyId: principal.keyId };
      if (idempotencyKey === null || request.dryRun) return runAction(mode, action, request);
      return deps.idempotency.run(
        principal.organizationId,
        `execute:${actionId}`,
        idempotencyKey,
        { inputs: request.inputs, context: request.context },
        deps.deadlineMs,
        () => runAction(mode, action, request),
      );
    },

    /**
     * One attempt of a post-call request, recorded under its execution id (replacing the queued record or
     * the previous attempt's). It runs the action version that was called, and sends the request's stable
     * Idempotency-Key upstream; the replay cache of execute() is not used, so a retry really runs again.
     */
    async runPostCall(request: PostCallRequest, attempt: number): Promise<ExecutionRecord> {
      const { organizationId, actionId, actionVersion } = request;
      const action = await loadVersion(organizationId, actionId, actionVersion);
      if (!action) throw notFound('Action');
      const record = await runAction(
        { callerKeyId: request.callerKeyId, postCall: { executionId: request.executionId, attempt } },
        action,
        {
          inputs: request.inputs,
          context: request.context,
          conversationId: request.conversationId,
          dryRun: false,
          idempotencyKey: postCallKey(request.executionId),
        },
      );
      return record as ExecutionRecord;
    },

    async get(organizationId: string, id: string): Promise<ExecutionRecord> {
      const record = await read(organizationId, id);
      if (!record) throw notFound('Execution');
      return confirmations.present(record);
    },

    async list(
      organizationId: string,
      filter: ExecutionFilter,
      page: PageRequest,
    ): Promise<Page<ExecutionRecord>> {
      await deps.recorder.settle();
      const listed = await store.executions.list(organizationId, filter, page);
      return { ...listed, items: await Promise.all(listed.items.map(confirmations.present)) };
    },
  };
}

/** A run that needed a secret that does not decrypt: the execution fails, typed, and says how to fix it. */
function secretUnavailable(detail: string): RunOutcome {
  return {
    status: 'failed',
    error: { category: 'secret_unavailable', message: DEFAULT_MESSAGES.secret_unavailable, detail },
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
