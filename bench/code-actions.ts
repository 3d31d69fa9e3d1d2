/**
 * The code-action benchmark: code actions against the upstream of the http-action benchmark. A trivial one
 * (the sandbox's own cost end to end), and one that awaits a single `fetch` doing what the http action does
 * (same upstream, same bearer secret, same JSON body), so the two compare directly. They run on a server of
 * their own, configured as the http action's: its sandbox threads stay out of that server's memory and CPU
 * figures.
 */
import type { Target } from './load.ts';
import { ORDER_TOKEN, UPSTREAM_HOST, type Targets } from './http-actions.ts';
import { startSwitchboard } from './processes.ts';

export interface CodeTargets {
  trivial: Target;
  fetch: Target;
}

const TRIVIAL = "return { greeting: 'Hello, ' + inputs.name };";

function fetchSource(upstream: string): string {
  return `
const response = await fetch('${upstream}/orders/' + encodeURIComponent(inputs.order_id) + '?include=tracking', {
  method: 'POST',
  headers: {
    'authorization': 'Bearer ' + secrets.ORDERS_TOKEN,
    'content-type': 'application/json',
    'x-source': 'agent'
  },
  body: JSON.stringify({ id: inputs.order_id, note: 'order ' + inputs.order_id })
});
if (!response.ok) throw new Error('Order lookup failed: ' + response.status);
return await response.json();
`;
}

export async function setUpCodeTargets(
  http: Targets,
  storeEnv: Record<string, string>,
): Promise<CodeTargets> {
  const server = await startSwitchboard({ SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: UPSTREAM_HOST, ...storeEnv });
  // bound to the upstream: the code action that reads it may fetch only there
  const secret = await server.api<{ id: string }>('POST', '/v1/secrets', {
    name: 'ORDERS_TOKEN',
    value: ORDER_TOKEN,
    allowed_hosts: [UPSTREAM_HOST],
  });
  const trivial = await server.api<{ id: string }>('POST', '/v1/actions', {
    name: 'Greet',
    description: 'Greets the caller by name',
    kind: 'code',
    variables: [{ name: 'name', type: 'string', required: true }],
    code: { source: TRIVIAL },
  });
  const fetching = await server.api<{ id: string }>('POST', '/v1/actions', {
    name: 'Lookup order in code',
    description: "Look up an order's status by its number",
    kind: 'code',
    variables: [{ name: 'order_id', type: 'string', required: true, description: 'The order number' }],
    secrets: { ORDERS_TOKEN: secret.id },
    code: { source: fetchSource(http.upstream) },
  });
  const target = (name: string, id: string, inputs: Record<string, string>): Target => ({
    name,
    origin: server.url,
    method: 'POST',
    path: `/v1/actions/${id}/execute`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
    body: JSON.stringify({ inputs }),
    expectStatus: 200,
    expectBody: '"status":"succeeded"',
    pid: server.pid,
  });
  return {
    trivial: target('switchboard code action', trivial.id, { name: 'Ada' }),
    fetch: target('switchboard code + 1 fetch', fetching.id, { order_id: 'ORD-12345' }),
  };
}
