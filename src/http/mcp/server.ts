/**
 * What MCP requests do: `tools/list` serves the caller's tool list (the same one as
 * GET /v1/tools?format=mcp) and `tools/call` runs the named action through the execution engine. A lone
 * tools/call is answered by callTool directly (tool-call.ts); anything else goes through an SDK server
 * built per HTTP request, for one principal, and closed with it.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { CallToolResult, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyBaseLogger } from 'fastify';
import type { ExecutionService } from '../../app/executions/service.ts';
import type { ToolService, ToolTarget } from '../../app/tools.ts';
import { isPlainObject } from '../../core/actions/coerce.ts';
import { STATUS_BY_CODE } from '../../core/errors.ts';
import type { Principal } from '../../core/tenancy.ts';
import { exportTools } from '../../core/tools/export.ts';
import { toProblem, type Problem } from '../plugins/errors.ts';
import { toolsPage } from './pagination.ts';
import { toolError, toolResult } from './results.ts';
import { JSON_RPC, ProtocolError, type Sdk } from './sdk.ts';

export type ToolCatalog = () => ReturnType<ToolService['list']>;

export interface McpServerDeps {
  version: string;
  executions: ExecutionService;
  isUnavailable: (error: unknown) => boolean;
  /** Tools per tools/list page. */
  toolsPageSize: number;
}

export interface McpCaller {
  principal: Principal;
  /** The caller's tools, loaded at most once per request. */
  catalog: ToolCatalog;
  /** The tool of the caller's list with this name, if any. */
  findTool: (name: string) => Promise<ToolTarget | undefined>;
  /** Counts a tools/call against the caller's rate limits; rejects (RATE_LIMITED) past them. */
  admitCall: () => Promise<void>;
  log: FastifyBaseLogger;
  /** Aborted when the client closes the connection before the answer: a tools/call under way stops. */
  signal: AbortSignal;
}

/** A tools/call's params, as the SDK's schema reads them. */
export interface ToolCallParams {
  name: string;
  arguments?: Record<string, unknown> | undefined;
  _meta?: Record<string, unknown> | undefined;
}

const CONVERSATION_ID_MAX = 128;

/** What may cross the wire about an error: a 4xx keeps its message, anything else is logged and hidden. */
function explain(
  deps: McpServerDeps,
  caller: McpCaller,
  error: unknown,
): { problem: Problem; internal: boolean } {
  const problem = toProblem(error, { isUnavailable: deps.isUnavailable });
  const internal = STATUS_BY_CODE[problem.code] >= 500;
  if (internal) caller.log.error({ err: error }, 'MCP request failed');
  return { problem, internal };
}

/** `data` carries the API's error code, and when to retry a rate-limited call. */
function protocolError(deps: McpServerDeps, caller: McpCaller, error: unknown): ProtocolError {
  const { problem, internal } = explain(deps, caller, error);
  const { code, message, retryAfterSeconds } = problem;
  if (internal) return new ProtocolError(JSON_RPC.InternalError, message);
  return new ProtocolError(JSON_RPC.InvalidRequest, message, {
    code,
    ...(retryAfterSeconds === undefined ? {} : { retry_after_seconds: retryAfterSeconds }),
  });
}

/** tools/call: runs the named tool's action and answers its execution; protocol errors throw ProtocolError. */
export async function callTool(
  deps: McpServerDeps,
  caller: McpCaller,
  params: ToolCallParams,
): Promise<CallToolResult> {
  // before anything else, as a separate request would be: past the limit, nothing runs
  try {
    await caller.admitCall();
  } catch (error) {
    throw protocolError(deps, caller, error);
  }
  const { name, arguments: inputs = {}, _meta: meta = {} } = params;
  const { conversationId, context } = readMeta(meta);
  let tool;
  try {
    tool = await caller.findTool(name);
  } catch (error) {
    throw protocolError(deps, caller, error);
  }
  // the spec's convention: an unknown tool is a protocol error, not a tool result
  if (!tool) throw new ProtocolError(JSON_RPC.InvalidParams, `Unknown tool: ${name}`);
  try {
    const record = await deps.executions.execute(caller.principal, tool.actionId, {
      inputs,
      context,
      conversationId,
      idempotencyKey: null,
      // the version the list offered: with an agent, the one its published version froze
      actionVersion: tool.actionVersion,
      signal: caller.signal,
    });
    return toolResult(record);
  } catch (error) {
    // refused before it ran (deactivated meanwhile, rate limited): a tool result the model can read
    const { problem, internal } = explain(deps, caller, error);
    if (internal) throw new ProtocolError(JSON_RPC.InternalError, problem.message);
    return toolError(problem.message);
  }
}

export function createMcpServer(
  sdk: Sdk,
  validator: jsonSchemaValidator,
  deps: McpServerDeps,
  caller: McpCaller,
): Server {
  const { McpError, ListToolsRequestSchema, CallToolRequestSchema } = sdk.types;
  const server = new sdk.server.Server(
    { name: 'switchboard', version: deps.version },
    // one validator for every request: the SDK would otherwise build an Ajv instance per server
    { capabilities: { tools: {} }, jsonSchemaValidator: validator },
  );
  /** Our ProtocolError as the SDK's McpError, which it answers as a JSON-RPC error. */
  const asSdkError = (error: unknown) =>
    error instanceof ProtocolError ? new McpError(error.code, error.message, error.data) : error;

  server.setRequestHandler(ListToolsRequestSchema, async (request): Promise<ListToolsResult> => {
    try {
      let listed: ListToolsResult;
      try {
        listed = exportTools(await caller.catalog(), 'mcp') as ListToolsResult;
      } catch (error) {
        throw protocolError(deps, caller, error);
      }
      return toolsPage(listed.tools, request.params?.cursor, deps.toolsPageSize);
    } catch (error) {
      throw asSdkError(error);
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      return await callTool(deps, caller, request.params);
    } catch (error) {
      throw asSdkError(error);
    }
  });

  return server;
}

/** `_meta.conversation_id` budgets calls per conversation; `_meta.context` carries runtime variables. */
function readMeta(meta: Record<string, unknown>): {
  conversationId: string | undefined;
  context: Record<string, unknown>;
} {
  const { conversation_id: conversationId, context = {} } = meta;
  if (
    conversationId !== undefined &&
    (typeof conversationId !== 'string' ||
      conversationId === '' ||
      conversationId.length > CONVERSATION_ID_MAX)
  ) {
    throw new ProtocolError(
      JSON_RPC.InvalidParams,
      `_meta.conversation_id must be a string of 1 to ${CONVERSATION_ID_MAX} characters`,
    );
  }
  if (!isPlainObject(context)) {
    throw new ProtocolError(JSON_RPC.InvalidParams, '_meta.context must be an object of runtime variables');
  }
  return { conversationId, context };
}
