/**
 * Starting a workflow run, as the workflow kind needs it (an agent calling a workflow's tool): the run is
 * saved and admitted, and its first step's job enqueued. Running the steps is the run engine's business,
 * which the kinds never see, so the kinds and the engine that runs actions in steps do not depend on
 * each other.
 */
import type { WorkflowRun, WorkflowVersion } from '../workflows/model.ts';

export interface WorkflowStarter {
  /**
   * Starts a run pinned to `version` with `input` as its trigger data. `callerKeyId`: the key that
   * called, null for a webhook, an event or a run; `parentRunId`: the run whose step started this one
   * (none for a start from outside any run).
   */
  startVersion(
    version: WorkflowVersion,
    input: Record<string, unknown>,
    callerKeyId: string | null,
    parentRunId?: string | null,
  ): Promise<WorkflowRun>;
}
