/**
 * The common MCP request, a single `tools/call`, answered without building an SDK server and transport
 * for it. The transport's checks (Accept, Content-Type, protocol version) and the message's shape are
 * checked here as the SDK checks them; whatever they would not take plainly (a batch, a notification,
 * another method, an extra field, a progress token or task metadata) goes through the SDK instead, which
 * answers it as it always has. The answer is the JSON-RPC response the SDK would write, field for field.
 */
import type { FastifyRequest } from 'fastify';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isPlainObject } from '../../core/actions/coerce.ts';
import { JSON_RPC, ProtocolError, type Sdk } from './sdk.ts';
import type { ToolCallParams } from './server.ts';

export interface PlainToolCall {
  id: string | number;
  params: ToolCallParams;
}

const MESSAGE_KEYS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAM_KEYS: ReadonlySet<string> = new Set(['name', 'arguments', '_meta']);

const onlyKeys = (value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean =>
  Object.keys(value).every((key) => allowed.has(key));

/** The last Content-Type judged, and the verdict: clients send the same one on every call. */
let judged: { contentType: string | undefined; json: boolean } | undefined;

/** The headers the transport would accept as they are. */
function transportAccepts(sdk: Sdk, headers: FastifyRequest['headers']): boolean {
  const { accept, 'content-type': contentType, 'mcp-protocol-version': version } = headers;
  if (
    typeof accept !== 'string' ||
    !accept.includes('application/json') ||
    !accept.includes('text/event-stream')
  )
    return false;
  if (judged?.contentType !== contentType)
    judged = { contentType, json: sdk.mediaType.isJsonContentType(contentType) };
  if (!judged?.json) return false;
  if (version === undefined) return true;
  return typeof version === 'string' && sdk.types.SUPPORTED_PROTOCOL_VERSIONS.includes(version);
}

/** The body as a plain tools/call, or undefined when the SDK should see it. */
export function plainToolCall(
  sdk: Sdk,
  headers: FastifyRequest['headers'],
  body: unknown,
): PlainToolCall | undefined {
  if (!isPlainObject(body) || !onlyKeys(body, MESSAGE_KEYS)) return undefined;
  const { jsonrpc, id, method, params } = body;
  if (jsonrpc !== '2.0' || method !== 'tools/call') return undefined;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return undefined;
  if (!isPlainObject(params) || !onlyKeys(params, PARAM_KEYS)) return undefined;
  const { name, arguments: inputs, _meta: meta } = params;
  if (typeof name !== 'string') return undefined;
  if (inputs !== undefined && !isPlainObject(inputs)) return undefined;
  if (meta !== undefined) {
    if (!isPlainObject(meta) || meta.progressToken !== undefined) return undefined;
    if (sdk.types.RELATED_TASK_META_KEY in meta) return undefined;
  }
  if (!transportAccepts(sdk, headers)) return undefined;
  return { id: id as string | number, params: { name, arguments: inputs, _meta: meta } };
}

/** The JSON-RPC response to `call`, as text: its result, or the error the SDK would make of what was thrown. */
export async function answerToolCall(
  sdk: Sdk,
  call: PlainToolCall,
  run: (params: ToolCallParams) => Promise<CallToolResult>,
): Promise<string> {
  try {
    const result = await run(call.params);
    return JSON.stringify({ result, jsonrpc: '2.0', id: call.id });
  } catch (thrown) {
    const error =
      thrown instanceof ProtocolError
        ? new sdk.types.McpError(thrown.code, thrown.message, thrown.data)
        : thrown;
    const { code, message, data } = error as { code?: unknown; message?: string; data?: unknown };
    return JSON.stringify({
      jsonrpc: '2.0',
      id: call.id,
      error: {
        code: Number.isSafeInteger(code) ? code : JSON_RPC.InternalError,
        message: message ?? 'Internal error',
        ...(data !== undefined && { data }),
      },
    });
  }
}
