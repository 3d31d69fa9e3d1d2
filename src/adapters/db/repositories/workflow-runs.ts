import { sql, type Kysely, type Selectable } from 'kysely';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { RunPatch, StepPatch, WorkflowRunRepository } from '../../../core/ports/workflow-store.ts';
import type {
  RunError,
  RunStatus,
  RunStep,
  StepOwner,
  StepStatus,
  WorkflowRun,
} from '../../../core/workflows/model.ts';
import type { DialectName } from '../migrations/types.ts';
import type { Database } from '../schema.ts';
import { fetchPage, parseJson } from './shared.ts';

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
const parsed = (text: string | null): unknown => (text === null ? null : parseJson<unknown>(text));

const toRun = (row: Selectable<Database['workflow_runs']>): WorkflowRun => ({
  id: row.id,
  organizationId: row.organization_id,
  workflowId: row.workflow_id,
  versionId: row.version_id,
  versionNumber: row.version_number,
  status: row.status as RunStatus,
  input: parseJson<Record<string, unknown>>(row.input),
  error: parsed(row.error) as RunError | null,
  callerKeyId: row.caller_key_id,
  parentRunId: row.parent_run_id,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
});

const toStep = (row: Selectable<Database['workflow_run_steps']>): RunStep => ({
  runId: row.run_id,
  organizationId: row.organization_id,
  stepId: row.step_id,
  position: row.position,
  type: row.type as RunStep['type'],
  name: row.name,
  status: row.status as StepStatus,
  input: parsed(row.input),
  output: parsed(row.output),
  error: parsed(row.error) as RunError | null,
  attempts: row.attempts,
  executionId: row.execution_id,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  owner: row.job_id === null ? null : { jobId: row.job_id, attempt: row.job_attempt ?? 0 },
});

/**
 * Selected by a PostgreSQL write, it makes the commit of that statement (or of the transaction it is
 * part of) return without waiting for the disk, once the statement has changed a row. For records that
 * a later durable commit puts on disk along with its own, and that a crash of the database server could
 * lose with no harm but a repeat (see the port's claimStep and insertSteps).
 */
const RELAXED_COMMIT = sql<string>`set_config('synchronous_commit', 'off', true)`.as('relaxed_commit');

/**
 * Runs waiting for a slot: queued and never admitted. The workflow_runs_waiting index holds exactly these,
 * ordered by organization and id.
 */
export const waitingRuns = (db: Kysely<Database>) =>
  db.selectFrom('workflow_runs').where('status', '=', 'queued').where('admitted_at', 'is', null);

const UNFINISHED: readonly RunStatus[] = ['queued', 'running'];
const UNFINISHED_STEP: readonly StepStatus[] = ['queued', 'running'];

/** Only the fields a patch names; `undefined` leaves a column as it is. */
function columns<T extends object>(patch: T, jsonFields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const column = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[column] = jsonFields.includes(key) ? (value === null ? null : JSON.stringify(value)) : value;
  }
  return out;
}

const stepRow = (step: RunStep) => ({
  run_id: step.runId,
  step_id: step.stepId,
  organization_id: step.organizationId,
  position: step.position,
  type: step.type,
  name: step.name,
  status: step.status,
  input: json(step.input),
  output: json(step.output),
  error: step.error === null ? null : JSON.stringify(step.error),
  attempts: step.attempts,
  execution_id: step.executionId,
  started_at: step.startedAt,
  finished_at: step.finishedAt,
  job_id: step.owner?.jobId ?? null,
  job_attempt: step.owner?.attempt ?? null,
});

export class KyselyWorkflowRunRepository implements WorkflowRunRepository {
  private readonly db: Kysely<Database>;
  readonly #dialect: DialectName;
  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.db = db;
    this.#dialect = dialect;
  }

  async insert(run: WorkflowRun): Promise<void> {
    await this.db
      .insertInto('workflow_runs')
      .values({
        id: run.id,
        organization_id: run.organizationId,
        workflow_id: run.workflowId,
        version_id: run.versionId,
        version_number: run.versionNumber,
        status: run.status,
        input: JSON.stringify(run.input),
        error: run.error === null ? null : JSON.stringify(run.error),
        caller_key_id: run.callerKeyId,
        parent_run_id: run.parentRunId,
        created_at: run.createdAt,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
      })
      .execute();
  }

  async get(organizationId: string, id: string): Promise<WorkflowRun | undefined> {
    const row = await this.db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRun(row);
  }

  async lock(organizationId: string, id: string): Promise<WorkflowRun | undefined> {
    if (!this.db.isTransaction) throw new Error('A run is locked inside a transaction');
    let query = this.db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id);
    // SQLite's transactions already hold the file's write lock from their start
    if (this.#dialect === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && toRun(row);
  }

  async unstarted(before: string, limit: number): Promise<WorkflowRun[]> {
    // from the slots: an admitted run with no step holds one, and they are as few as the runs under
    // way, while the queued runs may be a backlog of any length waiting for slots
    const rows = await this.db
      .selectFrom('workflow_run_slots as l')
      .innerJoin('workflow_runs as r', 'r.id', 'l.run_id')
      .selectAll('r')
      .where('r.status', '=', 'queued')
      .where('r.created_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('workflow_run_steps as s').select('s.step_id').whereRef('s.run_id', '=', 'r.id'),
          ),
        ),
      )
      .orderBy('r.created_at')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async waitingOrganizations(limit: number): Promise<string[]> {
    // one seek per organization on workflow_runs_waiting, however long its queue of waiting runs
    const organizations: string[] = [];
    for (let after = ''; organizations.length < limit;) {
      const next = await waitingRuns(this.db)
        .select('organization_id')
        .where('organization_id', '>', after)
        .orderBy('organization_id')
        .limit(1)
        .executeTakeFirst();
      if (!next) break;
      organizations.push((after = next.organization_id));
    }
    return organizations;
  }

  async unfinished(after: string, limit: number): Promise<WorkflowRun[]> {
    // one seek per status on (status, id): `status in (...)` would have to sort every unfinished run
    const page = (status: RunStatus) =>
      this.db
        .selectFrom('workflow_runs')
        .selectAll()
        .where('status', '=', status)
        .where('id', '>', after)
        .orderBy('id')
        .limit(limit)
        .execute();
    const rows = (await Promise.all(UNFINISHED.map(page))).flat();
    return rows
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map(toRun);
  }

  async heldSteps(runIds: readonly string[]): Promise<RunStep[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('workflow_run_steps')
      .selectAll()
      .where('run_id', 'in', runIds)
      .where('job_id', 'is not', null)
      .orderBy('run_id')
      .orderBy('position')
      .execute();
    return rows.map(toStep);
  }

  list(organizationId: string, workflowId: string, page: PageRequest): Promise<Page<WorkflowRun>> {
    const query = this.db
      .selectFrom('workflow_runs')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('workflow_id', '=', workflowId);
    return fetchPage(query, 'id', page, toRun);
  }

  async update(
    organizationId: string,
    id: string,
    patch: RunPatch,
    from: readonly RunStatus[],
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('workflow_runs')
      .set(columns(patch, ['error']))
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async insertStep(step: RunStep): Promise<boolean> {
    return (await this.insertSteps([step])).has(step.stepId);
  }

  async insertSteps(steps: readonly RunStep[], durable = true): Promise<Set<string>> {
    if (steps.length === 0) return new Set();
    // no unique violation: inside a PostgreSQL transaction one would abort the whole transaction
    const insert = this.db
      .insertInto('workflow_run_steps')
      .values(steps.map(stepRow))
      .onConflict((oc) => oc.doNothing());
    const rows =
      durable || this.#dialect !== 'postgres'
        ? await insert.returning('step_id').execute()
        : await insert.returning(['step_id', RELAXED_COMMIT]).execute();
    return new Set(rows.map((row) => row.step_id));
  }

  async getStep(organizationId: string, runId: string, stepId: string): Promise<RunStep | undefined> {
    const row = await this.db
      .selectFrom('workflow_run_steps')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('run_id', '=', runId)
      .where('step_id', '=', stepId)
      .executeTakeFirst();
    return row && toStep(row);
  }

  private step(organizationId: string, runId: string, stepId: string) {
    return this.db
      .updateTable('workflow_run_steps')
      .where('organization_id', '=', organizationId)
      .where('run_id', '=', runId)
      .where('step_id', '=', stepId);
  }

  async updateStep(
    organizationId: string,
    runId: string,
    stepId: string,
    patch: StepPatch,
    from: readonly StepStatus[],
    owner?: StepOwner,
  ): Promise<boolean> {
    let update = this.step(organizationId, runId, stepId)
      .set(columns(patch, ['input', 'output', 'error']))
      .where('status', 'in', from);
    if (owner) update = update.where('job_id', '=', owner.jobId).where('job_attempt', '=', owner.attempt);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async finishStep(
    organizationId: string,
    runId: string,
    stepId: string,
    patch: StepPatch,
    from: readonly StepStatus[],
    owner: StepOwner,
  ): Promise<RunStep | undefined> {
    const row = await this.step(organizationId, runId, stepId)
      .set(columns(patch, ['input', 'output', 'error']))
      .where('status', 'in', from)
      .where('job_id', '=', owner.jobId)
      .where('job_attempt', '=', owner.attempt)
      .returningAll()
      .executeTakeFirst();
    return row && toStep(row);
  }

  async claimStep(
    organizationId: string,
    runId: string,
    stepId: string,
    owner: StepOwner,
    patch: StepPatch,
  ): Promise<boolean> {
    const claim = this.step(organizationId, runId, stepId)
      .set({
        ...columns(patch, ['input', 'output', 'error']),
        job_id: owner.jobId,
        job_attempt: owner.attempt,
      })
      .where('status', 'in', UNFINISHED_STEP)
      .where((eb) =>
        eb.or([
          eb('job_id', 'is', null),
          eb.and([eb('job_id', '=', owner.jobId), eb('job_attempt', '<=', owner.attempt)]),
        ]),
      );
    if (this.#dialect !== 'postgres') {
      const result = await claim.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    }
    // the step's result commits durably after it: waiting for the disk here too would double a step's
    const row = await claim.returning(RELAXED_COMMIT).executeTakeFirst();
    return row !== undefined;
  }

  async handOver(
    organizationId: string,
    runId: string,
    stepId: string,
    from: string,
    to: StepOwner,
  ): Promise<boolean> {
    const result = await this.step(organizationId, runId, stepId)
      .set({ job_id: to.jobId, job_attempt: to.attempt })
      .where('status', 'in', UNFINISHED_STEP)
      .where('job_id', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async steps(organizationId: string, runId: string): Promise<RunStep[]> {
    const rows = await this.db
      .selectFrom('workflow_run_steps')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('run_id', '=', runId)
      .orderBy('position')
      .execute();
    return rows.map(toStep);
  }
}
