/**
 * The MCP endpoint on both stores, through the SDK's own client over a real HTTP server: tools/list as
 * the tool list, tools/call through the execution engine against a loopback upstream, failures as tool
 * results, and the endpoint's guards (API keys, scopes, organizations, browser origins; docs/security.md
 * D04, D05).
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const ALLOWED_ORIGIN = 'https://console.example';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

describe.each(STORE_KINDS)('MCP endpoint on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let base: string;
  let mcpKey: string;
  const clients: Client[] = [];

  const unique = (name: string) => `${name} ${randomBytes(3).toString('hex')}`;

  async function action(body: Record<string, unknown>, key?: string) {
    const response = await t.request('POST', '/v1/actions', { body, key });
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body as { id: string; tool_name: string };
  }

  /** An http action: `POST {upstream}{path}` with an order_id that goes into the query. */
  const httpAction = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
    name: unique(name),
    description: `${name}: looks an order up`,
    kind: 'http',
    variables: [{ name: 'order_id', type: 'string', required: true, description: 'The order number' }],
    http: { method: 'POST', url: `${upstream.url}${path}?order_id={{order_id}}` },
    ...extra,
  });

  async function connect(key: string, options: { query?: string; headers?: Record<string, string> } = {}) {
    const client = new Client({ name: 'switchboard-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp${options.query ?? ''}`), {
      requestInit: { headers: { authorization: `Bearer ${key}`, ...options.headers } },
    });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  /** A raw POST, to see the HTTP answers an SDK client turns into exceptions. */
  async function post(headers: Record<string, string>, query = '', body: unknown = INITIALIZE) {
    const response = await fetch(`${base}/mcp${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  async function keyWith(scopes: string[]): Promise<string> {
    const response = await t.request('POST', '/v1/keys', { body: { name: 'mcp', scopes } });
    return response.body.key as string;
  }

  let lookup: { id: string; tool_name: string };
  let broken: { id: string; tool_name: string };
  let inactive: { id: string; tool_name: string };
  let voiceOnly: { id: string; tool_name: string };

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    mcpKey = await keyWith(['actions:read', 'actions:execute']);
    lookup = await action(httpAction('Lookup order', '/json'));
    broken = await action(httpAction('Broken lookup', '/status/500'));
    inactive = await action(httpAction('Retired lookup', '/json', { status: 'inactive' }));
    voiceOnly = await action(httpAction('Voice lookup', '/json', { channels: ['phone_voice'] }));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('initializes and lists the active actions as tools with their input schemas', async () => {
    const client = await connect(mcpKey);
    expect(client.getServerCapabilities()?.tools).toBeDefined();
    expect(client.getServerVersion()?.name).toBe('switchboard');
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining([lookup.tool_name, broken.tool_name]));
    expect(names).not.toContain(inactive.tool_name);
    const listed = tools.find((tool) => tool.name === lookup.tool_name)!;
    expect(listed.description).toMatch(/looks an order up/);
    expect(listed.inputSchema).toMatchObject({
      type: 'object',
      properties: { order_id: { type: 'string', description: 'The order number' } },
      required: ['order_id'],
      additionalProperties: false,
    });
    // the same list as the REST tool endpoint
    const rest = await t.request('GET', '/v1/tools?format=mcp', { key: mcpKey });
    expect(tools).toEqual(rest.body.tools);
  });

  it('filters the tools by channel', async () => {
    const voice = await connect(mcpKey, { query: '?channel=phone_voice' });
    const names = (await voice.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain(voiceOnly.tool_name);
    expect(names).not.toContain(lookup.tool_name);
    const web = await connect(mcpKey, { query: '?channel=web' });
    expect((await web.listTools()).tools.map((tool) => tool.name)).not.toContain(voiceOnly.tool_name);
  });

  it('calls a tool: the action runs upstream and its output comes back as text and structured content', async () => {
    const client = await connect(mcpKey);
    const result = await client.callTool({
      name: lookup.tool_name,
      arguments: { order_id: 'A-42' },
      _meta: { conversation_id: 'conv-1', context: { timezone: 'Europe/Berlin' } },
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ order_id: 'A-42' });
    expect(result.content).toEqual([{ type: 'text', text: '{"order_id":"A-42"}' }]);
    expect(upstream.requests.at(-1)?.path).toBe('/json?order_id=A-42');
    // the token is never passed through to the upstream (D04)
    expect(upstream.requests.at(-1)?.headers.authorization).toBeUndefined();

    const executionId = result._meta?.['switchboard/execution_id'] as string;
    const record = await t.request('GET', `/v1/executions/${executionId}`);
    expect(record.body).toMatchObject({
      action_id: lookup.id,
      status: 'succeeded',
      inputs: { order_id: 'A-42' },
      context: { timezone: 'Europe/Berlin' },
    });
  });

  it.each([
    ['an upstream 500', () => broken.tool_name, { order_id: 'A-1' }, 'upstream_error', /./],
    ['invalid input', () => lookup.tool_name, {}, 'invalid_input', /order_id/],
  ])(
    'answers %s with an isError tool result, not a protocol error',
    async (_case, tool, args, category, message) => {
      const client = await connect(mcpKey);
      const result = await client.callTool({ name: tool(), arguments: args });
      expect(result.isError).toBe(true);
      const content = result.content as { type: string; text: string }[];
      expect(content[0]?.type).toBe('text');
      expect(content[0]?.text).toMatch(message);
      expect(result._meta).toMatchObject({
        'switchboard/status': 'failed',
        'switchboard/error_category': category,
        'switchboard/execution_id': expect.any(String),
      });
      const executionId = result._meta?.['switchboard/execution_id'] as string;
      const record = await t.request('GET', `/v1/executions/${executionId}`);
      expect(record.body.error.category).toBe(category);
    },
  );

  it('answers an action that requires confirmation with a non-error result naming the execution', async () => {
    const cancel = await action(
      httpAction('Cancel order', '/json', { requires_confirmation: true, description: 'Cancels an order' }),
    );
    const client = await connect(mcpKey);
    const listed = (await client.listTools()).tools.find((tool) => tool.name === cancel.tool_name);
    expect(listed?.description).toMatch(/confirmation/);
    const sentBefore = upstream.requests.length;
    const result = await client.callTool({ name: cancel.tool_name, arguments: { order_id: 'C-9' } });
    expect(result.isError).toBeFalsy();
    const executionId = result._meta?.['switchboard/execution_id'] as string;
    expect(result._meta).toMatchObject({ 'switchboard/status': 'awaiting_confirmation' });
    const text = (result.content as { text: string }[])[0]?.text ?? '';
    expect(text).toMatch(/confirm/);
    expect(text).toContain(executionId);
    expect(result.structuredContent).toMatchObject({
      status: 'awaiting_confirmation',
      execution_id: executionId,
      request: { method: 'POST', url: `${upstream.url}/json?order_id=C-9` },
    });
    expect(upstream.requests.length).toBe(sentBefore);

    const confirmed = await t.request('POST', `/v1/executions/${executionId}/confirm`, { key: mcpKey });
    expect(confirmed.body).toMatchObject({ id: executionId, status: 'succeeded' });
    expect(upstream.requests.length).toBe(sentBefore + 1);
  });

  it('answers an unknown or inactive tool with the protocol error for unknown tools', async () => {
    const client = await connect(mcpKey);
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('Unknown tool: no_such_tool'),
    });
    await expect(client.callTool({ name: inactive.tool_name, arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('refuses a malformed _meta.conversation_id as invalid params', async () => {
    const client = await connect(mcpKey);
    await expect(
      client.callTool({
        name: lookup.tool_name,
        arguments: { order_id: 'A' },
        _meta: { conversation_id: 7 },
      }),
    ).rejects.toMatchObject({ code: -32602 });
  });

  it.each([
    ['a result', () => ({ name: lookup.tool_name, arguments: { order_id: 'S-1' } })],
    ['an isError result', () => ({ name: broken.tool_name, arguments: { order_id: 'S-2' } })],
    ['an unknown tool', () => ({ name: 'no_such_tool', arguments: {} })],
    ['a malformed _meta', () => ({ name: lookup.tool_name, arguments: {}, _meta: { context: 'no' } })],
  ])(
    'answers a lone tools/call with %s as the SDK answers the same call in a batch',
    async (_case, params) => {
      const call = { jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: params() };
      const headers = { authorization: `Bearer ${mcpKey}`, 'mcp-protocol-version': '2025-06-18' };
      const alone = await post(headers, '', call);
      const batched = await post(headers, '', [call]);
      expect(alone.status).toBe(200);
      expect(alone.headers.get('content-type')).toBe(batched.headers.get('content-type'));
      // each run is its own execution; a batch of one is answered with the one response, not a list
      const sameId = (body: any) => {
        const meta = body.result?._meta;
        if (meta?.['switchboard/execution_id']) meta['switchboard/execution_id'] = 'an execution';
        return body;
      };
      expect(JSON.stringify(sameId(alone.body))).toBe(JSON.stringify(sameId(batched.body)));
    },
  );

  it("serves an agent's published action set, and refuses an agent that was never published", async () => {
    const created = await t.request('POST', '/v1/agents', {
      body: { name: unique('Support'), action_ids: [lookup.id] },
    });
    const agentId = created.body.id as string;
    const unpublished = await post({ authorization: `Bearer ${mcpKey}` }, `?agent_id=${agentId}`);
    expect(unpublished.status).toBe(409);
    expect(unpublished.body.error.message).toMatch(/publish it first/);
    const missing = await post(
      { authorization: `Bearer ${mcpKey}` },
      '?agent_id=0190a1b2-0000-7000-8000-000000000000',
    );
    expect(missing.status).toBe(404);

    expect((await t.request('POST', `/v1/agents/${agentId}/publish`)).status).toBe(200);
    const client = await connect(mcpKey, { query: `?agent_id=${agentId}` });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([lookup.tool_name]);
    await expect(client.callTool({ name: broken.tool_name, arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
    const result = await client.callTool({ name: lookup.tool_name, arguments: { order_id: 'B-7' } });
    expect(result.structuredContent).toEqual({ order_id: 'B-7' });
  });

  it('runs the action version an agent froze, until the agent is published again', async () => {
    const frozen = await action(httpAction(unique('Frozen lookup'), '/json'));
    const agent = await t.request('POST', '/v1/agents', {
      body: { name: unique('Frozen'), action_ids: [frozen.id] },
    });
    const agentId = agent.body.id as string;
    expect((await t.request('POST', `/v1/agents/${agentId}/publish`)).status).toBe(200);
    const changed = await t.request('PATCH', `/v1/actions/${frozen.id}`, {
      body: { http: { method: 'POST', url: `${upstream.url}/json?order_id={{order_id}}&changed=yes` } },
    });
    expect(changed.status).toBe(200);

    const viaAgent = await connect(mcpKey, { query: `?agent_id=${agentId}` });
    const old = await viaAgent.callTool({ name: frozen.tool_name, arguments: { order_id: 'C-1' } });
    expect(old.structuredContent).toEqual({ order_id: 'C-1' });
    const current = await (
      await connect(mcpKey)
    ).callTool({
      name: frozen.tool_name,
      arguments: { order_id: 'C-2' },
    });
    expect(current.structuredContent).toEqual({ order_id: 'C-2', changed: 'yes' });

    expect((await t.request('POST', `/v1/agents/${agentId}/publish`)).status).toBe(200);
    const republished = await connect(mcpKey, { query: `?agent_id=${agentId}` });
    const now = await republished.callTool({ name: frozen.tool_name, arguments: { order_id: 'C-3' } });
    expect(now.structuredContent).toEqual({ order_id: 'C-3', changed: 'yes' });
  });

  it('shows another organization only its own tools, and none of ours to call', async () => {
    const tenant = await t.newTenant(['actions:read', 'actions:execute', 'actions:write']);
    const theirs = await action(httpAction('Their lookup', '/json'), tenant.key);
    const client = await connect(tenant.key);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual([theirs.tool_name]);
    await expect(
      client.callTool({ name: lookup.tool_name, arguments: { order_id: 'A-1' } }),
    ).rejects.toMatchObject({ code: -32602 });
    const ours = await connect(mcpKey);
    expect((await ours.listTools()).tools.map((tool) => tool.name)).not.toContain(theirs.tool_name);
  });

  it('answers 401 without a valid API key, in the API’s error shape', async () => {
    for (const headers of [{}, { authorization: 'Bearer sbk_notarealkeyatall' }] as Record<
      string,
      string
    >[]) {
      const response = await post(headers);
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED', request_id: expect.any(String) });
    }
    await expect(connect('sbk_notarealkeyatall')).rejects.toThrow(/UNAUTHENTICATED/);
  });

  it.each([
    ['actions:read only', ['actions:read'], 'actions:execute'],
    ['actions:execute only', ['actions:execute'], 'actions:read'],
    ['another scope', ['secrets:write'], 'actions:execute'],
  ])('answers 403 to a key with %s', async (_case, scopes, missing) => {
    const response = await post({ authorization: `Bearer ${await keyWith(scopes)}` });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({
      code: 'INSUFFICIENT_SCOPE',
      details: { required_scope: missing },
    });
  });

  it('refuses a browser origin that is not allowed (DNS rebinding, D05) and serves an allowed one', async () => {
    const refused = await post({ authorization: `Bearer ${mcpKey}`, origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    const rebound = await post({
      authorization: `Bearer ${mcpKey}`,
      origin: base.replace('127.0.0.1', 'evil.example'),
    });
    expect(rebound.status).toBe(403);

    const client = await connect(mcpKey, { headers: { origin: ALLOWED_ORIGIN } });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain(lookup.tool_name);
  });

  it('answers GET and DELETE with 405, and a batch without Accept for event streams with 406', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(`${base}/mcp`, {
        method,
        headers: { authorization: `Bearer ${mcpKey}`, accept: 'text/event-stream' },
      });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(((await response.json()) as any).error.code).toBe('METHOD_NOT_ALLOWED');
    }
    const notAcceptable = await post({ authorization: `Bearer ${mcpKey}`, accept: 'application/json' });
    expect(notAcceptable.status).toBe(406);
    expect(notAcceptable.body.error.code).toBe(-32000);
  });

  it('answers a raw initialize with JSON, a notification with 202, and sets the request id', async () => {
    const initialized = await post({ authorization: `Bearer ${mcpKey}` });
    expect(initialized.status).toBe(200);
    expect(initialized.headers.get('content-type')).toMatch(/application\/json/);
    expect(initialized.headers.get('x-request-id')).toBeTruthy();
    expect(initialized.headers.get('mcp-session-id')).toBeNull();
    expect(initialized.body.result.serverInfo.name).toBe('switchboard');

    const notified = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${mcpKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(notified.status).toBe(202);
  });

  it('documents /mcp in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).body;
    const post = doc.paths['/mcp'].post;
    expect(post.description).toMatch(/Model Context Protocol/);
    expect(post.description).toContain('actions:execute');
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/mcp'].get).toBeDefined();
  });
});
