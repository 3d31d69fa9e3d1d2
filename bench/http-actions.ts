/**
 * The http-action benchmark: the floor (straight to the upstream), a bare node:http proxy, and an http action
 * executed through Switchboard (templating, bearer auth from a secret, SSRF guard, execution recorded), both
 * through POST /v1/actions/{id}/execute and as an MCP `tools/call` of the same action.
 */
import type { Target } from './load.ts';
import { startScript, startSwitchboard, type SwitchboardProcess } from './processes.ts';

export const UPSTREAM_HOST = '127.0.0.2';

export interface Targets {
  floor: Target;
  proxy: Target;
  switchboard: Target;
  /** The same action called as an MCP tool: one stateless POST /mcp per call, as MCP clients send it. */
  mcp: Target;
  /** The server and upstream behind them, for other benchmarks of the same run. */
  server: SwitchboardProcess;
  upstream: string;
  secretId: string;
}

/** The order body both the http action and the fetching code action send. */
export const ORDER_TOKEN = 'bench-orders-token-0123456789abcdef';

/** What the http action sends, made by hand: the floor's request, and each step of the workflow floor. */
export const ORDER_REQUEST = {
  method: 'POST' as const,
  path: '/orders/ORD-12345?include=tracking',
  headers: {
    'content-type': 'application/json',
    authorization: `Bearer ${ORDER_TOKEN}`,
    'x-source': 'agent',
  },
  body: JSON.stringify({ id: 'ORD-12345', note: 'order ORD-12345' }),
  expectStatus: 200,
};

/** The ORDERS_TOKEN secret and the "Lookup order" http action that sends ORDER_REQUEST to the upstream. */
export async function createOrderLookup(
  server: SwitchboardProcess,
  upstream: string,
): Promise<{ secretId: string; actionId: string; toolName: string }> {
  // bound to the upstream: the code action that reads it may fetch only there
  const secret = await server.api<{ id: string }>('POST', '/v1/secrets', {
    name: 'ORDERS_TOKEN',
    value: ORDER_TOKEN,
    allowed_hosts: [new URL(upstream).hostname],
  });
  const action = await server.api<{ id: string; tool_name: string }>('POST', '/v1/actions', {
    name: 'Lookup order',
    description: "Look up an order's status by its number",
    kind: 'http',
    variables: [{ name: 'order_id', type: 'string', required: true, description: 'The order number' }],
    http: {
      method: 'POST',
      url: `${upstream}/orders/{{order_id}}`,
      query: { include: 'tracking' },
      headers: { 'X-Source': 'agent' },
      body: { id: '{{order_id}}', note: 'order {{order_id}}' },
      auth: { type: 'bearer', secret_id: secret.id },
    },
  });
  return { secretId: secret.id, actionId: action.id, toolName: action.tool_name };
}

export async function setUpHttpTargets(storeEnv: Record<string, string>): Promise<Targets> {
  const upstreamProcess = await startScript('bench/upstream.ts', [UPSTREAM_HOST]);
  const proxy = await startScript('bench/bare-proxy.ts', [UPSTREAM_HOST, String(upstreamProcess.port)]);
  const upstream = `http://${UPSTREAM_HOST}:${upstreamProcess.port}`;
  const switchboard = await startSwitchboard({
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: UPSTREAM_HOST,
    ...storeEnv,
  });

  const { secretId, actionId, toolName } = await createOrderLookup(switchboard, upstream);

  return {
    floor: {
      name: 'upstream directly (floor)',
      origin: upstream,
      pid: upstreamProcess.pid,
      ...ORDER_REQUEST,
    },
    proxy: {
      name: 'bare node:http proxy',
      origin: `http://127.0.0.1:${proxy.port}`,
      pid: proxy.pid,
      ...ORDER_REQUEST,
    },
    switchboard: {
      name: 'switchboard http action',
      origin: switchboard.url,
      method: 'POST',
      path: `/v1/actions/${actionId}/execute`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${switchboard.key}` },
      body: JSON.stringify({ inputs: { order_id: 'ORD-12345' } }),
      expectStatus: 200,
      expectBody: '"status":"succeeded"',
      pid: switchboard.pid,
    },
    mcp: {
      name: 'switchboard MCP tools/call',
      origin: switchboard.url,
      method: 'POST',
      path: '/mcp',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${switchboard.key}`,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: toolName, arguments: { order_id: 'ORD-12345' } },
      }),
      expectStatus: 200,
      expectBody: '"switchboard/status":"succeeded"',
      pid: switchboard.pid,
    },
    server: switchboard,
    upstream,
    secretId,
  };
}
