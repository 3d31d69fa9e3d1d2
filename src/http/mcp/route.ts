/**
 * `/mcp`: the Model Context Protocol over Streamable HTTP, stateless. A lone tools/call is answered
 * directly (tool-call.ts); any other POST gets its own SDK server and transport for the authenticated
 * caller. Either way the answer is JSON, not SSE, and goes back through Fastify (request id, logging,
 * error shape and the shutdown hooks all apply). With no session and no server-initiated messages there
 * is no stream to open or session to end: GET and DELETE are 405, as the transport spec allows.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { ToolService } from '../../app/tools.ts';
import { CHANNELS } from '../../core/actions/model.ts';
import { AppError } from '../../core/errors.ts';
import type { RateLimiter } from '../../core/ports/rate-limiter.ts';
import { hasScope } from '../../core/scopes.ts';
import { clientGone } from '../client-gone.ts';
import { countRequest, principalOf, type RequestLimits } from '../plugins/auth.ts';
import { JSON_RPC, loadSdk } from './sdk.ts';
import { callTool, createMcpServer, type McpCaller, type McpServerDeps, type ToolCatalog } from './server.ts';
import { answerToolCall, plainToolCall } from './tool-call.ts';

export interface McpRouteOptions extends McpServerDeps {
  tools: ToolService;
  rateLimiter: RateLimiter;
  limits: RequestLimits;
  /** Most messages one JSON-RPC batch may hold. */
  batchLimit: number;
}

/** The headers the transport reads; the API key and everything else stay out of the SDK's hands. */
const TRANSPORT_HEADERS = ['accept', 'content-type', 'mcp-protocol-version', 'mcp-session-id'];

const McpQuery = Type.Object({
  agent_id: Type.Optional(
    Type.String({
      maxLength: 64,
      description:
        "Serve this agent's published action set instead of all the organization's active actions " +
        '(404 if there is no such agent, 409 if it was never published)',
    }),
  ),
  channel: Type.Optional(Type.Enum(CHANNELS, { description: 'Only the actions offered on this channel' })),
});

/** What /openapi.json says of POST /mcp, with this server's page size and batch limit. */
const mcpDescription = ({ toolsPageSize, batchLimit }: McpRouteOptions) =>
  'The Model Context Protocol endpoint (Streamable HTTP transport, stateless, JSON responses). Point an MCP ' +
  'client at this URL with `Authorization: Bearer <API key>`. `tools/list` lists the active actions as tools ' +
  '(the same list as GET /v1/tools?format=mcp); `tools/call` executes the named action and records the ' +
  'execution. A failed execution is a tool result with `isError: true` and a message the model can act on; ' +
  '`_meta["switchboard/execution_id"]` names the record. `_meta.conversation_id` and `_meta.context` on a ' +
  'call work as `conversation_id` and `context` on POST /v1/actions/{id}/execute.\n\n' +
  `\`tools/list\` answers in pages of ${toolsPageSize} tools: pass a page's \`nextCursor\` ` +
  'as `cursor` for the next one; a cursor this server did not hand out is invalid params (-32602). A JSON-RPC ' +
  `batch holds at most ${batchLimit} messages (more is a 400 with error -32600), ` +
  "and each `tools/call` in it counts against the API key's and the organization's rate limits as a request " +
  'of its own: a call past them is refused alone (error -32600, `data.code` RATE_LIMITED, ' +
  '`data.retry_after_seconds`) while the others run. A 401 carries `WWW-Authenticate: Bearer` with ' +
  '`error="invalid_token"` and the reason.\n\n' +
  'Scope: `actions:execute` and `actions:read`';

const MethodNotAllowed = () =>
  new AppError(
    'METHOD_NOT_ALLOWED',
    'This MCP endpoint is stateless: it opens no event stream and keeps no session; send JSON-RPC messages with POST',
  );

/** A JSON-RPC error for the whole request, shaped as the transport shapes its own. */
const jsonRpcError = (code: number, message: string) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id: null,
});

export const mcpRoutes: FastifyPluginAsyncTypebox<McpRouteOptions> = async (app, options) => {
  const { tools, rateLimiter, limits, batchLimit } = options;
  let validator: jsonSchemaValidator | undefined;

  app.post(
    '/mcp',
    {
      config: { scope: 'actions:execute' },
      schema: {
        operationId: 'sendMcpMessage',
        tags: ['mcp'],
        summary: 'Model Context Protocol (tools/list, tools/call)',
        description: mcpDescription(options),
        querystring: McpQuery,
        body: Type.Unknown({ description: 'A JSON-RPC 2.0 message, or a batch of them' }),
        response: {
          200: Type.Unknown({ description: 'The JSON-RPC response' }),
          202: Type.Null({ description: 'Accepted: the body held only notifications or responses' }),
          '4xx': Type.Unknown({
            description:
              'The error shape of the API (authentication, scopes, rate limits, the agent), or a JSON-RPC error ' +
              'from the transport (406 without both JSON and event-stream in Accept, 415 for a body that is not JSON)',
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      // listing tools is reading actions (GET /v1/tools needs actions:read), and every client lists first
      if (!hasScope(principal.scopes, 'actions:read')) {
        throw new AppError('INSUFFICIENT_SCOPE', 'This API key lacks the "actions:read" scope MCP needs', {
          details: { required_scope: 'actions:read' },
        });
      }
      if (Array.isArray(request.body) && request.body.length > batchLimit) {
        return reply
          .code(400)
          .send(
            jsonRpcError(
              JSON_RPC.InvalidRequest,
              `Invalid Request: a batch may hold at most ${batchLimit} messages and this one holds ${request.body.length}; send them in smaller batches`,
            ),
          );
      }
      // The auth hook counted this request once, which pays for its first tools/call. Each further call
      // in a batch counts as a request of its own, and is refused on its own past the limit, as it would
      // be if sent separately: N calls cost N whether batched or not.
      let calls = 0;
      const admitCall = async () => {
        calls += 1;
        if (calls > 1) await countRequest(rateLimiter, principal, limits);
      };
      const { agent_id: agentId, channel } = request.query;
      let loaded: ReturnType<ToolCatalog> | undefined;
      const catalog: ToolCatalog = () =>
        (loaded ??= tools.list(principal.organizationId, { agentId, channel }));
      // a wrong agent is the URL's mistake: answered as on /v1/tools, before any JSON-RPC
      if (agentId !== undefined) await catalog();
      const caller: McpCaller = {
        principal,
        catalog,
        // with an agent the list is already loaded (above); without one, only the named tool is read
        findTool: async (name) =>
          agentId === undefined
            ? tools.find(principal.organizationId, name, { channel })
            : (await catalog()).find((tool) => tool.name === name),
        admitCall,
        log: request.log,
        signal: clientGone(reply),
      };

      const sdk = await loadSdk();
      const call = plainToolCall(sdk, request.headers, request.body);
      if (call) {
        const answer = await answerToolCall(sdk, call, (params) => callTool(options, caller, params));
        return reply.code(200).header('content-type', 'application/json').send(answer);
      }
      validator ??= new sdk.validation.AjvJsonSchemaValidator();
      const server = createMcpServer(sdk, validator, options, caller);
      const transport = new sdk.transport.WebStandardStreamableHTTPServerTransport({
        enableJsonResponse: true,
      });
      try {
        await server.connect(transport);
        const response = await transport.handleRequest(webRequest(request), { parsedBody: request.body });
        reply.code(response.status);
        for (const [name, value] of response.headers) reply.header(name, value);
        return reply.send(await response.text());
      } finally {
        await server.close();
      }
    },
  );

  /** GET would open a server-to-client stream and DELETE would end a session: neither exists here. */
  const notOffered = (method: 'GET' | 'DELETE', operationId: string, what: string) =>
    app.route({
      method,
      url: '/mcp',
      exposeHeadRoute: false,
      config: { scope: 'actions:execute' },
      schema: {
        operationId,
        tags: ['mcp'],
        summary: `Not offered by this stateless endpoint (405): ${what}`,
        description: `There is no ${what}; the answer is 405 with \`Allow: POST\`.`,
      },
      handler: async (_request, reply) => {
        reply.header('allow', 'POST');
        throw MethodNotAllowed();
      },
    });
  notOffered('GET', 'openMcpStream', 'server-to-client event stream');
  notOffered('DELETE', 'endMcpSession', 'session to end');
};

function webRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const name of TRANSPORT_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  // the transport reads the URL only to describe the request to handlers; the host is not trusted
  return new Request(new URL(request.url, 'http://switchboard.invalid'), { method: request.method, headers });
}
