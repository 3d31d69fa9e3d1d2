/**
 * Executing an action, whichever API created it: validate and coerce the inputs, let the kind run,
 * redact every secret it touched from what is kept, record the execution, answer.
 */
import type { Action } from '../../core/actions/model.ts';
import { messageFor } from '../../core/actions/outcomes.ts';
import { prepareInputs } from '../../core/actions/variables.ts';
import { AppError, notFound } from '../../core/errors.ts';
import type { ExecutionRecord } from '../../core/executions.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import type { ExecutionFilter, Store } from '../../core/ports/store.ts';
import { redactorFor } from '../../core/redaction.ts';
import type { Principal } from '../../core/tenancy.ts';
import { isValidTimeZone } from '../../core/time.ts';
import type { KindRegistry } from '../kinds/registry.ts';
import type { RunOutcome } from '../kinds/kind.ts';
import { ActionLoader } from './action-loader.ts';
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
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

export function createExecutionService(deps: ExecutionDeps) {
  const { store, crypto, clock, logger, kinds } = deps;
  const actions = new ActionLoader(store);

  async function runAction(
    principal: Principal,
    action: Action,
    request: ExecuteRequest,
  ): Promise<ExecutionRecord | DryRun> {
    const startedAt = clock.now();
    const id = crypto.newId();
    const integration = action.integrationId
      ? ((await store.integrations.get(action.organizationId, action.integrationId)) ?? null)
      : null;
    const secrets = new SecretAccess(deps.reveal, action.organizationId, {
      ...integration?.secrets,
      ...action.secrets,
    });
    const timeZone = typeof request.context.timezone === 'string' ? request.context.timezone : 'UTC';

    let outcome: RunOutcome;
    let inputs: Record<string, unknown> = request.inputs;
    const overBudget = await overConversationBudget(action, request);
    if (overBudget) {
      outcome = overBudget;
    } else if (!isValidTimeZone(timeZone)) {
      outcome = failedInput(`"${timeZone}" is not a time zone; use an IANA name such as Europe/Berlin`, []);
    } else {
      const prepared = prepareInputs(action.variables, request.inputs, {
        now: new Date(startedAt),
        timeZone,
      });
      if (!prepared.ok) {
        outcome = failedInput(prepared.message, prepared.issues);
      } else {
        inputs = prepared.inputs;
        // a password field's value is a credential the caller brought: kept out of the record like a secret
        for (const variable of action.variables) {
          const value = inputs[variable.name];
          if (variable.widget === 'password' && typeof value === 'string')
            secrets.derive(`input ${variable.name}`, value);
        }
        const controller = new AbortController();
        outcome = await kinds.get(action.kind).run(action.config, {
          action,
          integration,
          inputs,
          context: request.context,
          secrets,
          idempotencyKey: request.idempotencyKey,
          dryRun: request.dryRun,
          executionId: id,
          signal: controller.signal,
        });
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
      status: outcome.status === 'dry_run' ? 'failed' : outcome.status,
      inputs,
      context: request.context,
      request: outcome.request ?? null,
      response: outcome.response ?? null,
      output: outcome.output ?? null,
      outputTruncated: outcome.outputTruncated ?? false,
      error: outcome.error ?? null,
      attempts: outcome.attempts,
      durationMs: finishedAt - startedAt,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      callerKeyId: principal.keyId,
      idempotencyKey: request.idempotencyKey,
      extra: outcome.extra ?? {},
    });
    await deps.recorder.record(record, json);
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

  /** A prompt-injected loop calling one action over and over in a conversation meets a budget (B15). */
  async function overConversationBudget(
    action: Action,
    request: ExecuteRequest,
  ): Promise<RunOutcome | undefined> {
    const conversation =
      request.conversationId ??
      (typeof request.context.conversation_id === 'string' ? request.context.conversation_id : undefined);
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

  return {
    async execute(
      principal: Principal,
      actionId: string,
      request: ExecuteRequest,
    ): Promise<ExecutionRecord | DryRun> {
      const action = await actions.load(principal.organizationId, actionId);
      if (!action) throw notFound('Action');
      if (action.status !== 'active') {
        throw new AppError(
          'CONFLICT',
          `The action "${action.name}" is inactive; set its status to active to run it`,
        );
      }
      const { idempotencyKey } = request;
      if (idempotencyKey === null || request.dryRun) return runAction(principal, action, request);
      return deps.idempotency.run(
        principal.organizationId,
        `execute:${actionId}`,
        idempotencyKey,
        { inputs: request.inputs, context: request.context },
        deps.deadlineMs,
        () => runAction(principal, action, request),
      );
    },

    async get(organizationId: string, id: string): Promise<ExecutionRecord> {
      const record =
        deps.recorder.pending(organizationId, id) ?? (await store.executions.get(organizationId, id));
      if (!record) throw notFound('Execution');
      return record;
    },

    async list(
      organizationId: string,
      filter: ExecutionFilter,
      page: PageRequest,
    ): Promise<Page<ExecutionRecord>> {
      await deps.recorder.settle();
      return store.executions.list(organizationId, filter, page);
    },
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
