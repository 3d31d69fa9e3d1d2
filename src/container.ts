/**
 * The composition root: picks adapters from the configuration, runs the start-up checks, and builds the
 * use cases. server.ts, worker.ts and the CLI all start here; nothing else wires adapters.
 */
import { availableParallelism } from 'node:os';
import { pino, type Logger as PinoLogger } from 'pino';
import { createActionService, type ActionService } from './app/actions.ts';
import { createAgentActionService, type AgentActionService } from './app/agent-actions.ts';
import { agentDraftReset, createAgentService, type AgentService } from './app/agents.ts';
import { createApiKeyService, type ApiKeyService } from './app/api-keys.ts';
import { createIdempotency } from './app/executions/idempotency.ts';
import { ExecutionRecorder } from './app/executions/recorder.ts';
import { startRetention } from './app/executions/retention.ts';
import { createExecutionService, type ExecutionService } from './app/executions/service.ts';
import { createIntegrationService, type IntegrationService } from './app/integrations.ts';
import { createCodeKind, type SandboxSettings } from './app/kinds/code/index.ts';
import { createHoldKind } from './app/kinds/hold/index.ts';
import { createHttpKind } from './app/kinds/http/index.ts';
import { KindRegistry } from './app/kinds/registry.ts';
import { createTransferKind } from './app/kinds/transfer/index.ts';
import { createWorkflowKind } from './app/kinds/workflow/index.ts';
import { createToolService, type ToolService } from './app/tools.ts';
import { createOpenApiImportService, type OpenApiImportService } from './app/openapi-import.ts';
import { findUndecryptable, resolveKeyVersions, type UndecryptableSecret } from './app/master-keys.ts';
import { createOrganizationService, type OrganizationService } from './app/organizations.ts';
import { createPostCallService, type PostCallService } from './app/post-call.ts';
import { createSecretService, type SecretService } from './app/secrets.ts';
import { createVariableOptionsService, type VariableOptionsService } from './app/variable-options.ts';
import { createWorkflowService, type WorkflowService } from './app/workflows/definitions.ts';
import { createRunService, type RunService } from './app/workflows/runs.ts';
import { createTriggerService, type TriggerService } from './app/workflows/triggers.ts';
import { createScheduler, type Scheduler } from './app/workflows/scheduler.ts';
import { cronTrigger } from './app/workflows/trigger-kinds/cron.ts';
import { createFaults } from './adapters/faults.ts';
import { aiTrigger } from './app/workflows/trigger-kinds/ai.ts';
import { webhookTrigger } from './app/workflows/trigger-kinds/webhook.ts';
import type { Config } from './config.ts';
import { fingerprintMasterKey, Keyring } from './adapters/crypto/keyring.ts';
import { resolveMasterKey } from './adapters/crypto/master-key-file.ts';
import { createNodeCrypto } from './adapters/crypto/node-crypto.ts';
import { isStoreUnavailable } from './adapters/db/errors.ts';
import { PostgresRateLimiter } from './adapters/db/rate-limiter.ts';
import { openStore, type KyselyStore } from './adapters/db/store.ts';
import { createGuardedHttpClient } from './adapters/http-client/guarded-client.ts';
import type { EgressOptions } from './adapters/http-client/options.ts';
import { createEmbeddedQueue } from './adapters/queue/embedded/embedded-queue.ts';
import { createPgBossQueue } from './adapters/queue/pg-boss/pg-boss-queue.ts';
import { MemoryRateLimiter } from './adapters/rate-limit/memory.ts';
import { createWorkerOpenApiReader } from './adapters/openapi/worker-reader.ts';
import { createQuickJsSandbox, type QuickJsSandbox } from './adapters/sandbox/quickjs-sandbox.ts';
import { type Clock, systemClock } from './core/ports/clock.ts';
import type { Crypto } from './core/ports/crypto.ts';
import type { HttpClient } from './core/ports/http-client.ts';
import type { Queue } from './core/ports/queue.ts';
import type { RateLimiter } from './core/ports/rate-limiter.ts';
import type { HttpDeps } from './http/app.ts';
import { VERSION } from './version.ts';

export interface Container {
  readonly config: Readonly<Config>;
  readonly logger: PinoLogger;
  readonly clock: Clock;
  readonly crypto: Crypto;
  readonly store: KyselyStore;
  readonly cipher: Keyring;
  /** The one guarded egress client. */
  readonly http: HttpClient;
  readonly kinds: KindRegistry;
  /** Where code actions run: worker threads started with the first run, or by `sandbox.start()`. */
  readonly sandbox: QuickJsSandbox;
  /**
   * Durable background jobs (post-call actions): SQLite's jobs table worked in process, or pg-boss on
   * PostgreSQL. The server starts working it (`queue.start()`); the CLI does not.
   */
  readonly queue: Queue;
  /**
   * Request limits per key and per organization, and failed authentications per client; shared across
   * processes on PostgreSQL.
   */
  readonly rateLimiter: RateLimiter;
  readonly defaultOrganizationId: string;
  readonly masterKeyGenerated: string | undefined;
  /** Stored secrets found at start not to decrypt under the right key (reported, not fatal). */
  readonly undecryptableSecrets: readonly UndecryptableSecret[];
  /** Fires cron-trigger workflows; ticks every few seconds in processes that work the queue. */
  readonly scheduler: Scheduler;
  readonly services: {
    readonly organizations: OrganizationService;
    readonly apiKeys: ApiKeyService;
    readonly secrets: SecretService;
    readonly integrations: IntegrationService;
    readonly actions: ActionService;
    readonly executions: ExecutionService;
    readonly variableOptions: VariableOptionsService;
    readonly postCall: PostCallService;
    readonly agents: AgentService;
    readonly agentActions: AgentActionService;
    readonly tools: ToolService;
    readonly imports: OpenApiImportService;
    readonly workflows: WorkflowService;
    readonly workflowRuns: RunService;
    readonly workflowTriggers: TriggerService;
  };
  /**
   * Stops taking background work (queue claims, schedule ticks, sweeps) and lets the jobs in hand finish
   * within most of the shutdown timeout, giving back those that do not (SECURITY.md H15). close() does it too.
   */
  stopWork(): Promise<void>;
  close(): Promise<void>;
}

/** How often a process that works the queue looks for due cron schedules. */
const SCHEDULER_TICK_MS = 5_000;
/** How many undecryptable secrets the start-up warning lists by id (it always gives the count). */
const REPORTED_SECRETS = 100;

export interface ContainerOptions {
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

export function sandboxSettings(config: Readonly<Config>): SandboxSettings {
  return {
    timeoutMs: config.sandboxTimeoutMs,
    timeoutCapMs: config.sandboxTimeoutCapMs,
    memoryMb: config.sandboxMemoryMb,
    memoryCapMb: config.sandboxMemoryCapMb,
    maxFetches: config.sandboxMaxFetches,
    maxFetchesCap: config.sandboxMaxFetchesCap,
    concurrentFetches: config.sandboxConcurrentFetches,
    outputBytes: config.sandboxOutputBytes,
    logBytes: config.sandboxLogBytes,
  };
}

export async function createContainer(
  config: Readonly<Config>,
  options: ContainerOptions = {},
): Promise<Container> {
  const logger = options.logger ?? createLogger(config);
  const clock = options.clock ?? systemClock;
  const crypto = createNodeCrypto(() => clock.now());
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    poolSize: config.databasePoolSize,
  });
  try {
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
    const cipher = new Keyring(keys, versions.current);
    const undecryptableSecrets = await findUndecryptable(store, cipher);
    if (undecryptableSecrets.length > 0) {
      logger.warn(
        {
          count: undecryptableSecrets.length,
          secrets: undecryptableSecrets.slice(0, REPORTED_SECRETS).map((s) => ({
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

    const rateLimiter: RateLimiter =
      store.dialect === 'postgres' ? new PostgresRateLimiter(store.db) : new MemoryRateLimiter(clock);
    const http = createGuardedHttpClient(egressOptions(config));
    if (config.allowPrivateNetworks.length > 0) {
      logger.warn(
        { allowed: config.allowPrivateNetworks },
        'outbound calls may reach these private destinations (SWITCHBOARD_ALLOW_PRIVATE_NETWORKS)',
      );
    }
    // parses and plans OpenAPI documents on a thread of its own, started with the first import
    const openApiReader = createWorkerOpenApiReader();
    const sandbox = createQuickJsSandbox({
      workers: config.sandboxWorkers || availableParallelism(),
      lazy: true,
      // each worker makes its runs' fetch calls through its own guarded client
      fetcher: { module: new URL('./sandbox-fetch.ts', import.meta.url), options: egressOptions(config) },
    });
    const kinds = new KindRegistry([
      createHttpKind({
        http,
        clock,
        timeoutMs: config.egressTimeoutMs,
        timeoutCapMs: config.egressTimeoutCapMs,
        recordBodyBytes: config.executionRecordBytes,
      }),
      createCodeKind({
        sandbox,
        http,
        clock,
        settings: sandboxSettings(config),
        fetchTimeoutMs: config.egressTimeoutMs,
      }),
      createTransferKind({ clock }),
      createHoldKind({ clock }),
      // bound lazily: the run service is built after the kinds, and runs them in its action steps
      createWorkflowKind({
        store,
        startRun: (version, input, callerKeyId, parentRunId) =>
          workflowRuns.startVersion(version, input, callerKeyId, parentRunId),
      }),
    ]);
    const secrets = createSecretService({ store, crypto, clock, cipher });
    const actions = createActionService({
      store,
      crypto,
      clock,
      kinds,
      http,
      onActionsChanged: agentDraftReset(clock),
    });
    const agents = createAgentService({ store, crypto, clock, actions });
    const recorder = new ExecutionRecorder(store, logger, isStoreUnavailable);
    const retention = startRetention(store, clock, logger, config.executionRetentionDays);
    const executions = createExecutionService({
      store,
      crypto,
      clock,
      logger,
      kinds,
      reveal: (organizationId, id) => secrets.reveal(organizationId, id),
      recorder,
      idempotency: createIdempotency(store, crypto, clock),
      deadlineMs: config.egressTimeoutCapMs,
      confirmationTtlMs: config.confirmationTtlMs,
      budget: { limiter: rateLimiter, perMinute: config.conversationActionBudget },
    });
    const timings = {
      leaseMs: config.jobLeaseMs,
      heartbeatMs: Math.floor(config.jobLeaseMs / 3),
      retryBaseMs: config.jobRetryBaseMs,
      clock,
      logger,
      transient: isStoreUnavailable,
    };
    if (config.databaseUrl && config.jobLeaseMs < 10_000)
      throw new Error(
        'SWITCHBOARD_JOB_LEASE_MS must be at least 10000 on PostgreSQL (pg-boss leases are in whole seconds, extended by heartbeats)',
      );
    const queue: Queue = config.databaseUrl
      ? createPgBossQueue({ connectionString: config.databaseUrl, newId: () => crypto.newId(), ...timings })
      : createEmbeddedQueue({ db: store.db, newId: () => crypto.newId(), ...timings });
    const postCall = createPostCallService({
      store,
      queue,
      clock,
      logger,
      run: (request, attempt) => executions.runPostCall(request, attempt),
    });
    postCall.work();
    const workflowRuns = createRunService({
      store,
      queue,
      faults: createFaults(config.faultAt),
      crypto,
      clock,
      logger,
      kinds,
      reveal: (organizationId, id) => secrets.reveal(organizationId, id),
      execute: (principal, actionId, request) => executions.execute(principal, actionId, request),
      runsPerOrganization: config.workflowRunsPerOrganization,
    });
    workflowRuns.work();
    // a run whose process died between saving it and enqueueing its first job is sent on a lease later
    const sweep = setInterval(
      () =>
        void workflowRuns
          .sweep(config.jobLeaseMs)
          .catch((error: unknown) => logger.error({ err: error }, 'workflow run sweep failed')),
      Math.max(Math.floor(config.jobLeaseMs / 2), 500),
    );
    sweep.unref();
    const scheduleTime =
      options.scheduleTime ?? (options.clock || store.dialect !== 'postgres' ? 'clock' : 'database');
    const time = scheduleTime === 'database' ? () => store.databaseNow() : async () => clock.now();
    const scheduler = createScheduler({ store, time, crypto, logger, runs: workflowRuns });
    const ticking = config.workQueue ? scheduler.start(SCHEDULER_TICK_MS) : undefined;
    const stopWork = async () => {
      clearInterval(sweep);
      await ticking?.stop();
      // a fifth of the shutdown timeout is left to give unfinished jobs back and close the rest
      await queue.stop(Math.floor(config.shutdownTimeoutMs * 0.8));
    };
    const services = {
      organizations: createOrganizationService({ store, crypto, clock }),
      apiKeys: createApiKeyService({
        store,
        crypto,
        clock,
        logger,
        cacheTtlMs: config.keyCacheTtlMs ?? (store.dialect === 'postgres' ? 1_000 : 0),
      }),
      secrets,
      integrations: createIntegrationService({ store, crypto, clock, http, kinds }),
      actions,
      executions,
      variableOptions: createVariableOptionsService({ actions, executions }),
      agents,
      agentActions: createAgentActionService({ agents, actions }),
      tools: createToolService({ store, actions, agents }),
      postCall,
      imports: createOpenApiImportService({ store, http, actions, reader: openApiReader, clock }),
      workflows: createWorkflowService({
        store,
        crypto,
        clock,
        triggerKinds: {
          webhook: webhookTrigger((organizationId, id) => secrets.reveal(organizationId, id)),
          'ai-trigger': aiTrigger(actions),
          'cron-trigger': cronTrigger(time),
        },
        http,
      }),
      workflowRuns,
      workflowTriggers: createTriggerService({
        store,
        crypto,
        clock,
        logger,
        runs: workflowRuns,
        reveal: (organizationId, id) => secrets.reveal(organizationId, id),
      }),
    };
    const defaultOrganization = await services.organizations.ensureDefault();
    if (config.adminKey) await services.apiKeys.ensureBootstrapKey(config.adminKey, defaultOrganization.id);

    return {
      config,
      logger,
      clock,
      crypto,
      store,
      cipher,
      http,
      kinds,
      sandbox,
      queue,
      rateLimiter,
      defaultOrganizationId: defaultOrganization.id,
      masterKeyGenerated: master.generated ? master.origin : undefined,
      undecryptableSecrets,
      scheduler,
      services,
      stopWork,
      async close() {
        retention.stop();
        await stopWork();
        await recorder.drain();
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

/** What the HTTP layer needs from the container: use cases, limiters, and a few settings. */
export function httpDeps(container: Container): HttpDeps {
  const { config } = container;
  return {
    version: VERSION,
    logger: container.logger,
    logRequests: container.logger.isLevelEnabled('info'),
    services: container.services,
    kinds: container.kinds,
    rateLimiter: container.rateLimiter,
    ping: () => container.store.ping(),
    isUnavailable: isStoreUnavailable,
    settings: {
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerKey: config.rateLimitPerKey,
      rateLimitPerOrganization: config.rateLimitPerOrganization,
      authFailureLimit: config.authFailureLimit,
      mcpToolsPageSize: config.mcpToolsPageSize,
      mcpBatchLimit: config.mcpBatchLimit,
      authFailureIpv6Prefix: config.authFailureIpv6Prefix,
      trustedProxies: config.trustedProxies,
      allowedOrigins: config.allowedOrigins,
    },
  };
}
