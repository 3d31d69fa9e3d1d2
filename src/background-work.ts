/**
 * The composition root's last step, taken only by the server and the worker (never by the CLI): works
 * the job queue (post-call actions, workflow steps), ticks the cron scheduler, sweeps stranded runs,
 * deletes expired records. The sandbox's threads start with the first code action: a process that runs
 * none never holds them.
 */
import { startRetention } from './app/executions/retention.ts';
import type { Container } from './container.ts';
import type { Infrastructure } from './infrastructure.ts';

/** How often a process that works the queue looks for due cron schedules. */
const SCHEDULER_TICK_MS = 5_000;

export interface WorkOptions {
  /**
   * Work the job queue and fire cron schedules here. False for an API-only process
   * (SWITCHBOARD_WORK_QUEUE=false) whose queue `npm run worker` processes work.
   */
  queue: boolean;
}

export interface BackgroundWork {
  /**
   * Stops taking background work (queue claims, schedule ticks, sweeps) and lets the jobs in hand finish
   * within most of the shutdown timeout, giving back those that do not. Safe to call twice.
   */
  stop(): Promise<void>;
}

export async function startBackgroundWork(
  infrastructure: Infrastructure,
  container: Container,
  options: WorkOptions,
): Promise<BackgroundWork> {
  const { config, logger, queue } = infrastructure;
  const { services, scheduler } = container;
  const retention = startRetention(
    infrastructure.store,
    infrastructure.clock,
    logger,
    config.executionRetentionDays,
  );
  // a run whose process died between saving it and enqueueing its first job is sent on a lease later
  const sweep = setInterval(
    () =>
      void services.workflowRuns
        .sweep(config.jobLeaseMs)
        .catch((error: unknown) => logger.error({ err: error }, 'workflow run sweep failed')),
    Math.max(Math.floor(config.jobLeaseMs / 2), 500),
  );
  sweep.unref();
  let ticking: { stop(): Promise<void> } | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      clearInterval(sweep);
      retention.stop();
      await ticking?.stop();
      // a fifth of the shutdown timeout is left to give unfinished jobs back and close the rest
      await queue.stop(Math.floor(config.shutdownTimeoutMs * 0.8));
    })());
  if (options.queue) {
    services.postCall.work();
    services.workflowRuns.work();
    try {
      await queue.start();
    } catch (error) {
      await stop();
      throw error;
    }
    ticking = scheduler.start(SCHEDULER_TICK_MS);
  }
  return { stop };
}
