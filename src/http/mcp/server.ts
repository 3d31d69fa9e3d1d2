/**
 * The MCP server one request talks to: `tools/list` serves the caller's tool list (the same one as
 * GET /v1/tools?format=mcp) and `tools/call` runs the named action through the execution engine.
 * Stateless: built per HTTP request, for one principal, and closed with it.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type ListToolsResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { FastifyBaseLogger } from 'fastify';
import type { ExecutionService } from '../../app/executions/service.ts';
import type { ToolService } from '../../app/tools.ts';
import { isPlainObject } from '../../core/actions/coerce.ts';
import { STATUS_BY_CODE } from '../../core/errors.ts';
import type { Principal } from '../../core/tenancy.ts';
import { exportTools } from '../../core/tools/export.ts';
import { toProblem, type Problem } from '../plugins/errors.ts';
import { toolsPage } from './pagination.ts';
import { toolError, toolResult } from './results.ts';

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
  /** Counts a tools/call against the caller's rate limits; rejects (RATE_LIMITED) past them. */
  admitCall: () => Promise<void>;
  log: FastifyBaseLogger;
  /** Aborted when the client closes the connection before the answer: a tools/call under way stops. */
  signal: AbortSignal;
}

const CONVERSATION_ID_MAX = 128;

export function createMcpServer(deps: McpServerDeps, caller: McpCaller): Server {
  const server = new Server({ name: 'switchboard', version: deps.version }, { capabilities: { tools: {} } });

  /** What may cross the wire about an error: a 4xx keeps its message, anything else is logged and hidden. */
  function explain(error: unknown): { problem: Problem; internal: boolean } {
    const problem = toProblem(error, { isUnavailable: deps.isUnavailable });
    const internal = STATUS_BY_CODE[problem.code] >= 500;
    if (internal) caller.log.error({ err: error }, 'MCP request failed');
    return { problem, internal };
  }

  /** `data` carries the API's error code, and when to retry a rate-limited call. */
  function protocolError(error: unknown): McpError {
    const { problem, internal } = explain(error);
    const { code, message, retryAfterSeconds } = problem;
    if (internal) return new McpError(ErrorCode.InternalError, message);
    return new McpError(ErrorCode.InvalidRequest, message, {
      code,
      ...(retryAfterSeconds === undefined ? {} : { retry_after_seconds: retryAfterSeconds }),
    });
  }

  server.setRequestHandler(ListToolsRequestSchema, async (request): Promise<ListToolsResult> => {
    let listed: ListToolsResult;
    try {
      listed = exportTools(await caller.catalog(), 'mcp') as ListToolsResult;
    } catch (error) {
      throw protocolError(error);
    }
    return toolsPage(listed.tools, request.params?.cursor, deps.toolsPageSize);
  });

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    // before anything else, as a separate request would be: past the limit, nothing runs
    try {
      await caller.admitCall();
    } catch (error) {
      throw protocolError(error);
    }
    const { name, arguments: inputs = {}, _meta: meta = {} } = request.params;
    const { conversationId, context } = readMeta(meta);
    let tool;
    try {
      tool = (await caller.catalog()).find((candidate) => candidate.name === name);
    } catch (error) {
      throw protocolError(error);
    }
    // the spec's convention: an unknown tool is a protocol error, not a tool result
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
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
      const { problem, internal } = explain(error);
      if (internal) throw new McpError(ErrorCode.InternalError, problem.message);
      return toolError(problem.message);
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
    throw new McpError(
      ErrorCode.InvalidParams,
      `_meta.conversation_id must be a string of 1 to ${CONVERSATION_ID_MAX} characters`,
    );
  }
  if (!isPlainObject(context)) {
    throw new McpError(ErrorCode.InvalidParams, '_meta.context must be an object of runtime variables');
  }
  return { conversationId, context };
}
