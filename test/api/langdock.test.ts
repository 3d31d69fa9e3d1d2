/**
 * Langdock's integrations API for actions, on both stores: Langdock's documented example against golden
 * fixtures (test/fixtures/langdock/), PUT and DELETE as Langdock documents them, every error status in
 * Langdock's error body, the origin policy and rate limits on these routes, and Langdock's "Get User Data"
 * created here, then run through the native execute route against a loopback upstream with the integration's
 * API_TOKEN.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type Response, type TestApp } from '../helpers/app.ts';
import { userDirectory, type Upstream } from '../helpers/upstream.ts';
import { byShape, createKey, fixtures, MISSING, REASONS, startWithUpstream } from '../helpers/dialects.ts';

const API_TOKEN = 'langdock-canary-3e5a7c9b1d2f4e6a8c0b2d4f6a8c0e1';

const fixture = fixtures('langdock');

/** A golden body with its generated parts matched by shape, "<slug:base>" (base or base-N) too. */
const structural = (value: unknown): unknown =>
  byShape(value, (text) =>
    text.startsWith('<slug:')
      ? expect.stringMatching(new RegExp(`^${text.slice(6, -1)}(-\\d+)?$`))
      : undefined,
  );

/** Langdock's error body, and nothing else. */
function expectVendorError(response: Response, status: number, message?: RegExp): void {
  expect(response.status, response.text).toBe(status);
  expect(response.body).toEqual({
    message: message ? expect.stringMatching(message) : expect.any(String),
    error: REASONS[status],
    statusCode: status,
    request_id: expect.any(String),
  });
}

const field = (overrides: Record<string, unknown> = {}) => ({ label: 'Order ID', ...overrides });
let counter = 0;
const uniqueName = () => `Action ${++counter}`;

describe.each(STORE_KINDS)('Langdock integrations API on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let key: string;
  let integrationId: string;
  let secondIntegrationId: string;

  const path = (integration = integrationId) => `/integrations/v1/${integration}/actions/create`;
  const create = (body: unknown, options: { integration?: string; key?: string | null } = {}) =>
    t.request('POST', path(options.integration), {
      key: options.key === undefined ? key : options.key,
      body,
    });
  const actionPath = (actionId: string, integration = integrationId) =>
    `/integrations/v1/${integration}/actions/${actionId}`;

  beforeAll(async () => {
    ({ t, upstream } = await startWithUpstream(kind, { SWITCHBOARD_SANDBOX_WORKERS: '1' }));
    // the integration's code can read API_TOKEN, so it may fetch only the host the secret is bound to
    const secret = await t.request('POST', '/v1/secrets', {
      body: { name: 'API_TOKEN', value: API_TOKEN, allowed_hosts: [upstream.host] },
    });
    const integration = await t.request('POST', '/v1/integrations', {
      body: { name: 'Internal API', base_url: upstream.url, secrets: { API_TOKEN: secret.body.id } },
    });
    integrationId = integration.body.id;
    secondIntegrationId = (await t.request('POST', '/v1/integrations', { body: { name: 'Second' } })).body.id;
    key = await createKey(t, ['INTEGRATION_API'], 'langdock');
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.setHandler(userDirectory);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('answers Langdock’s example request with the documented 201 body (golden fixture)', async () => {
    const response = await create(fixture('create-action.request'));
    expect(response.status, response.text).toBe(201);
    expect(response.body).toEqual(structural(fixture('create-action.response')));

    // stored as a native code action of the path's integration, fields as labelled variables
    const native = await t.request('GET', `/v1/actions/${response.body.action.id}`);
    expect(native.body).toMatchObject({
      kind: 'code',
      integration_id: integrationId,
      tool_name: response.body.action.slug,
      code: { source: fixture('create-action.request').code, integration_id: integrationId },
      variables: [
        { name: 'userId', type: 'string', label: 'User ID', placeholder: 'e.g., user_123', required: true },
        { name: 'includeDetails', type: 'boolean', label: 'Include Details', required: false },
      ],
    });
  });

  it('creates Langdock’s "Get User Data" that runs through POST /v1/actions/{id}/execute', async () => {
    const seed = fixture('create-action.request');
    const created = await create({
      ...seed,
      name: 'Get User Data (loopback)',
      code: seed.code.replace('https://api.example.com', upstream.url),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.action.id;

    const run = await t.request('POST', `/v1/actions/${id}/execute`, {
      key,
      body: { inputs: { userId: 'user_123', includeDetails: 'yes' } },
    });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      status: 'succeeded',
      output: { id: 'user_123', name: 'Ada', plan: 'pro' },
      inputs: { userId: 'user_123', includeDetails: true },
    });
    const seen = upstream.requests.at(-1)!;
    expect(seen.path).toBe('/users/user_123');
    expect(seen.headers.authorization).toBe(`Bearer ${API_TOKEN}`);

    const missing = await t.request('POST', `/v1/actions/${id}/execute`, { body: { inputs: {} } });
    expect(missing.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
    const unknown = await t.request('POST', `/v1/actions/${id}/execute`, {
      body: { inputs: { userId: 'nobody' } },
    });
    expect(unknown.body).toMatchObject({ status: 'failed', error: { message: 'Error: User not found' } });

    const record = await t.request('GET', `/v1/executions/${run.body.id}`);
    expect(record.text).not.toContain(API_TOKEN);
  });

  it('replaces an action with PUT as Langdock documents it, keeping its slug, order and native limits', async () => {
    const integration = (await t.request('POST', '/v1/integrations', { body: { name: 'To update' } })).body
      .id;
    const created = await create(fixture('create-action.request'), { integration });
    const { id, slug, order } = created.body.action;
    // a limit only the native API can set survives Langdock's replacement of the code
    await t.request('PATCH', `/v1/actions/${id}`, {
      body: { code: { source: 'return 2', timeout_ms: 900 } },
    });

    const response = await t.request('PUT', actionPath(id, integration), {
      key,
      body: fixture('update-action.request'),
    });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual(structural(fixture('update-action.response')));
    expect(response.body.action).toMatchObject({ id, slug, order });

    const native = await t.request('GET', `/v1/actions/${id}`);
    expect(native.body).toMatchObject({
      version: 3,
      name: 'Get User Data v2',
      code: { timeout_ms: 900 },
      variables: [
        { name: 'userId', type: 'string' },
        { name: 'format', type: 'enum', enum: ['json', 'xml'], option_labels: { json: 'JSON', xml: 'XML' } },
      ],
    });

    // replace semantics: what is not given is emptied
    const emptied = await t.request('PUT', actionPath(id, integration), {
      key,
      body: { name: 'Get User Data v3' },
    });
    expect(emptied.body.action).toMatchObject({ description: '', code: null, inputFields: [] });
  });

  it('deletes an action with DELETE: 200 with its id, then 404 everywhere', async () => {
    const { id } = (await create({ name: uniqueName(), code: 'return 1' })).body.action;
    const response = await t.request('DELETE', actionPath(id), { key });
    expect(response.status).toBe(200);
    expect(response.body).toEqual(structural({ ...fixture('delete-action.response') }));
    expect(response.body.id).toBe(id);
    expectVendorError(await t.request('DELETE', actionPath(id), { key }), 404, /Action not found/);
    expect((await t.request('GET', `/v1/actions/${id}`)).status).toBe(404);
    expect((await t.request('POST', `/v1/actions/${id}/execute`, { body: {} })).status).toBe(404);
  });

  it('gives new actions the next order in their integration and kebab-case slugs unique in the organization', async () => {
    const integration = (await t.request('POST', '/v1/integrations', { body: { name: 'Ordered' } })).body.id;
    const orders = [];
    for (const name of ['Send Invoice', 'Refund Order', 'Close Ticket'])
      orders.push((await create({ name }, { integration })).body.action.order);
    expect(orders).toEqual([0, 1, 2]);
    const again = await create({ name: 'Send Invoice' }, { integration: secondIntegrationId });
    expect(again.status).toBe(201);
    expect(again.body.action.slug).toBe('send-invoice-2');
    const odd = await create({ name: '42 Ünïcode  names!' }, { integration });
    expect(odd.body.action.slug).toBe('action-42-unicode-names');
  });

  it('maps every field type and derives unique camelCase slugs', async () => {
    const options = await create({ name: uniqueName(), code: 'return ["a", "b"]' });
    const fields = [
      { label: 'Plain', type: 'TEXT' },
      { label: 'Notes', type: 'MULTI_LINE_TEXT' },
      { label: 'Amount', type: 'NUMBER' },
      { label: 'Confirmed', type: 'BOOLEAN' },
      { label: 'Size', type: 'SELECT', options: [{ label: 'Small', value: 's' }, { value: 'm' }, 'l'] },
      { label: 'Tags', type: 'SELECT', options: ['x', 'y'], allowMultiSelect: true },
      { label: 'Project', type: 'SELECT', contextActionId: options.body.action.id },
      { label: 'Projects', type: 'SELECT', contextActionId: options.body.action.id, allowMultiSelect: true },
      { label: 'PIN', type: 'PASSWORD' },
      { label: 'Embedding', type: 'VECTOR' },
      { label: 'Payload', type: 'OBJECT' },
      { label: 'Attachment', type: 'FILE' },
      { label: 'Record', type: 'ID' },
      { label: 'plain' },
      { label: 'Timezone' },
    ];
    const response = await create({ name: uniqueName(), inputFields: fields });
    expect(response.status, response.text).toBe(201);
    const shown = response.body.action.inputFields;
    expect(shown.map((f: { slug: string }) => f.slug)).toEqual([
      'plain',
      'notes',
      'amount',
      'confirmed',
      'size',
      'tags',
      'project',
      'projects',
      'pin',
      'embedding',
      'payload',
      'attachment',
      'record',
      'plain2',
      'timezone2',
    ]);
    expect(shown.map((f: { type: string }) => f.type)).toEqual([...fields.map((f) => f.type ?? 'TEXT')]);
    expect(shown[4].options).toEqual([
      { label: 'Small', value: 's' },
      { label: 'm', value: 'm' },
      { label: 'l', value: 'l' },
    ]);
    expect(shown[5]).toMatchObject({ allowMultiSelect: true, options: [{ value: 'x' }, { value: 'y' }] });
    expect(shown[7]).toMatchObject({ allowMultiSelect: true, contextActionId: options.body.action.id });
    // what the response shows can be sent back unchanged
    const echoed = shown.map(({ slug: _slug, order: _order, ...rest }: Record<string, unknown>) => rest);
    const again = await t.request('PUT', actionPath(response.body.action.id), {
      key,
      body: { name: response.body.action.name, inputFields: echoed },
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.action.inputFields).toEqual(shown);
  });

  describe('400 with Langdock’s error body', () => {
    const long = (n: number) => 'x'.repeat(n);
    it.each<[string, Record<string, unknown>, RegExp]>([
      ['no name', { name: undefined, code: 'return 1' }, /name is required/],
      ['an empty name', { name: '' }, /name must NOT have fewer than 1 characters/],
      ['a name over 100 characters', { name: long(101) }, /name must NOT have more than 100/],
      ['a description over 1,000 characters', { description: long(1001) }, /description must NOT have more/],
      ['code over 40,000 characters', { code: `//${long(40_000)}` }, /code must NOT have more than 40000/],
      ['more than 100 input fields', { inputFields: Array.from({ length: 101 }, field) }, /inputFields/],
      ['a field without a label', { inputFields: [{ type: 'TEXT' }] }, /inputFields\.0\.label is required/],
      [
        'an empty label',
        { inputFields: [field({ label: '' })] },
        /inputFields\.0\.label must NOT have fewer/,
      ],
      ['a label over 100 characters', { inputFields: [field({ label: long(101) })] }, /label must NOT/],
      ['a field description over 500', { inputFields: [field({ description: long(501) })] }, /description/],
      ['a placeholder over 200', { inputFields: [field({ placeholder: long(201) })] }, /placeholder/],
      ['an unknown field type', { inputFields: [field({ type: 'DROPDOWN' })] }, /must be one of: TEXT/],
      ['a SELECT without options', { inputFields: [field({ type: 'SELECT' })] }, /needs options/],
      [
        'a SELECT with both options and contextActionId',
        { inputFields: [field({ type: 'SELECT', options: ['a'], contextActionId: MISSING })] },
        /not both/,
      ],
      ['options on a TEXT field', { inputFields: [field({ options: ['a'] })] }, /only a SELECT field/],
      [
        'a contextActionId that is not a UUID',
        { inputFields: [field({ type: 'SELECT', contextActionId: 'nope' })] },
        /contextActionId must match format "uuid"/,
      ],
      [
        'a contextActionId naming no action',
        { inputFields: [field({ type: 'SELECT', contextActionId: MISSING })] },
        /inputFields\[0\]\.contextActionId: No action with id/,
      ],
      [
        'duplicate SELECT options',
        { inputFields: [field({ type: 'SELECT', options: ['Next Day', 'next_day'] })] },
        /inputFields\[0\]\.options\[1\]/,
      ],
      [
        'code that does not compile',
        { code: 'const a = 1;\nconst b = ;' },
        /^code: The code does not compile on line 2/,
      ],
      ['an unknown property', { extra: true }, /extra is not a known field/],
    ])('refuses %s', async (_name, body, message) => {
      expectVendorError(await create({ name: uniqueName(), ...body }), 400, message);
    });

    it('accepts every limit exactly', async () => {
      const response = await create({
        name: `${uniqueName()} ${'n'.repeat(80)}`.slice(0, 100),
        description: 'd'.repeat(1000),
        code: `return 1;//${'c'.repeat(40_000 - 11)}`,
        inputFields: Array.from({ length: 100 }, (_, i) => ({
          label: `${i} ${'l'.repeat(98)}`.slice(0, 100),
          description: 'e'.repeat(500),
          placeholder: 'p'.repeat(200),
        })),
      });
      expect(response.status, response.text).toBe(201);
      expect(response.body.action.inputFields).toHaveLength(100);
    });

    it('refuses ids that are not UUIDs', async () => {
      expectVendorError(
        await create({ name: uniqueName() }, { integration: 'not-a-uuid' }),
        400,
        /integrationId must be a UUID/,
      );
      expectVendorError(
        await t.request('PUT', actionPath('nope'), { key, body: { name: 'x' } }),
        400,
        /actionId/,
      );
      expectVendorError(
        await t.request('DELETE', actionPath('nope'), { key }),
        400,
        /actionId must be a UUID/,
      );
    });

    it('refuses a PUT without a name, an invalid JSON body, and leaves nothing half-written', async () => {
      const { id } = (await create({ name: uniqueName(), code: 'return 1' })).body.action;
      expectVendorError(await t.request('PUT', actionPath(id), { key, body: { code: 'x' } }), 400, /name/);
      expectVendorError(
        await t.request('POST', path(), {
          key,
          body: '{"name": ',
          headers: { 'content-type': 'application/json' },
        }),
        400,
      );
      const broken = await t.request('PUT', actionPath(id), { key, body: { name: 'x', code: 'return (' } });
      expectVendorError(broken, 400, /does not compile/);
      expect((await t.request('GET', `/v1/actions/${id}`)).body.version).toBe(1);
    });
  });

  it('401 without or with a wrong API key', async () => {
    expectVendorError(await create({ name: uniqueName() }, { key: null }), 401, /Missing API key/);
    expectVendorError(await create({ name: uniqueName() }, { key: 'sbk_not_a_key' }), 401, /not valid/);
  });

  it('403 for a key without actions:write', async () => {
    const reader = (await t.request('POST', '/v1/keys', { body: { name: 'r', scopes: ['actions:read'] } }))
      .body.key;
    expectVendorError(await create({ name: uniqueName() }, { key: reader }), 403, /actions:write/);
  });

  it('403 for another organization’s integration, 404 for one that does not exist; native routes say 404 to both', async () => {
    const other = await t.newTenant(['INTEGRATION_API']);
    expectVendorError(
      await create({ name: uniqueName() }, { key: other.key }),
      403,
      /No access to this integration/,
    );
    expectVendorError(
      await create({ name: uniqueName() }, { integration: MISSING }),
      404,
      /Integration not found/,
    );
    const { id } = (await create({ name: uniqueName() })).body.action;
    expectVendorError(await t.request('DELETE', actionPath(id), { key: other.key }), 403);
    expect((await t.request('GET', `/v1/integrations/${integrationId}`, { key: other.key })).status).toBe(
      404,
    );
  });

  it('404 for an unknown action, or one of another integration', async () => {
    expectVendorError(await t.request('PUT', actionPath(MISSING), { key, body: { name: 'x' } }), 404);
    const { id } = (await create({ name: uniqueName() })).body.action;
    expectVendorError(
      await t.request('PUT', actionPath(id, secondIntegrationId), { key, body: { name: 'x' } }),
      404,
      /Action not found/,
    );
    expectVendorError(await t.request('DELETE', actionPath(id, secondIntegrationId), { key }), 404);
    expectVendorError(await t.request('GET', '/integrations/v1/nothing'), 404, /no route/);
  });

  it('409 for a name the integration already has, ignoring case; other integrations may reuse it', async () => {
    const name = `Lookup Order ${kind}`;
    expect((await create({ name })).status).toBe(201);
    expectVendorError(await create({ name }), 409, /already exists in this integration/);
    expectVendorError(await create({ name: name.toUpperCase() }), 409);
    expect((await create({ name }, { integration: secondIntegrationId })).status).toBe(201);

    const { id } = (await create({ name: `${name} 2` })).body.action;
    expectVendorError(
      await t.request('PUT', actionPath(id), { key, body: { name: name.toLowerCase() } }),
      409,
    );
    const renamed = await t.request('PUT', actionPath(id), {
      key,
      body: { name: `${name} 2`.toUpperCase() },
    });
    expect(renamed.status).toBe(200);
  });

  it('409 for all but one of concurrent creates of the same name, each created one with its own order', async () => {
    const integration = (await t.request('POST', '/v1/integrations', { body: { name: 'Race' } })).body.id;
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        create({ name: i % 2 ? 'Same Name' : 'same name' }, { integration }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const distinct = await Promise.all(
      Array.from({ length: 4 }, (_, i) => create({ name: `Distinct ${i}` }, { integration })),
    );
    expect(distinct.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(distinct.map((r) => r.body.action.order).sort()).toEqual([1, 2, 3, 4]);
    expect(new Set(distinct.map((r) => r.body.action.slug)).size).toBe(4);
  });

  it('refuses a browser Origin in Langdock’s error body, and native routes keep their own shape', async () => {
    const refused = await t.request('POST', path(), {
      key,
      body: { name: uniqueName() },
      headers: { origin: 'https://evil.example' },
    });
    expectVendorError(refused, 403, /SWITCHBOARD_ALLOWED_ORIGINS/);
    const native = await t.request('POST', '/v1/actions', { body: { name: '' } });
    expect(native.status).toBe(400);
    expect(native.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/integrations/v1/{integrationId}/actions/create',
        '/integrations/v1/{integrationId}/actions/{actionId}',
      ]),
    );
  });
});

describe.each(STORE_KINDS)('Langdock routes: rate limits and allowed origins on %s', (kind) => {
  let t: TestApp;
  let integrationId: string;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_RATE_LIMIT_PER_KEY: '3',
      SWITCHBOARD_ALLOWED_ORIGINS: 'https://console.example.com',
    });
    integrationId = (await t.request('POST', '/v1/integrations', { body: { name: 'Limited' } })).body.id;
    key = await createKey(t, ['INTEGRATION_API'], 'limited');
  });
  afterAll(async () => t.close());

  it('serves an allowed origin, refuses others, and answers the fourth request in a minute with 429', async () => {
    const create = (name: string, origin?: string) =>
      t.request('POST', `/integrations/v1/${integrationId}/actions/create`, {
        key,
        body: { name },
        headers: origin ? { origin } : {},
      });
    const allowed = await create('One', 'https://console.example.com');
    expect(allowed.status).toBe(201);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
    expectVendorError(await create('Refused', 'https://evil.example'), 403, /browser origin/);
    expect((await create('Two')).status).toBe(201);
    expect((await create('Three')).status).toBe(201);
    const limited = await create('Four');
    expectVendorError(limited, 429, /Rate limit of 3 requests per minute/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
