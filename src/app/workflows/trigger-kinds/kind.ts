/**
 * What a trigger type adds to a workflow beyond starting runs: a check of its `trigger_configuration` at save
 * time, and state kept beside the active version (a cron schedule, an agent tool). A table from trigger type
 * to kind, so a new type is a new row, never a new branch; a type with nothing to add has no row.
 */
import type { Repositories } from '../../../core/ports/store.ts';
import type { ActionRepositoryName } from '../../actions.ts';
import type { TriggerType, WorkflowVersion } from '../../../core/workflows/model.ts';

/**
 * What a trigger kind may write beside the version, in the transaction that saves it: a schedule, or an
 * agent tool (an action saved as any action is).
 */
export type TriggerRepositoryName = 'workflowSchedules' | 'workflowTools' | ActionRepositoryName;
export type TriggerStore = Repositories<TriggerRepositoryName>;

export interface TriggerKind {
  /**
   * Checks `trigger_configuration` and answers it as it is to be stored; throws an AppError naming the
   * path of the first problem.
   */
  configure?(organizationId: string, configuration: unknown): Promise<unknown>;
  /** In the transaction that saves the version, once it is the active one (every new version). */
  activated?(tx: TriggerStore, version: WorkflowVersion): Promise<void>;
  /**
   * In the transaction that deletes the workflow, or saves a version with another trigger type: the
   * version that was active until now.
   */
  retired?(tx: TriggerStore, version: WorkflowVersion): Promise<void>;
}

export type TriggerKinds = Readonly<Partial<Record<TriggerType, TriggerKind>>>;
