/**
 * Where a run goes from its committed steps, as values: its scope (the trigger, the outputs and errors
 * of finished steps), its plan (the if-else decisions on the way and the next step), and the records
 * the engine writes for them. No I/O: run-progress.ts writes what these build.
 */
import type {
  RunStep,
  StepBlock,
  StepOwner,
  WorkflowRun,
  WorkflowVersion,
} from '../../core/workflows/model.ts';
import { nextStep } from '../../core/workflows/plan.ts';
import type { RunScope } from '../../core/workflows/references.ts';
import type { StepResult } from './steps.ts';

/** Where the run goes from its committed steps: if-else decisions on the way, and the next step. */
export interface Plan {
  /** The committed steps it was made from, in order. */
  steps: readonly RunStep[];
  decisions: ReturnType<typeof nextStep>['decisions'];
  step: StepBlock | undefined;
}

export const scopeOf = (run: WorkflowRun, steps: readonly RunStep[]): RunScope => ({
  trigger: run.input,
  outputs: new Map(
    steps.filter((s) => s.status === 'succeeded' && s.type !== 'if-else').map((s) => [s.stepId, s.output]),
  ),
  errors: new Map(
    steps
      .filter((s) => s.status === 'failed')
      .map((s) => [s.stepId, { category: s.error?.category ?? null, message: s.error?.message ?? null }]),
  ),
});

/** Where the run goes next from these committed steps. */
export function planFrom(run: WorkflowRun, version: WorkflowVersion, steps: readonly RunStep[]): Plan {
  // a failed step is only ever passed over when its on_error blocks take over (otherwise the run failed)
  const finished = new Set(
    steps.filter((s) => s.status === 'succeeded' || s.status === 'failed').map((s) => s.stepId),
  );
  return { steps, ...nextStep(version.blocks, scopeOf(run, steps), finished) };
}

/**
 * The records of the plan's decisions and of its next step as queued, held by `owner`, unless that
 * step is recorded already. A delay's record says when it wakes (`wake_at`), so a lost job can be
 * replaced on time.
 */
export function planRecords(
  run: WorkflowRun,
  plan: Plan,
  owner: StepOwner | null,
  at: string,
  wakeAt?: number,
): RunStep[] {
  let position = plan.steps.length;
  const base = { runId: run.id, organizationId: run.organizationId, error: null, executionId: null };
  const records: RunStep[] = plan.decisions.map((d) => ({
    ...base,
    stepId: d.block.id,
    position: position++,
    type: 'if-else',
    name: d.block.name ?? null,
    status: 'succeeded',
    input: { operatorName: d.block.condition.operator, left: d.left, right: d.right },
    output: { result: d.result, branch: d.result ? 'then' : 'else' },
    attempts: 1,
    startedAt: at,
    finishedAt: at,
    owner: null,
  }));
  const { step } = plan;
  if (step && !plan.steps.some((s) => s.stepId === step.id))
    records.push({
      ...base,
      stepId: step.id,
      position,
      type: step.type,
      name: step.name ?? null,
      status: 'queued',
      input: wakeAt === undefined ? null : { ...step.input, wake_at: new Date(wakeAt).toISOString() },
      output: null,
      attempts: 0,
      startedAt: null,
      finishedAt: null,
      owner,
    });
  return records;
}

/** The record of a step settled in memory: finished at once, on its first attempt. */
export function settledRecord(
  run: WorkflowRun,
  step: StepBlock,
  position: number,
  result: StepResult,
  at: string,
): RunStep {
  return {
    runId: run.id,
    organizationId: run.organizationId,
    stepId: step.id,
    position,
    type: step.type,
    name: step.name ?? null,
    status: result.status,
    input: result.input,
    output: result.output ?? null,
    error: result.error ? { stepId: step.id, ...result.error } : null,
    attempts: 1,
    executionId: result.executionId ?? null,
    startedAt: at,
    finishedAt: at,
    owner: null,
  };
}
