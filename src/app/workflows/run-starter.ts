/**
 * Starting a run: saved and admitted in one transaction (it takes a slot if its organization has one
 * free and no older run waits for it, else it waits `queued`), then its first step's job is enqueued.
 * Needs nothing that runs steps, so the workflow kind can start runs while the engine that runs its
 * actions is built after it.
 */
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Faults } from '../../core/ports/faults.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Queue } from '../../core/ports/queue.ts';
import type { ProgressStore } from './run-progress.ts';
import type { WorkflowStarter } from '../../core/ports/workflow-starter.ts';
import { queuedRun, type WorkflowRun, type WorkflowVersion } from '../../core/workflows/model.ts';
import { planFrom } from './run-plan.ts';
import { createRunProgress, type RunProgress } from './run-progress.ts';

export interface RunStarterDeps {
  store: ProgressStore;
  queue: Queue;
  crypto: Crypto;
  clock: Clock;
  logger: Logger;
  /** Crash-test hooks (SWITCHBOARD_FAULT_AT); nothing in production. */
  faults: Faults;
  /** Runs of one organization under way at once (started, not finished, not asleep); 0: no cap. */
  runsPerOrganization: number;
  /** The run service's own, when it builds the starter; a new one otherwise (it holds no state). */
  progress?: RunProgress | undefined;
}

export function createRunStarter(deps: RunStarterDeps): WorkflowStarter {
  const { store, clock } = deps;
  const progress = deps.progress ?? createRunProgress(deps);

  return {
    async startVersion(
      version: WorkflowVersion,
      input: Record<string, unknown>,
      callerKeyId: string | null,
      parentRunId: string | null = null,
    ): Promise<WorkflowRun> {
      const now = new Date(clock.now()).toISOString();
      const run = queuedRun(deps.crypto.newId(), version, input, callerKeyId, now, parentRunId);
      const admitted = await store.transaction(async (tx) => {
        await tx.workflowRuns.insert(run);
        return tx.workflowRunSlots.admit(run.organizationId, deps.runsPerOrganization, run.createdAt);
      });
      deps.faults('run-saved');
      if (admitted.includes(run.id)) {
        try {
          await progress.advance(run, version, undefined, planFrom(run, version, []));
        } catch (error) {
          // not left queued with no job behind it: the caller sees the error and may start it again
          await progress
            .failRun(run, null, { category: 'internal', message: 'The run could not be queued' })
            .catch(() => undefined);
          throw error;
        }
      }
      await progress.send(
        run.organizationId,
        admitted.filter((id) => id !== run.id),
      );
      return run;
    },
  };
}
