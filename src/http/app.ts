/**
 * The HTTP application: a tree of small plugins over the use cases. Routes parse, call app/, and format;
 * they never touch an adapter.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ActionService } from '../app/actions.ts';
import type { ApiKeyService } from '../app/api-keys.ts';
import type { ExecutionService } from '../app/executions/service.ts';
import type { IntegrationService } from '../app/integrations.ts';
import type { KindRegistry } from '../app/kinds/registry.ts';
import type { AgentActionService } from '../app/agent-actions.ts';
import type { AgentService } from '../app/agents.ts';
import type { WorkflowService } from '../app/workflows/definitions.ts';
import type { RunService } from '../app/workflows/runs.ts';
import type { TriggerService } from '../app/workflows/triggers.ts';
import type { ToolService } from '../app/tools.ts';
import type { OrganizationService } from '../app/organizations.ts';
import type { SecretService } from '../app/secrets.ts';
import type { PostCallService } from '../app/post-call.ts';
import type { OpenApiImportService } from '../app/openapi-import.ts';
import type { VariableOptionsService } from '../app/variable-options.ts';
import type { RateLimiter } from '../core/ports/rate-limiter.ts';
import { langdockRoutes } from './dialects/langdock/routes.ts';
import { opencxRoutes } from './dialects/opencx/routes.ts';
import { opencxWorkflowRoutes } from './dialects/opencx/workflows.ts';
import { talkoverRoutes } from './dialects/talkover/routes.ts';
import { installAuth } from './plugins/auth.ts';
import { installErrorHandling } from './plugins/errors.ts';
import { installJsonBody } from './plugins/json-body.ts';
import { installOpenApi } from './plugins/openapi.ts';
import { installOriginPolicy } from './plugins/origin.ts';
import { requestLogger } from './plugins/request-logger.ts';
import { actionRoutes } from './routes/actions.ts';
import { executionRoutes } from './routes/executions.ts';
import { healthRoutes } from './routes/health.ts';
import { integrationRoutes } from './routes/integrations.ts';
import { conversationRoutes } from './routes/conversations.ts';
import { toolRoutes } from './routes/tools.ts';
import { importRoutes } from './routes/imports.ts';
import { agentRoutes } from './routes/agents.ts';
import { workflowRoutes } from './routes/workflows.ts';
import { workflowRunRoutes } from './routes/workflow-runs.ts';
import { eventRoutes, hookRoutes } from './routes/workflow-triggers.ts';
import { keyRoutes } from './routes/keys.ts';
import { meRoutes } from './routes/me.ts';
import { organizationRoutes } from './routes/organizations.ts';
import { secretRoutes } from './routes/secrets.ts';
import { variableOptionRoutes } from './routes/variable-options.ts';
import { mcpRoutes } from './mcp/route.ts';
import { installValidation } from './validation.ts';
import './types.ts';

export interface HttpDeps {
  version: string;
  logger: FastifyBaseLogger;
  /** Whether to log a line per request (the logger's level admits info). */
  logRequests: boolean;
  services: {
    organizations: OrganizationService;
    apiKeys: ApiKeyService;
    secrets: SecretService;
    integrations: IntegrationService;
    actions: ActionService;
    executions: ExecutionService;
    variableOptions: VariableOptionsService;
    agents: AgentService;
    agentActions: AgentActionService;
    tools: ToolService;
    postCall: PostCallService;
    imports: OpenApiImportService;
    workflows: WorkflowService;
    workflowRuns: RunService;
    workflowTriggers: TriggerService;
  };
  kinds: KindRegistry;
  rateLimiter: RateLimiter;
  ping: () => Promise<void>;
  isUnavailable: (error: unknown) => boolean;
  settings: {
    bodyLimitBytes: number;
    rateLimitPerKey: number;
    rateLimitPerOrganization: number;
    authFailureLimit: number;
    mcpToolsPageSize: number;
    mcpBatchLimit: number;
    authFailureIpv6Prefix: number;
    trustedProxies: readonly string[];
    allowedOrigins: readonly string[];
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

type Serialize = (payload: unknown) => string;
type SerializerCompiler = (route: { schema?: unknown }) => Serialize;
type SerializerFactory = (externalSchemas: unknown, options: unknown) => SerializerCompiler;

/**
 * Fastify's own response serializer compiler (the one it uses when given none), compiled per route on
 * first use instead of for every route at start: most routes are never called in a given process's
 * life, and their compiled serializers would only take memory and start-up time.
 */
function serializersOnUse(): SerializerFactory {
  const fastifys = createRequire(import.meta.resolve('fastify'));
  const factory = (
    fastifys('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => SerializerFactory }
  ).SerializerSelector();
  return (externalSchemas, options) => {
    const compile = factory(externalSchemas, options);
    return (route) => {
      let serialize: Serialize | undefined;
      return (payload) => (serialize ??= compile(route))(payload);
    };
  };
}
const ErrorRef = { $ref: 'ErrorResponse#' };

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const { settings, services } = deps;
  const app = Fastify({
    loggerInstance: deps.logger,
    // one line per request, written by the onResponse hook below, without the query string
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    childLoggerFactory: requestLogger,
    schemaController: { compilersFactory: { buildSerializer: serializersOnUse() } },
    bodyLimit: settings.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: settings.trustedProxies.length > 0 ? [...settings.trustedProxies] : false,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 256 },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestTimeout: 120_000,
    connectionTimeout: 0,
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidation(app);
  installErrorHandling(app, { isUnavailable: deps.isUnavailable });
  installJsonBody(app, settings.bodyLimitBytes);
  await installOriginPolicy(app, settings.allowedOrigins);

  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    route.schema.response ??= {};
    const response = route.schema.response as Record<string, unknown>;
    response['4xx'] ??= ErrorRef;
    response['5xx'] ??= ErrorRef;
  });
  // Once shutdown begins, every response closes its connection: a keep-alive client that had a request
  // in flight would otherwise hold the server open until the shutdown timeout.
  // Hooks that do no I/O use the callback form: an async hook costs a promise per request.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    // decided when the answer leaves, so a request already in flight at SIGTERM closes its connection too
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  if (deps.logRequests) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request',
      );
      done();
    });
  }

  await installOpenApi(app, { version: deps.version });
  installAuth(app, {
    apiKeys: services.apiKeys,
    rateLimiter: deps.rateLimiter,
    limits: {
      perKey: settings.rateLimitPerKey,
      perOrganization: settings.rateLimitPerOrganization,
      authFailures: settings.authFailureLimit,
      authFailureIpv6Prefix: settings.authFailureIpv6Prefix,
    },
  });

  await app.register(healthRoutes, { ping: deps.ping });
  await app.register(
    async (v1) => {
      await v1.register(meRoutes);
      await v1.register(organizationRoutes, {
        organizations: services.organizations,
        apiKeys: services.apiKeys,
      });
      await v1.register(keyRoutes, { apiKeys: services.apiKeys });
      await v1.register(secretRoutes, { secrets: services.secrets });
      await v1.register(integrationRoutes, { integrations: services.integrations });
      await v1.register(actionRoutes, { actions: services.actions, kinds: deps.kinds });
      await v1.register(executionRoutes, { executions: services.executions, agents: services.agents });
      await v1.register(variableOptionRoutes, { variableOptions: services.variableOptions });
      await v1.register(toolRoutes, { tools: services.tools });
      await v1.register(agentRoutes, { agents: services.agents });
      await v1.register(conversationRoutes, { postCall: services.postCall });
      await v1.register(importRoutes, { imports: services.imports });
      await v1.register(workflowRoutes, { workflows: services.workflows });
      await v1.register(workflowRunRoutes, { runs: services.workflowRuns });
      await v1.register(eventRoutes, { triggers: services.workflowTriggers });
      await v1.register(hookRoutes, {
        triggers: services.workflowTriggers,
        rateLimiter: deps.rateLimiter,
        perTokenPerMinute: settings.rateLimitPerKey,
        perOrganizationPerMinute: settings.rateLimitPerOrganization,
      });
    },
    { prefix: '/v1' },
  );
  await app.register(mcpRoutes, {
    version: deps.version,
    tools: services.tools,
    executions: services.executions,
    isUnavailable: deps.isUnavailable,
    rateLimiter: deps.rateLimiter,
    limits: { perKey: settings.rateLimitPerKey, perOrganization: settings.rateLimitPerOrganization },
    toolsPageSize: settings.mcpToolsPageSize,
    batchLimit: settings.mcpBatchLimit,
  });
  // vendor dialects: their own paths and error shapes, over the same use cases
  await app.register(langdockRoutes, {
    prefix: '/integrations/v1',
    actions: services.actions,
    integrations: services.integrations,
    isUnavailable: deps.isUnavailable,
  });
  await app.register(opencxRoutes, {
    prefix: '/actions',
    actions: services.actions,
    isUnavailable: deps.isUnavailable,
  });
  await app.register(opencxWorkflowRoutes, {
    prefix: '/workflows',
    workflows: services.workflows,
    isUnavailable: deps.isUnavailable,
  });
  await app.register(talkoverRoutes, {
    prefix: '/api/v1/agents',
    agents: services.agents,
    agentActions: services.agentActions,
    integrations: services.integrations,
    isUnavailable: deps.isUnavailable,
  });
  await app.ready();
  return app;
}
