/**
 * HTTP entry point: `npm start`. Loads the configuration, opens the store, checks the master key,
 * serves the API, and on SIGTERM stops accepting, finishes in-flight requests and closes the store.
 */
import { relative } from 'node:path';
import type { Config } from './config.ts';
import { boot, fail, onShutdown } from './boot.ts';
import { httpDeps, type Container } from './container.ts';
import { buildHttpApp } from './http/app.ts';
import { SQLITE_FILE_NAME } from './adapters/db/store.ts';
import { VERSION } from './version.ts';

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
  const { config, container } = await boot();
  const app = await buildHttpApp(httpDeps(container));
  // Signal handlers go in before the port opens, so a SIGTERM can never meet the default action.
  onShutdown(container, config.shutdownTimeoutMs, async () => {
    // the queue stops claiming at once, while the HTTP server finishes the requests in flight
    await Promise.all([app.close(), container.stopWork()]);
    await container.close();
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await container.close();
    fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
  // code actions' workers start with the first code action: a server that runs none never holds them
  try {
    if (config.workQueue) await container.queue.start();
  } catch (error) {
    await app.close();
    await container.close();
    fail(`cannot start the job queue: ${(error as Error).message}`);
  }
  const port = (app.server.address() as { port: number }).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.error(banner(config, `http://${host}:${port}`, container));
}

await main();
