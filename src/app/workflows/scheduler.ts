/**
 * Fires cron-trigger workflows (docs/security.md I05, I06, G-19). A tick reads the schedules that are due
 * and, for each, in one transaction: moves `next_at` on from the value it read (compare-and-set, so of
 * several processes ticking at once exactly one claims the occurrences) and saves a queued run per occurrence
 * fired. Only after the commit are the runs sent on to the queue; a process that dies in between leaves
 * runs the run sweep sends on. Missed occurrences follow the schedule's policy (core/workflows/schedule.ts).
 * "Now" comes from `time`: the database's clock on PostgreSQL, so that one process whose own clock is
 * ahead cannot fire a schedule early (nor one behind, late), and a fake clock in tests, ticked by hand.
 */
import type { Crypto } from '../../core/ports/crypto.ts';
import type { Logger } from '../../core/ports/logger.ts';
import type { Repositories } from '../../core/ports/store.ts';
import { constraintsPass } from '../../core/workflows/json-logic.ts';
import { queuedRun, type WorkflowRun } from '../../core/workflows/model.ts';
import { firingOf, type WorkflowSchedule } from '../../core/workflows/schedule.ts';
import type { RunService } from './runs.ts';

export interface SchedulerDeps {
  store: Repositories<'workflowSchedules' | 'workflows' | 'workflowRuns'>;
  /** The time schedules fire by, epoch ms (one call per tick). */
  time: () => Promise<number>;
  crypto: Crypto;
  logger: Logger;
  /** Sends a saved run on to the queue (idempotent). */
  runs: Pick<RunService, 'resume'>;
}

/** Schedules handled per tick; the rest wait for the next one. */
const DUE_PER_TICK = 100;
/** `next_at` of a schedule that never fires again. */
const NEVER = '9999-12-31T00:00:00.000Z';

export type Scheduler = ReturnType<typeof createScheduler>;

export function createScheduler({ store, time, crypto, logger, runs }: SchedulerDeps) {
  const iso = (at: number) => new Date(at).toISOString();

  /** Claims the schedule's due occurrences and saves their runs; [] when another process claimed them. */
  async function claim(schedule: WorkflowSchedule, now: number): Promise<WorkflowRun[]> {
    const { organizationId, workflowId } = schedule;
    const firing = firingOf(schedule, now);
    const to = firing.nextAt === undefined ? NEVER : iso(firing.nextAt);
    const saved = await store.transaction(async (tx) => {
      if (!(await tx.workflowSchedules.claim(workflowId, schedule.versionId, schedule.nextAt, to)))
        return undefined;
      const version = await tx.workflows.getVersion(organizationId, schedule.versionId);
      if (!version) return [];
      const created: WorkflowRun[] = [];
      for (const at of firing.fire) {
        const input = { scheduled_at: iso(at), workflow_id: workflowId };
        if (!constraintsPass(version, input)) continue;
        const run = queuedRun(crypto.newId(), version, input, null, iso(now));
        await tx.workflowRuns.insert(run);
        created.push(run);
      }
      return created;
    });
    if (saved && firing.skipped > 0)
      logger.warn(
        { organizationId, workflowId, skipped: firing.skipped, missed: schedule.missed },
        'cron occurrences missed while no scheduler ran were skipped',
      );
    return saved ?? [];
  }

  /** Fires every due schedule once; answers the runs this process started. */
  async function tick(): Promise<WorkflowRun[]> {
    const now = await time();
    const started: WorkflowRun[] = [];
    for (const schedule of await store.workflowSchedules.due(iso(now), DUE_PER_TICK)) {
      try {
        started.push(...(await claim(schedule, now)));
      } catch (error) {
        logger.error({ err: error, workflowId: schedule.workflowId }, 'cron schedule could not be fired');
      }
    }
    for (const run of started) {
      // saved queued: if this fails, the run sweep sends it on later
      await runs
        .resume(run.organizationId, run.id)
        .catch((error: unknown) =>
          logger.warn({ err: error, runId: run.id }, 'cron run saved but not yet queued'),
        );
    }
    return started;
  }

  return {
    tick,

    /** Ticks every `intervalMs` until `stop()`, which waits for a tick under way. */
    start(intervalMs: number): { stop(): Promise<void> } {
      let running: Promise<unknown> = Promise.resolve();
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        running = tick()
          .catch((error: unknown) => logger.error({ err: error }, 'cron scheduler tick failed'))
          .finally(() => (busy = false));
      }, intervalMs);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await running;
        },
      };
    },
  };
}
