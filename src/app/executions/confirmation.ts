/**
 * The answers to an execution that awaits confirmation (core/confirmations.ts): confirming runs it now,
 * under its execution id; declining records it declined and runs nothing; past its deadline it is
 * recorded expired when it is next read or answered. A decision is taken once (the repository's
 * `decide`), so two confirmations, in one process or two, run the action once.
 */
import type { Action } from '../../core/actions/model.ts';
import type { ConfirmationRequest } from '../../core/confirmations.ts';
import { AppError, notFound } from '../../core/errors.ts';
import type { ExecutionRecord } from '../../core/executions.ts';
import { isoNow, type Clock } from '../../core/ports/clock.ts';
import type { Store } from '../../core/ports/store.ts';
import type { Principal } from '../../core/tenancy.ts';
import type { ExecutionRecorder } from './recorder.ts';

export interface ConfirmationDeps {
  store: Pick<Store, 'confirmations'>;
  clock: Clock;
  recorder: ExecutionRecorder;
  /** The execution as recorded: pending in this process or stored. */
  read(organizationId: string, id: string): Promise<ExecutionRecord | undefined>;
  /** The action version that was called; throws when it can no longer run (deleted, inactive). */
  load(request: ConfirmationRequest): Promise<Action>;
  /** Runs the confirmed request under its execution id and records it. */
  run(action: Action, request: ConfirmationRequest): Promise<ExecutionRecord>;
}

const expiredError = () =>
  new AppError('GONE', 'The confirmation window of this execution has passed; it did not run', {
    details: { status: 'expired' },
  });

export function createConfirmations(deps: ConfirmationDeps) {
  const { store, clock } = deps;

  /** The pending request behind an execution, or why there is none to answer. */
  async function requestOf(organizationId: string, id: string): Promise<ConfirmationRequest> {
    const request = await store.confirmations.get(organizationId, id);
    if (request) return request;
    if (!(await deps.read(organizationId, id))) throw notFound('Execution');
    throw new AppError('CONFLICT', 'This execution does not wait for a confirmation');
  }

  async function current(organizationId: string, id: string): Promise<ExecutionRecord> {
    const record = await deps.read(organizationId, id);
    if (!record) throw notFound('Execution');
    return present(record);
  }

  /** Records the decision taken on `request`: the awaiting record, now declined or expired. */
  async function recordDecision(
    request: ConfirmationRequest,
    status: 'declined' | 'expired',
    at: string,
  ): Promise<ExecutionRecord> {
    const awaiting = await deps.read(request.organizationId, request.executionId);
    if (!awaiting) throw notFound('Execution');
    const record: ExecutionRecord = { ...awaiting, status, finishedAt: at };
    await deps.recorder.record(record);
    return record;
  }

  /** Expires a pending request past its deadline; the request as it then is when another decision won. */
  async function expire(request: ConfirmationRequest, now: string): Promise<ConfirmationRequest> {
    const { organizationId, executionId } = request;
    if (await store.confirmations.decide(organizationId, executionId, 'expired', now)) {
      await recordDecision(request, 'expired', request.expiresAt);
      return { ...request, state: 'expired', decidedAt: now };
    }
    return requestOf(organizationId, executionId);
  }

  /**
   * A record as it stands: one recorded `awaiting_confirmation` takes its status from the request, so a
   * decision shows at once everywhere (and a request past its deadline is expired here, lazily).
   */
  async function present(record: ExecutionRecord): Promise<ExecutionRecord> {
    if (record.status !== 'awaiting_confirmation') return record;
    let request = await store.confirmations.get(record.organizationId, record.id);
    if (!request) return record;
    const now = isoNow(clock);
    if (request.state === 'pending' && now >= request.expiresAt) request = await expire(request, now);
    switch (request.state) {
      case 'pending':
        return record;
      case 'confirmed':
        // running here or in another process; its record replaces this one when it ends
        return { ...record, status: 'running' };
      case 'declined':
        return { ...record, status: 'declined', finishedAt: request.decidedAt };
      case 'expired':
        return { ...record, status: 'expired', finishedAt: request.expiresAt };
    }
  }

  /**
   * Runs the execution now and answers it finished. Confirming again answers the same execution (as it
   * stands: `running` while the first confirmation runs it) without running it again.
   */
  async function confirm(principal: Principal, id: string): Promise<ExecutionRecord> {
    const { organizationId } = principal;
    let request = await requestOf(organizationId, id);
    const now = isoNow(clock);
    if (request.state === 'pending' && now >= request.expiresAt) request = await expire(request, now);
    switch (request.state) {
      case 'confirmed':
        return current(organizationId, id);
      case 'declined':
        throw new AppError('CONFLICT', 'This execution was declined; it will not run', {
          details: { status: 'declined' },
        });
      case 'expired':
        throw expiredError();
      case 'pending':
        break;
    }
    // refused before the decision, so a deactivated action's request can still be declined
    const action = await deps.load(request);
    if (!(await store.confirmations.decide(organizationId, id, 'confirmed', now)))
      return confirm(principal, id); // decided meanwhile: answer what was decided
    return deps.run(action, request);
  }

  /** Records the execution declined; declining again answers the same. */
  async function decline(principal: Principal, id: string): Promise<ExecutionRecord> {
    const { organizationId } = principal;
    let request = await requestOf(organizationId, id);
    const now = isoNow(clock);
    if (request.state === 'pending' && now >= request.expiresAt) request = await expire(request, now);
    switch (request.state) {
      case 'declined':
        return current(organizationId, id);
      case 'confirmed':
        throw new AppError('CONFLICT', 'This execution was confirmed already; it cannot be declined', {
          details: { status: 'confirmed' },
        });
      case 'expired':
        throw expiredError();
      case 'pending':
        break;
    }
    if (!(await store.confirmations.decide(organizationId, id, 'declined', now)))
      return decline(principal, id);
    return recordDecision(request, 'declined', now);
  }

  return { present, confirm, decline };
}

export type Confirmations = ReturnType<typeof createConfirmations>;
