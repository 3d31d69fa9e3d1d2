/**
 * The entry points of the execution engine, one per kind of caller, each with its own result type; all of
 * them run through the one pipeline (pipeline.ts). Loading the action version a call names, refusing one
 * that cannot run, and replaying an Idempotency-Key happen here, before the pipeline.
 */
import type { Action } from '../../core/actions/model.ts';
import type { ConfirmationRequest } from '../../core/confirmations.ts';
import { AppError, notFound } from '../../core/errors.ts';
import type { DryRun, ExecutionRecord, WorkflowRunCaller } from '../../core/executions.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { ExecutionFilter, Store } from '../../core/ports/store.ts';
import { postCallKey, type PostCallRequest } from '../../core/post-call.ts';
import type { Principal } from '../../core/tenancy.ts';
import { ActionLoader } from './action-loader.ts';
import { createConfirmations } from './confirmation.ts';
import type { Idempotency } from './idempotency.ts';
import {
  createPipeline,
  type Call,
  type Origin,
  type PerformOptions,
  type PipelineDeps,
} from './pipeline.ts';

export type { DryRun } from '../../core/executions.ts';

export interface ExecuteRequest {
  inputs: Record<string, unknown>;
  /** The conversation the call belongs to: executions of one action per conversation are budgeted. */
  conversationId?: string | undefined;
  /** Runtime variables (contact_number, timezone, ...) and dynamic-context values. */
  context: Record<string, unknown>;
  idempotencyKey: string | null;
  /**
   * Run this version of the action rather than the current one (a published agent serves the versions it
   * froze). It must still be active: a deleted or deactivated action does not run.
   */
  actionVersion?: number | undefined;
  /** Aborted when the caller stops waiting for the answer (its client closed the connection). */
  signal?: AbortSignal | undefined;
}

/** What a workflow step asks the engine to run. */
export type StepCall =
  /** An action step: a stored action, run as any call is (its step key replays a retried step's answer). */
  | { actionId: string; inputs: Record<string, unknown> }
  /** An http or code step: a transient action the step built, with the run's values as its inputs. */
  | { action: Action; inputs: Record<string, unknown> };

export interface StepOptions {
  /** `run:<run_id>:step:<step_id>`: the same on every attempt of the step. */
  idempotencyKey: string;
  /** The step job's: aborted when its worker stops or its lease is lost, or at the step's timeout. */
  signal: AbortSignal;
  /** False for a transient step's action: the run records the step instead. */
  record: boolean;
}

export interface ExecutionDeps extends PipelineDeps {
  store: Pick<Store, 'actions' | 'executions' | 'confirmations' | 'integrations' | 'postCall'>;
  idempotency: Idempotency;
}

export type ExecutionService = ReturnType<typeof createExecutionService>;

const CALL: Origin = Object.freeze({ kind: 'call' });
const DRY_RUN: Origin = Object.freeze({ kind: 'dry_run' });
const STEP: Origin = Object.freeze({ kind: 'step' });
const RECORDED: PerformOptions = Object.freeze({ record: true });

/** The conversation a call belongs to, when the caller named one. */
function conversationOf(request: Pick<ExecuteRequest, 'conversationId' | 'context'>): string | undefined {
  const fromContext = request.context.conversation_id;
  return (
    request.conversationId ??
    (typeof fromContext === 'string' && fromContext !== '' ? fromContext : undefined)
  );
}

/** An execution stopped before it finished is not the answer to keep for its Idempotency-Key. */
const finished = (record: ExecutionRecord) => record.status !== 'cancelled';

const inactive = (action: Action) =>
  new AppError('CONFLICT', `The action "${action.name}" is inactive; set its status to active to run it`);

export function createExecutionService(deps: ExecutionDeps) {
  const { store } = deps;
  const actions = new ActionLoader(store);
  const pipeline = createPipeline(deps);

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

  async function runnable(organizationId: string, id: string, version: number | undefined): Promise<Action> {
    const action = await loadVersion(organizationId, id, version);
    if (!action) throw notFound(version === undefined ? 'Action' : 'Action version');
    if (action.status !== 'active') throw inactive(action);
    return action;
  }

  const callOf = (
    action: Action,
    callerKeyId: string | null,
    request: ExecuteRequest,
    origin: Origin,
  ): Call => ({
    action,
    inputs: request.inputs,
    context: request.context,
    conversationId: conversationOf(request),
    idempotencyKey: request.idempotencyKey,
    callerKeyId,
    origin,
    signal: request.signal,
  });

  /** A call of a stored action; with an Idempotency-Key, the same key and body answer the first execution. */
  async function callStored(
    organizationId: string,
    callerKeyId: string | null,
    actionId: string,
    request: ExecuteRequest,
    options: PerformOptions,
  ): Promise<ExecutionRecord> {
    const action = await runnable(organizationId, actionId, request.actionVersion);
    const call = callOf(action, callerKeyId, request, CALL);
    const { idempotencyKey } = request;
    if (idempotencyKey === null) return pipeline.perform(call, options);
    return deps.idempotency.run(
      organizationId,
      `execute:${actionId}`,
      idempotencyKey,
      { inputs: request.inputs, context: request.context },
      deps.deadlineMs,
      () => pipeline.perform(call, options),
      finished,
    );
  }

  const read = async (organizationId: string, id: string) =>
    deps.recorder.pending(organizationId, id) ?? (await store.executions.get(organizationId, id));

  const confirmations = createConfirmations({
    store,
    clock: deps.clock,
    recorder: deps.recorder,
    read,
    async load({ organizationId, actionId, actionVersion }: ConfirmationRequest) {
      const action = await loadVersion(organizationId, actionId, actionVersion);
      if (!action) throw new AppError('CONFLICT', 'The action has been deleted; it cannot run');
      if (action.status !== 'active') throw inactive(action);
      return action;
    },
    run: (action: Action, request: ConfirmationRequest) =>
      pipeline.perform(
        {
          action,
          inputs: request.inputs,
          context: request.context,
          conversationId: request.conversationId ?? undefined,
          idempotencyKey: request.idempotencyKey,
          callerKeyId: request.callerKeyId,
          origin: { kind: 'confirmed', executionId: request.executionId },
        },
        RECORDED,
      ),
  });

  return {
    /** Runs an execution that awaits confirmation (under its id) and answers it finished. */
    confirm: confirmations.confirm,
    /** Records an execution that awaits confirmation declined; nothing runs. */
    decline: confirmations.decline,

    /** Runs the action for a key's holder and records it (or holds it, or defers it), whatever its outcome. */
    execute: (principal: Principal, actionId: string, request: ExecuteRequest): Promise<ExecutionRecord> =>
      callStored(principal.organizationId, principal.keyId, actionId, request, RECORDED),

    /** What executing would send, secrets masked; nothing is sent, counted or recorded. */
    async dryRun(principal: Principal, actionId: string, request: ExecuteRequest): Promise<DryRun> {
      const action = await runnable(principal.organizationId, actionId, request.actionVersion);
      return pipeline.dryRun(callOf(action, principal.keyId, request, DRY_RUN));
    },

    /**
     * One attempt of a post-call request, recorded under its execution id (replacing the queued record or
     * the previous attempt's). It runs the action version that was called, and sends the request's stable
     * Idempotency-Key upstream; the replay cache of execute() is not used, so a retry really runs again.
     */
    async runPostCall(
      request: PostCallRequest,
      attempt: number,
      signal?: AbortSignal,
    ): Promise<ExecutionRecord> {
      const { organizationId, actionId, actionVersion } = request;
      const action = await loadVersion(organizationId, actionId, actionVersion);
      if (!action) throw notFound('Action');
      return pipeline.perform(
        {
          action,
          inputs: request.inputs,
          context: request.context,
          conversationId: request.conversationId,
          idempotencyKey: postCallKey(request.executionId),
          callerKeyId: request.callerKeyId,
          origin: { kind: 'post_call', executionId: request.executionId, attempt },
          signal,
        },
        RECORDED,
      );
    },

    /**
     * A workflow step's action, run as the step's run: the record's context names the run and the step,
     * and its calling key is the one that started the run.
     */
    async runStep(caller: WorkflowRunCaller, step: StepCall, options: StepOptions): Promise<ExecutionRecord> {
      const request: ExecuteRequest = {
        inputs: step.inputs,
        context: { workflow_run_id: caller.runId, workflow_step_id: caller.stepId },
        idempotencyKey: options.idempotencyKey,
        signal: options.signal,
      };
      if ('actionId' in step)
        return callStored(caller.organizationId, caller.keyId, step.actionId, request, options);
      return pipeline.perform(callOf(step.action, caller.keyId, request, STEP), options);
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
