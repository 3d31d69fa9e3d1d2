/**
 * Worker entry point: `npm run worker`. Works the job queue (post-call actions) without serving HTTP, so
 * background work can run in processes of its own: on PostgreSQL any number of them share pg-boss; the
 * server works the queue too, so a single `npm start` needs no worker.
 */
import { boot, fail, onShutdown } from './boot.ts';

const { config, container } = await boot();
onShutdown(container, config.shutdownTimeoutMs, () => container.close());
container.sandbox.start();
try {
  await container.queue.start();
} catch (error) {
  await container.close();
  fail(`cannot start the job queue: ${(error as Error).message}`);
}
container.logger.info({ store: container.store.dialect }, 'worker started: working the job queue');
console.error(`Switchboard worker started [store: ${container.store.dialect}]; working the job queue`);
