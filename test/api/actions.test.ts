/** Defining actions and integrations over the native API, on both stores. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const lookupOrder = (overrides: Record<string, unknown> = {}) => ({
  name: 'Lookup order',
  description: "Look up an order's status by its number",
  kind: 'http',
  variables: [
    {
      name: 'order_id',
      type: 'string',
      required: true,
      description: 'The order number, usually starting with ORD-',
      example: 'ORD-12345',
    },
    { name: 'include_items', type: 'boolean', description: 'Whether to list the items' },
  ],
  http: {
    method: 'GET',
    url: 'https://api.example.com/orders/{{order_id}}',
    query: { include: 'tracking', items: '{{include_items}}' },
    headers: { 'X-Source': 'agent' },
  },
  ...overrides,
});

describe.each(STORE_KINDS)('actions API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());

  it('creates an action with the fixed contract shape, its tool name and its strict input schema', async () => {
    const secret = await t.request('POST', '/v1/secrets', {
      body: { name: 'ORDERS_TOKEN', value: 'orders-token-value' },
    });
    const response = await t.request('POST', '/v1/actions', {
      body: {
        name: 'Lookup order',
        description: "Look up an order's status by its number",
        kind: 'http',
        variables: [{ name: 'order_id', type: 'string', required: true, description: 'The order number' }],
        http: {
          method: 'POST',
          url: 'https://api.example.com/orders/{{order_id}}',
          query: { include: 'tracking' },
          headers: { 'X-Source': 'agent' },
          body: { id: '{{order_id}}', note: 'order {{order_id}}' },
          auth: { type: 'bearer', secret_id: secret.body.id },
        },
      },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      id: expect.any(String),
      version: 1,
      kind: 'http',
      status: 'active',
      channels: ['web'],
      tool_name: 'lookup_order',
      http: { method: 'POST', auth: { type: 'bearer', secret_id: secret.body.id } },
    });
    expect(response.body.input_schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['order_id'],
      properties: { order_id: { type: 'string', maxLength: expect.any(Number) } },
    });
  });

  it('keeps every version readable, and refuses a change made against an old version', async () => {
    const created = await t.request('POST', '/v1/actions', {
      body: lookupOrder({ name: 'Versioned', tool_name: 'versioned' }),
    });
    const id = created.body.id;
    const changed = await t.request('PATCH', `/v1/actions/${id}`, {
      body: { description: 'A better description', version: 1 },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      version: 2,
      description: 'A better description',
      name: 'Versioned',
    });
    const stale = await t.request('PATCH', `/v1/actions/${id}`, {
      body: { description: 'Lost update', version: 1 },
    });
    expect(stale.status).toBe(409);
    const versions = await t.request('GET', `/v1/actions/${id}/versions`);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const first = await t.request('GET', `/v1/actions/${id}/versions/1`);
    expect(first.body.definition.description).toBe("Look up an order's status by its number");
    expect((await t.request('GET', `/v1/actions/${id}/versions/9`)).status).toBe(404);
  });

  it.each([
    [
      'an unknown placeholder, listing every unknown name',
      { http: { method: 'GET', url: 'https://x.example/{{nope}}', query: { a: '{{also_nope}}' } } },
      /\{\{nope\}\}.*\{\{also_nope\}\}/,
    ],
    [
      'a placeholder in the host',
      { http: { method: 'GET', url: 'https://{{order_id}}.example.com/' } },
      /scheme and host/,
    ],
    [
      'credentials in the URL',
      { http: { method: 'GET', url: 'https://user:pw@x.example/' } },
      /Credentials in URLs/,
    ],
    ['a non-http scheme', { http: { method: 'GET', url: 'file:///etc/passwd' } }, /http/],
    [
      'the metadata address',
      { http: { method: 'GET', url: 'http://169.254.169.254/latest/meta-data/' } },
      /egress guard/,
    ],
    ['a body on GET', { http: { method: 'GET', url: 'https://x.example/', body: { a: 1 } } }, /no body/],
    [
      'a reserved header',
      { http: { method: 'GET', url: 'https://x.example/', headers: { Host: 'evil.example' } } },
      /Host header/,
    ],
    [
      'an auth secret that does not exist',
      { http: { method: 'GET', url: 'https://x.example/', auth: { type: 'bearer', secret_id: 'nope' } } },
      /No secret/,
    ],
    [
      'a secret in the URL path',
      { secrets: {}, http: { method: 'GET', url: 'https://x.example/{{secrets.TOKEN}}' } },
      /Unknown placeholders|URL path/,
    ],
    [
      'an unknown auth type',
      { http: { method: 'GET', url: 'https://x.example/', auth: { type: 'magic' } } },
      /type/,
    ],
    [
      'a bearer auth without its secret',
      { http: { method: 'GET', url: 'https://x.example/', auth: { type: 'bearer' } } },
      /secret_id/,
    ],
  ])('refuses %s with a 400 that says what to fix', async (_name, overrides, message) => {
    const response = await t.request('POST', '/v1/actions', { body: lookupOrder(overrides) });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.message).toMatch(message);
  });

  it('refuses a kind document under the wrong name, and a missing one', async () => {
    expect(
      (await t.request('POST', '/v1/actions', { body: { ...lookupOrder(), http: undefined } })).body.error
        .path,
    ).toBe('/http');
  });

  it('uses an integration’s base URL, secrets and default auth, and refuses deleting an integration in use', async () => {
    const token = await t.request('POST', '/v1/secrets', {
      body: { name: 'CRM_TOKEN', value: 'crm-token-value' },
    });
    const integration = await t.request('POST', '/v1/integrations', {
      body: {
        name: 'CRM',
        base_url: 'https://crm.example.com/api',
        secrets: { CRM_TOKEN: token.body.id },
        auth: { type: 'bearer', secret_id: token.body.id },
      },
    });
    expect(integration.status).toBe(201);
    const action = await t.request('POST', '/v1/actions', {
      body: {
        name: 'Find contact',
        description: 'Find a contact by email',
        kind: 'http',
        integration_id: integration.body.id,
        variables: [{ name: 'email', type: 'email', required: true }],
        http: {
          method: 'GET',
          url: '/contacts',
          query: { email: '{{email}}' },
          headers: { 'X-Token': '{{secrets.CRM_TOKEN}}' },
        },
      },
    });
    expect(action.status).toBe(201);
    expect((await t.request('DELETE', `/v1/integrations/${integration.body.id}`)).status).toBe(409);
    expect((await t.request('DELETE', `/v1/actions/${action.body.id}`)).status).toBe(204);
    expect((await t.request('GET', `/v1/actions/${action.body.id}`)).status).toBe(404);
    expect((await t.request('DELETE', `/v1/integrations/${integration.body.id}`)).status).toBe(204);
  });

  it('refuses a relative URL without an integration base URL', async () => {
    const response = await t.request('POST', '/v1/actions', {
      body: lookupOrder({ http: { method: 'GET', url: '/orders' } }),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.path).toBe('/http/url');
  });

  it("keeps another organization's actions and integrations invisible", async () => {
    const mine = await t.request('POST', '/v1/actions', {
      body: lookupOrder({ name: 'Private', tool_name: 'private_action' }),
    });
    const other = await t.newTenant(['actions:read', 'actions:write', 'actions:execute']);
    for (const [method, path] of [
      ['GET', `/v1/actions/${mine.body.id}`],
      ['PATCH', `/v1/actions/${mine.body.id}`],
      ['DELETE', `/v1/actions/${mine.body.id}`],
      ['GET', `/v1/actions/${mine.body.id}/versions`],
      ['POST', `/v1/actions/${mine.body.id}/execute`],
    ] as const) {
      const body = method === 'PATCH' ? { description: 'x' } : method === 'POST' ? {} : undefined;
      const response = await t.request(method, path, { key: other.key, body });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
    expect((await t.request('GET', '/v1/actions', { key: other.key })).body.data).toEqual([]);
  });

  it('lists tools in four formats, with unique valid names, filtered by channel, without inactive actions', async () => {
    const tenant = await t.newTenant(['actions:read', 'actions:write']);
    const make = (name: string, extra: Record<string, unknown> = {}) =>
      t.request('POST', '/v1/actions', {
        key: tenant.key,
        body: lookupOrder({ name, tool_name: undefined, ...extra }),
      });
    await make('Check stock!');
    await make('Check stock?');
    await make('Phone only', { channels: ['phone_voice'] });
    await make('Switched off', { status: 'inactive' });
    const openai = await t.request('GET', '/v1/tools?format=openai', { key: tenant.key });
    const names = openai.body.map((tool: { function: { name: string } }) => tool.function.name);
    expect(names.sort()).toEqual(['check_stock', 'check_stock_2', 'phone_only']);
    expect(openai.body[0]).toMatchObject({
      type: 'function',
      function: { parameters: { type: 'object', additionalProperties: false } },
    });
    const anthropic = await t.request('GET', '/v1/tools?format=anthropic&channel=phone_voice', {
      key: tenant.key,
    });
    expect(anthropic.body).toEqual([
      expect.objectContaining({ name: 'phone_only', input_schema: expect.any(Object) }),
    ]);
    const gemini = await t.request('GET', '/v1/tools?format=gemini', { key: tenant.key });
    expect(gemini.body.functionDeclarations).toHaveLength(3);
    const mcp = await t.request('GET', '/v1/tools?format=mcp', { key: tenant.key });
    expect(mcp.body.tools.map((tool: { name: string }) => tool.name).sort()).toEqual([
      'check_stock',
      'check_stock_2',
      'phone_only',
    ]);
    expect((await t.request('GET', '/v1/tools?format=yaml', { key: tenant.key })).status).toBe(400);
  });
});
