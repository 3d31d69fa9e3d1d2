/**
 * The MCP SDK, loaded with the first MCP request: its schemas are a good part of what the server holds in
 * memory, and a server nobody asks for MCP never needs them.
 */
import type * as ServerModule from '@modelcontextprotocol/sdk/server/index.js';
import type * as TransportModule from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type * as MediaTypeModule from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type * as TypesModule from '@modelcontextprotocol/sdk/types.js';
import type * as ValidationModule from '@modelcontextprotocol/sdk/validation/ajv-provider.js';

export interface Sdk {
  server: typeof ServerModule;
  transport: typeof TransportModule;
  types: typeof TypesModule;
  mediaType: typeof MediaTypeModule;
  validation: typeof ValidationModule;
}

let loading: Promise<Sdk> | undefined;

export function loadSdk(): Promise<Sdk> {
  loading ??= Promise.all([
    import('@modelcontextprotocol/sdk/server/index.js'),
    import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
    import('@modelcontextprotocol/sdk/shared/mediaType.js'),
    import('@modelcontextprotocol/sdk/validation/ajv-provider.js'),
  ]).then(([server, transport, types, mediaType, validation]) => ({
    server,
    transport,
    types,
    mediaType,
    validation,
  }));
  return loading;
}

/** JSON-RPC error codes the endpoint answers with (the SDK's ErrorCode values, usable before it loads). */
export const JSON_RPC = {
  InvalidRequest: -32600,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** A JSON-RPC error to answer with, made without the SDK: the SDK's handlers pass it on as its McpError. */
export class ProtocolError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}
