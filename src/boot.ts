/**
 * What every long-running entry point (server.ts, worker.ts) does first: refuse an old Node.js, load and
 * validate the configuration, open the infrastructure and build the container; each failure ends the process with one line saying why.
 */
import { ConfigError, loadConfig, type Config } from './config.ts';
import { buildContainer, type Container } from './container.ts';
import { openInfrastructure, type Infrastructure } from './infrastructure.ts';

const REQUIRED_NODE_MAJOR = 24;

export function fail(message: string): never {
  console.error(`switchboard: ${message}`);
  process.exit(1);
}

export interface Booted {
  config: Readonly<Config>;
  infrastructure: Infrastructure;
  container: Container;
}

export async function boot(): Promise<Booted> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < REQUIRED_NODE_MAJOR) {
    fail(
      `needs Node.js ${REQUIRED_NODE_MAJOR} (this is ${process.version}). Start it with \`npm start\`, which uses the project's own Node.js.`,
    );
  }
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  try {
    const infrastructure = await openInfrastructure(config);
    return { config, infrastructure, container: await buildContainer(infrastructure) };
  } catch (error) {
    fail(`cannot start: ${(error as Error).message}`);
  }
}

/** SIGTERM and SIGINT: run `stop` (finish in flight, close), then exit 0; exit 1 if it fails or takes too long. */
export function onShutdown(container: Container, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handle = (signal: string) => {
    if (stopping) return;
    stopping = true;
    container.logger.info({ signal }, 'shutting down: finishing in-flight work');
    setTimeout(() => {
      container.logger.error({ timeout_ms: timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    stop()
      .then(() => {
        container.logger.info({}, 'stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        container.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => handle('SIGTERM'));
  process.on('SIGINT', () => handle('SIGINT'));
}
