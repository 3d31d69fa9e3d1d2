/**
 * The first step of the composition root: opens the infrastructure the configuration chooses (the
 * migrated store, the master keys, the guarded egress client, the job queue, the sandbox pool, the rate
 * limiter, the OpenAPI reader). Nothing here starts a timer or works a job, so a process that only opens
 * it (the CLI) leaves nothing running behind it. container.ts builds the services on top; the server and
 * the worker then start the background work (background-work.ts).
 */
import { availableParallelism } from 'node:os';
import { pino, type Logger as PinoLogger } from 'pino';
import { findUndecryptable, resolveKeyVersions, type UndecryptableSecret } from './app/master-keys.ts';
import type { Config } from './config.ts';
import { fingerprintMasterKey, Keyring } from './adapters/crypto/keyring.ts';
import { resolveMasterKey } from './adapters/crypto/master-key-file.ts';
import { createNodeCrypto } from './adapters/crypto/node-crypto.ts';
import { isStoreUnavailable } from './adapters/db/errors.ts';
import { PostgresRateLimiter } from './adapters/db/rate-limiter.ts';
import { openStore, type KyselyStore } from './adapters/db/store.ts';
import { createFaults } from './adapters/faults.ts';
import { createGuardedHttpClient } from './adapters/http-client/guarded-client.ts';
import type { EgressOptions } from './adapters/http-client/options.ts';
import { createWorkerOpenApiReader } from './adapters/openapi/worker-reader.ts';
import { createEmbeddedQueue } from './adapters/queue/embedded/embedded-queue.ts';
import { MemoryRateLimiter } from './adapters/rate-limit/memory.ts';
import { createQuickJsSandbox, type QuickJsSandbox } from './adapters/sandbox/quickjs-sandbox.ts';
import { type Clock, systemClock } from './core/ports/clock.ts';
import type { Crypto } from './core/ports/crypto.ts';
import type { Faults } from './core/ports/faults.ts';
import type { HttpClient } from './core/ports/http-client.ts';
import type { OpenApiReader } from './core/ports/openapi-reader.ts';
import type { Queue } from './core/ports/queue.ts';
import type { RateLimiter } from './core/ports/rate-limiter.ts';
import { VERSION } from './version.ts';

/**
 * The adapters of one process, with their concrete types: only the composition root, the entry points
 * and tests that inspect an adapter see them; services get ports.
 */
export interface Infrastructure {
  readonly config: Readonly<Config>;
  readonly logger: PinoLogger;
  readonly clock: Clock;
  /** The time cron schedules fire by, epoch ms (see InfrastructureOptions.scheduleTime). */
  readonly scheduleTime: () => Promise<number>;
  readonly crypto: Crypto;
  readonly store: KyselyStore;
  /** The master keys by version: seals and opens secret values, and re-keys them (the CLI). */
  readonly cipher: Keyring;
  /** The one guarded egress client. */
  readonly http: HttpClient;
  /** Parses and plans OpenAPI documents on a thread of its own, started with the first import. */
  readonly openApiReader: OpenApiReader;
  /** Where code actions run: worker threads started with the first run, or by `sandbox.start()`. */
  readonly sandbox: QuickJsSandbox;
  /**
   * Durable background jobs: SQLite's jobs table worked in process, or pg-boss on PostgreSQL. Opening it
   * works nothing: jobs are worked once background work starts.
   */
  readonly queue: Queue;
  /**
   * Request limits per key and per organization, and failed authentications per client; shared across
   * processes on PostgreSQL.
   */
  readonly rateLimiter: RateLimiter;
  /** Crash-test hooks (SWITCHBOARD_FAULT_AT); nothing in production. */
  readonly faults: Faults;
  /** Whether an error means the database is out of reach (worth retrying), not a wrong request. */
  readonly isStoreUnavailable: (error: unknown) => boolean;
  /** Where the master key was generated at this start, if it was. */
  readonly masterKeyGenerated: string | undefined;
  /** Stored secrets found at start not to decrypt under the right key (reported, not fatal). */
  readonly undecryptableSecrets: readonly UndecryptableSecret[];
  /** Closes every adapter, the store last. Stop background work first. */
  close(): Promise<void>;
}

export interface InfrastructureOptions {
  logger?: PinoLogger;
  /** This process's clock (default: the system's); tests pass a fake one. */
  clock?: Clock;
  /**
   * The time cron schedules fire by. Default: the database's clock on PostgreSQL (`select now()` once a
   * tick), so that a process whose own clock is off fires nothing early or late; `clock` on SQLite (one
   * machine), and whenever a `clock` is given (a test's fake time stands for the database's too).
   */
  scheduleTime?: 'database' | 'clock';
}

/** How many undecryptable secrets the start-up warning lists by id (it always gives the count). */
const REPORTED_SECRETS = 100;

/** Header and field names whose values are credentials; pino replaces them before anything is written. */
const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'value',
  '*.value',
  'token',
  '*.token',
];

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: pino.DestinationStream,
): PinoLogger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'switchboard' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[REDACTED]' },
    },
    destination,
  );
}

export function egressOptions(config: Readonly<Config>): EgressOptions {
  return {
    allowPrivateNetworks: config.allowPrivateNetworks,
    allowedPorts: config.egressAllowedPorts,
    dnsServers: config.egressDnsServers,
    connectTimeoutMs: config.egressConnectTimeoutMs,
    timeoutMs: config.egressTimeoutMs,
    timeoutCapMs: config.egressTimeoutCapMs,
    responseLimitBytes: config.egressResponseLimitBytes,
    responseCapBytes: config.egressResponseCapBytes,
    requestLimitBytes: config.egressRequestLimitBytes,
    maxRedirects: 5,
    userAgent: `Switchboard/${VERSION}`,
  };
}

/** Resolves the master key (generating one for a new data directory) and the keyring of its versions. */
async function openKeys(
  config: Readonly<Config>,
  store: KyselyStore,
  clock: Clock,
  logger: PinoLogger,
): Promise<{ cipher: Keyring; generated: string | undefined }> {
  const master = await resolveMasterKey(
    config.secretKey,
    config.dataDir,
    async () => (await store.secrets.count()) > 0,
  );
  if (master.generated)
    logger.warn({ file: master.origin }, 'generated a new master key; back it up with the data directory');
  const previous = config.secretKeyPrevious;
  const versions = await resolveKeyVersions(
    store,
    clock,
    { fingerprint: fingerprintMasterKey(master.key), origin: master.origin },
    previous && { fingerprint: fingerprintMasterKey(previous), origin: 'SWITCHBOARD_SECRET_KEY_PREVIOUS' },
  );
  const keys = new Map([[versions.current, master.key]]);
  if (previous && versions.previous !== undefined) keys.set(versions.previous, previous);
  return {
    cipher: new Keyring(keys, versions.current),
    generated: master.generated ? master.origin : undefined,
  };
}

function warnUndecryptable(logger: PinoLogger, secrets: readonly UndecryptableSecret[]): void {
  if (secrets.length === 0) return;
  logger.warn(
    {
      count: secrets.length,
      secrets: secrets.slice(0, REPORTED_SECRETS).map((s) => ({
        id: s.id,
        organization_id: s.organizationId,
        key_version: s.keyVersion,
      })),
    },
    'secrets that do not decrypt under their (right) master key: altered, or restored from another ' +
      'database. Executions that use them fail with secret_unavailable; store their values again ' +
      '(PATCH /v1/secrets/{id}) or delete them',
  );
}

async function openQueue(
  config: Readonly<Config>,
  store: KyselyStore,
  crypto: Crypto,
  clock: Clock,
  logger: PinoLogger,
): Promise<Queue> {
  if (config.databaseUrl && config.jobLeaseMs < 10_000)
    throw new Error(
      'SWITCHBOARD_JOB_LEASE_MS must be at least 10000 on PostgreSQL (pg-boss leases are in whole seconds, extended by heartbeats)',
    );
  const timings = {
    leaseMs: config.jobLeaseMs,
    heartbeatMs: Math.floor(config.jobLeaseMs / 3),
    retryBaseMs: config.jobRetryBaseMs,
    clock,
    logger,
    transient: isStoreUnavailable,
  };
  return config.databaseUrl
    ? // pg-boss is loaded only where it is used: a SQLite server never holds it
      (await import('./adapters/queue/pg-boss/pg-boss-queue.ts')).createPgBossQueue({
        connectionString: config.databaseUrl,
        newId: () => crypto.newId(),
        ...timings,
      })
    : createEmbeddedQueue({ db: store.db, newId: () => crypto.newId(), ...timings });
}

export async function openInfrastructure(
  config: Readonly<Config>,
  options: InfrastructureOptions = {},
): Promise<Infrastructure> {
  const logger = options.logger ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const crypto = createNodeCrypto(() => clock.now());
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    poolSize: config.databasePoolSize,
  });
  try {
    const { cipher, generated } = await openKeys(config, store, clock, logger);
    const undecryptableSecrets = await findUndecryptable(store, cipher);
    warnUndecryptable(logger, undecryptableSecrets);
    const queue = await openQueue(config, store, crypto, clock, logger);
    const rateLimiter: RateLimiter =
      store.dialect === 'postgres' ? new PostgresRateLimiter(store.db) : new MemoryRateLimiter(clock);
    const http = createGuardedHttpClient(egressOptions(config));
    if (config.allowPrivateNetworks.length > 0) {
      logger.warn(
        { allowed: config.allowPrivateNetworks },
        'outbound calls may reach these private destinations (SWITCHBOARD_ALLOW_PRIVATE_NETWORKS)',
      );
    }
    const openApiReader = createWorkerOpenApiReader();
    const sandbox = createQuickJsSandbox({
      workers: config.sandboxWorkers || availableParallelism(),
      lazy: true,
      // each worker makes its runs' fetch calls through its own guarded client
      fetcher: { module: new URL('./sandbox-fetch.ts', import.meta.url), options: egressOptions(config) },
    });
    const scheduleTime =
      options.scheduleTime ?? (options.clock || store.dialect !== 'postgres' ? 'clock' : 'database');
    return {
      config,
      logger,
      clock,
      scheduleTime: scheduleTime === 'database' ? () => store.databaseNow() : async () => clock.now(),
      crypto,
      store,
      cipher,
      http,
      openApiReader,
      sandbox,
      queue,
      rateLimiter,
      faults: createFaults(config.faultAt),
      isStoreUnavailable,
      masterKeyGenerated: generated,
      undecryptableSecrets,
      async close() {
        // stopping the queue also closes it; once background work has stopped it, this returns at once
        await queue.stop(Math.floor(config.shutdownTimeoutMs * 0.8));
        await sandbox.close();
        await openApiReader.close();
        await http.close();
        await rateLimiter.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
