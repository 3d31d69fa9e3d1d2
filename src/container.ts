/**
 * The composition root's second step: builds the use cases on the opened infrastructure
 * (infrastructure.ts). Building is wiring only: no timer, no queue work, so the CLI can use the services
 * and leave nothing running. The server and the worker then start the background work
 * (background-work.ts); nothing else wires adapters.
 */
import type { Logger as PinoLogger } from 'pino';
import { createActionService, type ActionService } from './app/actions.ts';
import { createAgentActionService, type AgentActionService } from './app/agent-actions.ts';
import { agentDraftReset, createAgentService, type AgentService } from './app/agents.ts';
import { createApiKeyService, type ApiKeyService } from './app/api-keys.ts';
import { createIdempotency } from './app/executions/idempotency.ts';
import { ExecutionRecorder } from './app/executions/recorder.ts';
import { createExecutionService, type ExecutionService } from './app/executions/service.ts';
import { createIntegrationService, type IntegrationService } from './app/integrations.ts';
import { createCodeKind, type SandboxSettings } from './app/kinds/code/index.ts';
import { createHoldKind } from './app/kinds/hold/index.ts';
import { createHttpKind } from './app/kinds/http/index.ts';
import { KindRegistry } from './app/kinds/registry.ts';
import { createTransferKind } from './app/kinds/transfer/index.ts';
import { createWorkflowKind } from './app/kinds/workflow/index.ts';
import type { UndecryptableSecret } from './app/master-keys.ts';
import { createToolService, type ToolService } from './app/tools.ts';
import { createOpenApiImportService, type OpenApiImportService } from './app/openapi-import.ts';
import { createOrganizationService, type OrganizationService } from './app/organizations.ts';
import { createPostCallService, type PostCallService } from './app/post-call.ts';
import { createSecretService, type SecretService } from './app/secrets.ts';
import { createVariableOptionsService, type VariableOptionsService } from './app/variable-options.ts';
import { createWorkflowService, type WorkflowService } from './app/workflows/definitions.ts';
import { createRunService, type RunService } from './app/workflows/runs.ts';
import { createRunStarter } from './app/workflows/run-starter.ts';
import { createTriggerService, type TriggerService } from './app/workflows/triggers.ts';
import { createScheduler, type Scheduler } from './app/workflows/scheduler.ts';
import { aiTrigger } from './app/workflows/trigger-kinds/ai.ts';
import { cronTrigger } from './app/workflows/trigger-kinds/cron.ts';
import { webhookTrigger } from './app/workflows/trigger-kinds/webhook.ts';
import type { Config } from './config.ts';
import { isStoreUnavailable } from './adapters/db/errors.ts';
import type { Clock } from './core/ports/clock.ts';
import type { Crypto } from './core/ports/crypto.ts';
import type { Queue } from './core/ports/queue.ts';
import type { RateLimiter } from './core/ports/rate-limiter.ts';
import type { Store } from './core/ports/store.ts';
import type { HttpDeps } from './http/app.ts';
import { openInfrastructure, type Infrastructure, type InfrastructureOptions } from './infrastructure.ts';
import { VERSION } from './version.ts';

export interface Services {
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
}

/** The built application: its use cases, and the ports an entry point or a test reads directly. */
export interface Container {
  readonly config: Readonly<Config>;
  readonly logger: PinoLogger;
  readonly clock: Clock;
  readonly crypto: Crypto;
  readonly store: Store;
  /** Durable background jobs; worked only once background work has started. */
  readonly queue: Queue;
  readonly rateLimiter: RateLimiter;
  readonly kinds: KindRegistry;
  /** Fires cron-trigger workflows: ticked by background work, or by hand (`tick()`). */
  readonly scheduler: Scheduler;
  readonly services: Services;
  readonly defaultOrganizationId: string;
  /** Where the master key was generated at this start, if it was. */
  readonly masterKeyGenerated: string | undefined;
  /** Stored secrets found at start not to decrypt under the right key (reported, not fatal). */
  readonly undecryptableSecrets: readonly UndecryptableSecret[];
  /**
   * Lets the jobs in hand finish (or gives them back), writes the records still buffered, and closes the
   * infrastructure. Stop background work first.
   */
  close(): Promise<void>;
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

interface Wiring {
  services: Services;
  kinds: KindRegistry;
  scheduler: Scheduler;
  recorder: ExecutionRecorder;
}

/** Builds every use case on the infrastructure's ports: wiring only, no I/O, no timers. */
export function buildServices(infrastructure: Infrastructure): Wiring {
  const { config, logger, clock, crypto, store, cipher, http, queue, rateLimiter } = infrastructure;
  const reveal = (organizationId: string, id: string) => secrets.reveal(organizationId, id);
  // starts runs for the workflow kind; the run service that works their steps is built on the engine
  const runStarter = createRunStarter({
    store,
    queue,
    crypto,
    clock,
    logger,
    faults: infrastructure.faults,
    runsPerOrganization: config.workflowRunsPerOrganization,
  });
  const kinds = new KindRegistry({
    http: createHttpKind({
      http,
      clock,
      timeoutMs: config.egressTimeoutMs,
      timeoutCapMs: config.egressTimeoutCapMs,
      recordBodyBytes: config.executionRecordBytes,
    }),
    code: createCodeKind({
      sandbox: infrastructure.sandbox,
      http,
      clock,
      settings: sandboxSettings(config),
      fetchTimeoutMs: config.egressTimeoutMs,
    }),
    transfer: createTransferKind({ clock }),
    hold: createHoldKind({ clock }),
    workflow: createWorkflowKind({ store, runs: runStarter }),
  });
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
  const recorder = new ExecutionRecorder(store, logger, infrastructure.isStoreUnavailable);
  const idempotency = createIdempotency(store, crypto, clock);
  const executions = createExecutionService({
    store,
    crypto,
    clock,
    logger,
    kinds,
    reveal,
    recorder,
    idempotency,
    deadlineMs: Math.max(config.egressTimeoutCapMs, config.sandboxTimeoutCapMs),
    confirmationTtlMs: config.confirmationTtlMs,
    budget: { limiter: rateLimiter, perMinute: config.conversationActionBudget },
  });
  const workflowRuns = createRunService({
    store,
    queue,
    faults: infrastructure.faults,
    crypto,
    clock,
    logger,
    idempotency,
    executions,
    runsPerOrganization: config.workflowRunsPerOrganization,
  });
  const time = infrastructure.scheduleTime;
  const services: Services = {
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
    postCall: createPostCallService({
      store,
      queue,
      clock,
      logger,
      run: (request, attempt, signal) => executions.runPostCall(request, attempt, signal),
    }),
    imports: createOpenApiImportService({
      store,
      http,
      actions,
      reader: infrastructure.openApiReader,
      clock,
    }),
    workflows: createWorkflowService({
      store,
      crypto,
      clock,
      triggerKinds: {
        webhook: webhookTrigger(reveal),
        'ai-trigger': aiTrigger(actions),
        'cron-trigger': cronTrigger(time),
      },
      http,
    }),
    workflowRuns,
    workflowTriggers: createTriggerService({ store, crypto, clock, logger, runs: workflowRuns, reveal }),
  };
  const scheduler = createScheduler({ store, time, crypto, logger, runs: workflowRuns });
  return { services, kinds, scheduler, recorder };
}

/**
 * Builds the services on `infrastructure` and makes sure of what every process needs stored (the default
 * organization, the bootstrap key). The container owns the infrastructure from here: its close() closes
 * it, and so does a failure here.
 */
export async function buildContainer(infrastructure: Infrastructure): Promise<Container> {
  const { config, queue } = infrastructure;
  try {
    const { services, kinds, scheduler, recorder } = buildServices(infrastructure);
    const defaultOrganization = await services.organizations.ensureDefault();
    if (config.adminKey) await services.apiKeys.ensureBootstrapKey(config.adminKey, defaultOrganization.id);
    return {
      config,
      logger: infrastructure.logger,
      clock: infrastructure.clock,
      crypto: infrastructure.crypto,
      store: infrastructure.store,
      queue,
      rateLimiter: infrastructure.rateLimiter,
      kinds,
      scheduler,
      services,
      defaultOrganizationId: defaultOrganization.id,
      masterKeyGenerated: infrastructure.masterKeyGenerated,
      undecryptableSecrets: infrastructure.undecryptableSecrets,
      async close() {
        // the jobs in hand finish (and record) before the buffered records are written
        await queue.stop(Math.floor(config.shutdownTimeoutMs * 0.8));
        await recorder.drain();
        await infrastructure.close();
      },
    };
  } catch (error) {
    await infrastructure.close();
    throw error;
  }
}

/** Opens the infrastructure and builds the container on it: what the CLI and one-off scripts use. */
export async function createContainer(
  config: Readonly<Config>,
  options: InfrastructureOptions = {},
): Promise<Container> {
  return buildContainer(await openInfrastructure(config, options));
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
