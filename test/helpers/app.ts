/** Builds the whole application in-process against a fresh store, with logs captured for inspection. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { startBackgroundWork, type BackgroundWork } from '../../src/background-work.ts';
import { buildContainer, httpDeps, type Container } from '../../src/container.ts';
import type { Config } from '../../src/config.ts';
import { buildHttpApp } from '../../src/http/app.ts';
import {
  createLogger,
  openInfrastructure,
  type Infrastructure,
  type InfrastructureOptions,
} from '../../src/infrastructure.ts';
import type { Clock } from '../../src/core/ports/clock.ts';
import { createTestDatabase, type StoreKind, type TestDatabase } from './databases.ts';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

export interface RequestOptions {
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A container as the server builds it, with its adapters at hand for tests that inspect them. */
export interface TestContainer {
  container: Container;
  /** The concrete adapters (the Kysely store's `db`, the sandbox pool's stats). */
  infrastructure: Infrastructure;
  /** Starts the background work the server starts: queue workers, cron ticks, sweeps. */
  startWork(): Promise<void>;
  /** Stops the background work if it was started, then closes the container. */
  close(): Promise<void>;
}

/** Opens the infrastructure and builds the container on it, as the server does; no work is started. */
export async function openTestContainer(
  config: Readonly<Config>,
  options: InfrastructureOptions = {},
): Promise<TestContainer> {
  const infrastructure = await openInfrastructure(config, options);
  const container = await buildContainer(infrastructure);
  let work: BackgroundWork | undefined;
  return {
    container,
    infrastructure,
    async startWork() {
      work ??= await startBackgroundWork(infrastructure, container, { queue: true });
    },
    async close() {
      await work?.stop();
      await container.close();
    },
  };
}

export interface TestApp extends TestContainer {
  app: FastifyInstance;
  db: TestDatabase;
  adminKey: string;
  logs: string[];
  request(method: string, url: string, options?: RequestOptions): Promise<Response>;
  /** A key with `scopes` in a brand-new organization: for isolation tests. */
  newTenant(scopes?: string[]): Promise<{ organizationId: string; key: string }>;
  close(): Promise<void>;
}

/**
 * `clock`: a fake clock for the whole container (expiries, leases). `reuse`: start on an existing
 * database (a restart), which close() then leaves for its owner to drop.
 */
export async function startTestApp(
  kind: StoreKind,
  env: Record<string, string> | ((db: TestDatabase) => Record<string, string>) = {},
  options: { clock?: Clock; reuse?: { db: TestDatabase; adminKey: string } } = {},
): Promise<TestApp> {
  const db = options.reuse?.db ?? (await createTestDatabase(kind));
  const adminKey = options.reuse?.adminKey ?? `test-admin-${randomBytes(16).toString('hex')}`;
  const config = loadConfig({
    env: {
      ...db.env,
      SWITCHBOARD_ADMIN_KEY: adminKey,
      SWITCHBOARD_LOG_LEVEL: 'debug',
      ...(typeof env === 'function' ? env(db) : env),
    },
    envFile: false,
  });
  const logs: string[] = [];
  const opened = await openTestContainer(config, {
    logger: createLogger(config, { write: (line: string) => logs.push(line) }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const { container } = opened;
  const app = await buildHttpApp(httpDeps(container));

  async function request(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const key = options.key === undefined ? adminKey : options.key;
    const headers: Record<string, string> = {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...options.headers,
    };
    const response = await app.inject({
      method: method as never,
      url,
      headers,
      ...(options.body === undefined
        ? {}
        : typeof options.body === 'string'
          ? { payload: options.body }
          : { payload: options.body as object }),
    });
    let body: unknown;
    try {
      body = response.body ? JSON.parse(response.body) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body, text: response.body };
  }

  return {
    ...opened,
    app,
    db,
    adminKey,
    logs,
    request,
    async newTenant(scopes = ['admin']) {
      const org = await request('POST', '/v1/organizations', {
        body: { name: `tenant-${randomBytes(3).toString('hex')}` },
      });
      const key = await request('POST', `/v1/organizations/${org.body.id}/keys`, {
        body: { name: 'tenant key', scopes },
      });
      return { organizationId: org.body.id as string, key: key.body.key as string };
    },
    async close() {
      await app.close();
      await opened.close();
      if (!options.reuse) await db.drop();
    },
  };
}
