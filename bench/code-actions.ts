/**
 * Issue 4's benchmark: code actions on the server and upstream of the http-action benchmark. A trivial
 * one (the sandbox's own cost end to end), and one that awaits a single `fetch` doing what the http
 * action does (same upstream, same bearer secret, same JSON body), so the two compare directly.
 */
import type { Target } from './load.ts';
import type { Targets } from './http-actions.ts';

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

export async function setUpCodeTargets(http: Targets): Promise<CodeTargets> {
  const { server } = http;
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
    secrets: { ORDERS_TOKEN: http.secretId },
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
