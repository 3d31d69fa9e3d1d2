/**
 * Worker entry point: `npm run worker`. Works the job queue (post-call actions, workflow steps, cron
 * schedules) without serving HTTP, so background work can run in processes of its own: on PostgreSQL any
 * number of them share pg-boss; the server works the queue too, so a single `npm start` needs no worker.
 */
import { startBackgroundWork, type BackgroundWork } from './background-work.ts';
import { boot, fail, onShutdown } from './boot.ts';

const { config, infrastructure, container } = await boot();
let work: BackgroundWork | undefined;
onShutdown(container, config.shutdownTimeoutMs, async () => {
  await work?.stop();
  await container.close();
});
try {
  work = await startBackgroundWork(infrastructure, container, { queue: true });
} catch (error) {
  await container.close();
  fail(`cannot start the job queue: ${(error as Error).message}`);
}
container.logger.info({ store: container.store.dialect }, 'worker started: working the job queue');
console.error(`Switchboard worker started [store: ${container.store.dialect}]; working the job queue`);
