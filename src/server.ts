/**
 * HTTP entry point: `npm start`. Loads the configuration, opens the store, checks the master key,
 * serves the API, and on SIGTERM stops accepting, finishes in-flight requests and closes the store.
 */
import { relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createContainer, httpDeps, type Container } from './container.ts';
import { buildHttpApp } from './http/app.ts';
import { SQLITE_FILE_NAME } from './adapters/db/store.ts';
import { VERSION } from './version.ts';

const REQUIRED_NODE_MAJOR = 24;

function fail(message: string): never {
  console.error(`switchboard: ${message}`);
  process.exit(1);
}

function banner(config: Readonly<Config>, address: string, container: Container): string {
  const store = config.databaseUrl
    ? `PostgreSQL (${new URL(config.databaseUrl).host})`
    : `SQLite (${relative(process.cwd(), `${config.dataDir}/${SQLITE_FILE_NAME}`) || SQLITE_FILE_NAME})`;
  const keyHint = config.adminKey
    ? 'SWITCHBOARD_ADMIN_KEY is set: use it as the bearer token'
    : 'npx switchboard keys create --name me --scopes admin   (or set SWITCHBOARD_ADMIN_KEY)';
  return [
    `Switchboard ${VERSION} listening on ${address}  [store: ${store}]`,
    `  API docs:     ${address}/docs   (OpenAPI 3.1: ${address}/openapi.json)`,
    `  Get a key:    ${keyHint}`,
    `  First call:   curl -H "Authorization: Bearer <key>" ${address}/v1/me`,
    ...(container.masterKeyGenerated
      ? [`  Master key:   generated at ${container.masterKeyGenerated}; back it up with the data directory`]
      : []),
  ].join('\n');
}

async function main(): Promise<void> {
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

  let container: Container;
  try {
    container = await createContainer(config);
  } catch (error) {
    fail(`cannot start: ${(error as Error).message}`);
  }
  const app = await buildHttpApp(httpDeps(container));
  // Signal handlers go in before the port opens, so a SIGTERM can never meet the default action.
  installShutdown(app, container, config.shutdownTimeoutMs);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await container.close();
    fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  // code actions' workers start now rather than on the first run, which would wait for them
  container.sandbox.start();
  try {
    await container.queue.start();
  } catch (error) {
    await app.close();
    await container.close();
    fail(`cannot start the job queue: ${(error as Error).message}`);
  }
  const port = (app.server.address() as { port: number }).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.error(banner(config, `http://${host}:${port}`, container));
}

/** SIGTERM and SIGINT: stop accepting, let in-flight requests finish, close the store, exit 0. */
function installShutdown(app: FastifyInstance, container: Container, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    container.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      container.logger.error({ timeout_ms: timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    app
      .close()
      .then(() => container.close())
      .then(() => {
        container.logger.info({}, 'stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        container.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
