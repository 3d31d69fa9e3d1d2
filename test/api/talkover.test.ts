/**
 * Talkover's agent actions API, on both stores: Talkover's three documented request examples and its error
 * examples against golden fixtures (test/fixtures/talkover/); create then update by node_id; list, delete,
 * get agent, publish and the draft reset; every validation rule Talkover documents, with Laravel's messages;
 * 401/403/404/422 in Talkover's body while native routes keep theirs; and actions created here run through
 * the native execute route (a webhook against a loopback upstream, a transfer's directive).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const SEED_AGENT = '550e8400-e29b-41d4-a716-446655440000';
const TOKEN = 'talkover-canary-5b7d9f1a3c5e7a9b1d3f5a7c9e1b3d5f';
const AUTH_KEY = 'talkover-auth-canary-2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2';

const fixture = (name: string): any =>
  JSON.parse(readFileSync(new URL(`../fixtures/talkover/${name}.json`, import.meta.url), 'utf8'));

/** A golden body with its generated parts matched by shape: "<uuid>", "<timestamp>". */
function structural(value: unknown): unknown {
  if (value === '<uuid>') return expect.stringMatching(UUID);
  if (value === '<timestamp>') return expect.stringMatching(TIMESTAMP);
  if (Array.isArray(value)) return value.map(structural);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(v)]));
  return value;
}

let counter = 0;
const nodeId = () => `node-${++counter}`;
const webhook = (overrides: Record<string, unknown> = {}) => ({
  node_id: nodeId(),
  name: `Webhook ${counter}`,
  description: 'Calls an API',
  type: 'webhook',
  url: 'https://api.example.com/hook',
  ...overrides,
});

describe.each(STORE_KINDS)('Talkover agent actions API on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let key: string;
  let agentId: string;

  const actionsPath = (agent = agentId) => `/api/v1/agents/${agent}/actions`;
  const save = (body: unknown, options: { agent?: string; key?: string | null } = {}) =>
    t.request('POST', actionsPath(options.agent), {
      key: options.key === undefined ? key : options.key,
      body,
    });
  const newAgent = async (name = 'Voice agent') =>
    (await t.request('POST', '/v1/agents', { body: { name } })).body.id as string;
  const keyWith = async (scopes: string[]) =>
    (await t.request('POST', '/v1/keys', { body: { name: scopes.join(' '), scopes } })).body.key as string;
  const agentStatus = async (agent = agentId) =>
    (await t.request('GET', `/api/v1/agents/${agent}`, { key })).body.data.status as string;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
    key = await keyWith(['agents:read', 'agents:write', 'actions:write', 'actions:read', 'actions:execute']);
    agentId = await newAgent();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.setHandler(undefined);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  describe('Talkover’s documented request examples (golden fixtures)', () => {
    it.each([
      ['webhook', 'create-webhook'],
      ['transfer', 'create-transfer'],
      ['hold', 'create-hold'],
    ])('answers the %s example with the documented body', async (_type, name) => {
      const agent = await newAgent(name);
      const response = await save(fixture(`${name}.request`), { agent });
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual(structural(fixture(`${name}.response`)));
      expect(response.body.data.created_at).toBe(response.body.data.updated_at);
    });

    it('stores the webhook example as a native http action on the agent', async () => {
      const agent = await newAgent();
      const { data } = (await save(fixture('create-webhook.request'), { agent })).body;
      const native = await t.request('GET', `/v1/actions/${data.id}`);
      expect(native.body).toMatchObject({
        kind: 'http',
        status: 'active',
        execution_mode: 'sync',
        channels: ['phone_voice', 'web_voice'],
        integration_id: null,
        tags: expect.arrayContaining([
          'talkover-node:action-node-456',
          'talkover-integration:integration-uuid',
        ]),
        variables: [
          { name: 'date', type: 'string', required: true, description: 'Meeting date' },
          { name: 'time', type: 'string', required: true, description: 'Meeting time' },
        ],
        http: {
          method: 'POST',
          url: 'https://api.example.com/schedule',
          body: { date: '{{date}}', time: '{{time}}' },
          auth: { type: 'token_url', url: 'https://api.example.com/auth' },
        },
      });
      const listed = await t.request('GET', `/v1/agents/${agent}`);
      expect(listed.body).toMatchObject({ action_ids: [data.id], status: 'draft' });
    });

    it('stores the transfer and hold examples as native transfer and hold actions', async () => {
      const agent = await newAgent();
      const transfer = (await save(fixture('create-transfer.request'), { agent })).body.data;
      const hold = (await save(fixture('create-hold.request'), { agent })).body.data;
      expect((await t.request('GET', `/v1/actions/${transfer.id}`)).body).toMatchObject({
        kind: 'transfer',
        transfer: { destination: '+1234567890' },
        variables: [{ name: 'transfer_to', default: '+1234567890' }],
      });
      expect((await t.request('GET', `/v1/actions/${hold.id}`)).body).toMatchObject({
        kind: 'hold',
        hold: { seconds: 30 },
        variables: [{ name: 'hold_duration', type: 'integer', default: 30 }],
      });
    });
  });

  describe('errors in Talkover’s body', () => {
    it('answers Talkover’s validation example with its 422 (golden fixture)', async () => {
      const response = await save(fixture('validation-error.request'));
      expect(response.status).toBe(422);
      expect(response.body).toEqual(fixture('validation-error.response'));
    });

    it('answers 404 "Agent not found" for the documented agent id, on every route', async () => {
      const expected = fixture('not-found.response');
      const routes: [string, string, unknown?][] = [
        ['POST', `/api/v1/agents/${SEED_AGENT}/actions`, fixture('create-webhook.request')],
        ['GET', `/api/v1/agents/${SEED_AGENT}/actions`],
        ['DELETE', `/api/v1/agents/${SEED_AGENT}/actions/${SEED_AGENT}`],
        ['GET', `/api/v1/agents/${SEED_AGENT}`],
        ['POST', `/api/v1/agents/${SEED_AGENT}/publish`],
      ];
      for (const [method, url, body] of routes) {
        const response = await t.request(method, url, { key, body });
        expect(response.status, `${method} ${url}`).toBe(404);
        expect(response.body).toEqual(expected);
      }
    });

    it('answers 404 before 422: an unknown agent is reported whatever the body', async () => {
      const response = await save({}, { agent: SEED_AGENT });
      expect(response.status).toBe(404);
    });

    it('answers another organization’s agent as not found', async () => {
      const tenant = await t.newTenant(['admin']);
      const response = await save(webhook(), { key: tenant.key });
      expect(response.status).toBe(404);
      expect(response.body).toEqual(fixture('not-found.response'));
    });

    it.each([
      ['no key', null],
      ['an unknown key', 'not-a-key'],
    ])('answers 401 "Unauthenticated." with %s (golden fixture)', async (_case, badKey) => {
      for (const [method, url] of [
        ['POST', actionsPath()],
        ['GET', actionsPath()],
        ['GET', `/api/v1/agents/${agentId}`],
      ] as const) {
        const response = await t.request(method, url, {
          key: badKey,
          body: method === 'POST' ? webhook() : undefined,
        });
        expect(response.status).toBe(401);
        expect(response.body).toEqual(fixture('unauthenticated.response'));
      }
    });

    it.each([
      ['agents:read only', ['agents:read']],
      ['agents:write without actions:write', ['agents:read', 'agents:write']],
      ['actions:write without agents:write', ['actions:write']],
    ])('answers 403 with Talkover’s sentence to a key with %s (golden fixture)', async (_case, scopes) => {
      const response = await save(webhook(), { key: await keyWith(scopes) });
      expect(response.status).toBe(403);
      expect(response.body).toEqual(fixture('forbidden.response'));
    });

    it('answers 403 on the other routes with their own sentences', async () => {
      const writer = await keyWith(['actions:write']);
      const cases: [string, string, string][] = [
        ['GET', actionsPath(), 'You are not authorized to view actions of this agent.'],
        ['GET', `/api/v1/agents/${agentId}`, 'You are not authorized to view this agent.'],
        [
          'DELETE',
          `${actionsPath()}/${SEED_AGENT}`,
          'You are not authorized to delete actions of this agent.',
        ],
        ['POST', `/api/v1/agents/${agentId}/publish`, 'You are not authorized to publish this agent.'],
      ];
      for (const [method, url, message] of cases) {
        const response = await t.request(method, url, { key: writer });
        expect(response.status).toBe(403);
        expect(response.body).toEqual({ success: false, message });
      }
      const reader = await keyWith(['agents:read', 'agents:write']);
      const deleting = await t.request('DELETE', `${actionsPath()}/${SEED_AGENT}`, { key: reader });
      expect(deleting.status).toBe(403);
    });

    it('leaves native routes their own error shape', async () => {
      const response = await t.request('GET', `/v1/agents/${SEED_AGENT}`);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ error: { code: 'NOT_FOUND', message: 'Agent not found' } });
      const unknownRoute = await t.request('GET', '/api/v1/agents/x/unknown', { key });
      expect(unknownRoute.status).toBe(404);
      expect(unknownRoute.body).toEqual({
        success: false,
        message: expect.stringContaining('There is no route'),
      });
    });

    it('answers a body that is not JSON with 400 in Talkover’s body', async () => {
      const response = await t.request('POST', actionsPath(), {
        key,
        body: '{"name":',
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ success: false, message: expect.any(String) });
    });
  });

  describe('validation: each field’s rules, every failing field reported at once', () => {
    it('reports every required field of an empty body', async () => {
      const response = await save({});
      expect(response.status).toBe(422);
      expect(response.body).toEqual({
        success: false,
        message: 'The given data was invalid.',
        errors: {
          node_id: ['The node id field is required.'],
          name: ['The name field is required.'],
          description: ['The description field is required.'],
          type: ['The type field is required.'],
        },
      });
    });

    it.each([
      [
        'a name over 255 characters',
        { name: 'n'.repeat(256) },
        'name',
        'The name must not be greater than 255 characters.',
      ],
      ['a name that is not text', { name: 42 }, 'name', 'The name must be a string.'],
      [
        'a node id over 50 characters',
        { node_id: 'n'.repeat(51) },
        'node_id',
        'The node id must not be greater than 50 characters.',
      ],
      ['a webhook without url', { url: undefined }, 'url', 'The url field is required when type is webhook.'],
      ['an ftp url', { url: 'ftp://files.example.com/x' }, 'url', 'The url must be a valid URL.'],
      [
        'an unknown scheme',
        { authorization_scheme: 'digest' },
        'authorization_scheme',
        'The selected authorization scheme is invalid.',
      ],
      [
        'bearer without a secret',
        { authorization_scheme: 'bearer' },
        'secret_id',
        'The secret id field is required when authorization scheme is bearer.',
      ],
      [
        'basic without a username',
        { authorization_scheme: 'basic', secret_id: 'x' },
        'username',
        'The username field is required when authorization scheme is basic.',
      ],
      [
        'a secret with scheme none',
        { secret_id: 'x' },
        'secret_id',
        'The secret id field is prohibited when authorization scheme is none.',
      ],
      [
        'an api_key_header without api_key',
        { api_key_header: 'X-Key' },
        'api_key_header',
        'The api key header field is prohibited unless authorization scheme is api_key.',
      ],
      [
        'post_call on a webhook',
        { execution_mode: 'post_call' },
        'execution_mode',
        'The execution mode post_call is only valid for external actions.',
      ],
      [
        'an unknown execution mode',
        { execution_mode: 'later' },
        'execution_mode',
        'The selected execution mode is invalid.',
      ],
      [
        'an unknown status',
        { current_status: 'paused' },
        'current_status',
        'The selected current status is invalid.',
      ],
      [
        'a hold duration on a webhook',
        { hold_duration: 30 },
        'hold_duration',
        'The hold duration field is prohibited when type is webhook.',
      ],
      [
        'a transfer number on a webhook',
        { transfer_to: '+14155550100' },
        'transfer_to',
        'The transfer to field is prohibited when type is webhook.',
      ],
      ['inputs that are not a list', { inputs: { name: 'date' } }, 'inputs', 'The inputs must be an array.'],
      [
        'an input without a name',
        { inputs: [{ type: 'string' }] },
        'inputs.0.name',
        'The inputs.0.name field is required.',
      ],
      [
        'an input of an unknown type',
        { inputs: [{ name: 'x', type: 'text' }] },
        'inputs.0.type',
        'The selected inputs.0.type is invalid.',
      ],
      ['an input that is not an object', { inputs: ['date'] }, 'inputs.0', 'The inputs.0 must be an object.'],
      [
        'custom headers that are not a list',
        { custom_headers: 'X-A: 1' },
        'custom_headers',
        'The custom headers must be an array.',
      ],
      [
        'a custom header without a value',
        { custom_headers: [{ key: 'X-A' }] },
        'custom_headers.0.value',
        'The custom headers.0.value field is required.',
      ],
      [
        'a custom header name with a space',
        { custom_headers: [{ key: 'X A', value: '1' }] },
        'custom_headers.0.key',
        'The custom headers.0.key format is invalid.',
      ],
      [
        'a custom header given twice',
        {
          custom_headers: [
            { key: 'X-A', value: '1' },
            { key: 'x-a', value: '2' },
          ],
        },
        'custom_headers.1.key',
        'The custom headers.1.key field has a duplicate value.',
      ],
      [
        'an integration that is not an object',
        { integration: 'crm' },
        'integration',
        'The integration must be an object.',
      ],
      [
        'a speak_on_send over 1,000 characters',
        { speak_on_send: 's'.repeat(1001) },
        'speak_on_send',
        'The speak on send must not be greater than 1000 characters.',
      ],
    ])('refuses %s', async (_case, overrides, field, message) => {
      const response = await save(webhook(overrides));
      expect(response.status, response.text).toBe(422);
      expect(response.body).toMatchObject({ success: false, message: 'The given data was invalid.' });
      expect(response.body.errors[field]).toEqual([message]);
    });

    const transfer = (overrides: Record<string, unknown> = {}) => ({
      node_id: nodeId(),
      name: 'Transfer',
      description: 'Transfers',
      type: 'transfer',
      transfer_to: '+14155550100',
      ...overrides,
    });
    const hold = (overrides: Record<string, unknown> = {}) => ({
      node_id: nodeId(),
      name: 'Hold',
      description: 'Holds',
      type: 'hold',
      hold_duration: 30,
      ...overrides,
    });

    it.each([
      [
        'a transfer without a number',
        transfer({ transfer_to: undefined }),
        'transfer_to',
        'The transfer to field is required when type is transfer.',
      ],
      [
        'a local number',
        transfer({ transfer_to: '555-0100' }),
        'transfer_to',
        'The transfer to must be a phone number in E.164 format, such as +14155550100: include the country code, starting with + (such as +14155550100).',
      ],
      [
        'a number with an extension',
        transfer({ transfer_to: '+14155550100 ext 12' }),
        'transfer_to',
        'The transfer to must be a phone number in E.164 format, such as +14155550100: extensions are not allowed; give only the number to dial.',
      ],
      [
        'a url on a transfer',
        transfer({ url: 'https://api.example.com' }),
        'url',
        'The url field is prohibited when type is transfer.',
      ],
      [
        'post_call on a transfer',
        transfer({ execution_mode: 'post_call' }),
        'execution_mode',
        'The execution mode post_call is only valid for external actions.',
      ],
      [
        'a hold without a duration',
        hold({ hold_duration: undefined }),
        'hold_duration',
        'The hold duration field is required when type is hold.',
      ],
      [
        'a hold of 0 seconds',
        hold({ hold_duration: 0 }),
        'hold_duration',
        'The hold duration must be between 1 and 300.',
      ],
      [
        'a hold of 301 seconds',
        hold({ hold_duration: 301 }),
        'hold_duration',
        'The hold duration must be between 1 and 300.',
      ],
      [
        'a fractional hold',
        hold({ hold_duration: 1.5 }),
        'hold_duration',
        'The hold duration must be an integer.',
      ],
      [
        'a scheme on a hold',
        hold({ authorization_scheme: 'bearer' }),
        'authorization_scheme',
        'The authorization scheme field is prohibited when type is hold.',
      ],
    ])('refuses %s', async (_case, body, field, message) => {
      const response = await save(body);
      expect(response.status, response.text).toBe(422);
      expect(response.body.errors).toEqual({ [field]: [message] });
    });

    it('accepts a hold duration given as a string of digits, and a transfer number with spaces, as Laravel would', async () => {
      const held = await save(hold({ hold_duration: '45' }));
      expect(held.status, held.text).toBe(200);
      expect(held.body.data.hold_duration).toBe(45);
      const transferred = await save(transfer({ transfer_to: '+1 415 555 0100' }));
      expect(transferred.body.data.transfer_to).toBe('+14155550100');
    });

    it('reports what the action service finds when it saves, under the request’s field names', async () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ authorization_scheme: 'bearer', secret_id: 'no-such-secret' }, 'secret_id', /No secret with id/],
        [
          { custom_headers: [{ key: 'X-Token', value: '{{secrets.NOPE}}' }] },
          'custom_headers',
          /Unknown placeholders: \{\{secrets\.NOPE\}\}/,
        ],
        [{ url: 'https://api.example.com/{{missing}}' }, 'url', /Unknown placeholders: \{\{missing\}\}/],
        [{ custom_headers: [{ key: 'Host', value: 'x' }] }, 'custom_headers', /set by Switchboard/],
        [{ inputs: [{ name: 'bad name', type: 'string' }] }, 'inputs.0.name', /must start with a letter/],
        [{ inputs: [{ name: 'n', type: 'integer', value: 'many' }] }, 'inputs.0.value', /./],
        [{ speak_on_send: 'Booking {{nothing}}' }, 'speak_on_send', /Unknown placeholders/],
        [{ secrets: { TOKEN: 'no-such-secret' } }, 'secrets.TOKEN', /No secret with id/],
        [{ url: 'http://localhost/hook' }, 'url', /egress guard refuses/],
        [{ authorization_url: 'http://169.254.169.254/token' }, 'authorization_url', /egress guard refuses/],
      ];
      for (const [overrides, field, message] of cases) {
        const response = await save(webhook(overrides));
        expect(response.status, response.text).toBe(422);
        expect(response.body).toMatchObject({ success: false, message: 'The given data was invalid.' });
        expect(Object.keys(response.body.errors), JSON.stringify(overrides)).toEqual([field]);
        expect(response.body.errors[field][0]).toMatch(message);
      }
    });

    it('leaves nothing behind when a request is refused', async () => {
      const agent = await newAgent();
      await save(webhook({ url: 'ftp://x' }), { agent });
      await save(webhook({ authorization_scheme: 'bearer', secret_id: 'no-such-secret' }), { agent });
      const listed = await t.request('GET', actionsPath(agent), { key });
      expect(listed.body.data).toEqual([]);
    });
  });

  describe('create, update by node_id, list, delete, get agent, publish', () => {
    it('updates the agent’s action with the same node_id, replacing its Talkover fields', async () => {
      const agent = await newAgent();
      const node = nodeId();
      const created = await save(
        webhook({
          node_id: node,
          name: 'Look up order',
          inputs: [{ name: 'order_id', type: 'string', required: true }],
          speak_on_send: 'One moment.',
        }),
        { agent },
      );
      expect(created.status).toBe(200);
      const { id } = created.body.data;
      // a setting only the native API has survives the replacement
      await t.request('PATCH', `/v1/actions/${id}`, {
        body: { http: { method: 'POST', url: 'https://api.example.com/hook', timeout_ms: 2500 } },
      });

      const updated = await save(
        webhook({
          node_id: node,
          name: 'Look up an order',
          type: 'external',
          url: 'https://api.example.com/orders',
          custom_headers: [{ key: 'X-Source', value: 'voice' }],
          current_status: 'inactive',
        }),
        { agent },
      );
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body.data).toMatchObject({
        id,
        node_id: node,
        name: 'Look up an order',
        type: 'external',
        execution_mode: 'post_call',
        url: 'https://api.example.com/orders',
        custom_headers: [{ key: 'X-Source', value: 'voice' }],
        authorization_scheme: 'none',
        input_schema: [],
        speak_on_send: null,
        current_status: 'inactive',
        created_at: created.body.data.created_at,
      });
      const native = (await t.request('GET', `/v1/actions/${id}`)).body;
      expect(native).toMatchObject({
        version: 3,
        execution_mode: 'post_call',
        status: 'inactive',
        http: { timeout_ms: 2500 },
      });
      const listed = await t.request('GET', actionsPath(agent), { key });
      expect(listed.body.data.map((a: { id: string }) => a.id)).toEqual([id]);
    });

    it('keeps node ids per agent: the same node_id on two agents makes two actions', async () => {
      const [first, second] = [await newAgent(), await newAgent()];
      const body = webhook();
      const a = (await save(body, { agent: first })).body.data.id;
      const b = (await save({ ...body, name: 'Webhook on another agent' }, { agent: second })).body.data.id;
      expect(a).not.toBe(b);
    });

    it('refuses to change an action’s type between kinds; webhook and external are one kind', async () => {
      const node = nodeId();
      await save(webhook({ node_id: node }));
      const response = await save({
        node_id: node,
        name: 'T',
        description: 'T',
        type: 'hold',
        hold_duration: 5,
      });
      expect(response.status).toBe(422);
      expect(response.body.errors).toEqual({
        type: ['The type cannot change from webhook to hold; delete the action and create it again.'],
      });
      const external = await save(
        webhook({ node_id: node, type: 'external', execution_mode: 'during_call' }),
      );
      expect(external.body.data).toMatchObject({ type: 'external', execution_mode: 'during_call' });
    });

    it('makes one action of concurrent saves with the same node_id', async () => {
      const agent = await newAgent();
      const body = webhook();
      const responses = await Promise.all(
        [1, 2, 3].map((n) => save({ ...body, description: `Save ${n}` }, { agent })),
      );
      for (const response of responses) expect(response.status, response.text).toBe(200);
      const listed = await t.request('GET', actionsPath(agent), { key });
      expect(listed.body.data).toHaveLength(1);
      expect(new Set(responses.map((r) => r.body.data.id))).toEqual(new Set([listed.body.data[0].id]));
    });

    it('lists the agent’s actions in its order, including ones added through the native API', async () => {
      const agent = await newAgent();
      const a = (await save(webhook(), { agent })).body.data.id;
      const b = (await save(fixture('create-hold.request'), { agent })).body.data.id;
      const code = await t.request('POST', '/v1/actions', {
        body: { name: `Native ${nodeId()}`, description: 'code', kind: 'code', code: { source: 'return 1' } },
      });
      await t.request('PATCH', `/v1/agents/${agent}`, { body: { action_ids: [a, b, code.body.id] } });
      const listed = await t.request('GET', actionsPath(agent), { key });
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({ success: true, message: 'Agent actions retrieved successfully' });
      expect(listed.body.data.map((x: { id: string; type: string }) => [x.id, x.type])).toEqual([
        [a, 'webhook'],
        [b, 'hold'],
        [code.body.id, 'code'],
      ]);
      expect(listed.body.data[2]).toMatchObject({ node_id: null, url: null });
      expect((await t.request('GET', actionsPath(await newAgent()), { key })).body.data).toEqual([]);
    });

    it('deletes an agent’s action: 200, then gone from the agent and the native API; 404 after', async () => {
      const agent = await newAgent();
      const id = (await save(webhook(), { agent })).body.data.id;
      const response = await t.request('DELETE', `${actionsPath(agent)}/${id}`, { key });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        success: true,
        message: 'Agent action deleted successfully',
        data: { id },
      });
      expect((await t.request('GET', actionsPath(agent), { key })).body.data).toEqual([]);
      expect((await t.request('GET', `/v1/actions/${id}`)).status).toBe(404);
      const again = await t.request('DELETE', `${actionsPath(agent)}/${id}`, { key });
      expect(again.status).toBe(404);
      expect(again.body).toEqual({ success: false, message: 'Action not found' });
    });

    it('refuses to delete an action the agent does not list', async () => {
      const other = (await save(webhook(), { agent: await newAgent() })).body.data.id;
      const response = await t.request('DELETE', `${actionsPath()}/${other}`, { key });
      expect(response.status).toBe(404);
      expect((await t.request('GET', `/v1/actions/${other}`)).status).toBe(200);
    });

    it('puts the agent back to draft after each create, update and delete; publish makes it published', async () => {
      const agent = await newAgent();
      const body = webhook();
      const publish = () => t.request('POST', `/api/v1/agents/${agent}/publish`, { key });

      const id = (await save(body, { agent })).body.data.id;
      expect(await agentStatus(agent)).toBe('draft');
      const published = await publish();
      expect(published.status, published.text).toBe(200);
      expect(published.body).toMatchObject({
        success: true,
        message: 'Agent published successfully',
        data: { id: agent, status: 'published', published_version: 1, actions: [{ id }] },
      });

      await save({ ...body, description: 'Changed' }, { agent });
      expect(await agentStatus(agent)).toBe('draft');
      expect((await publish()).body.data).toMatchObject({ status: 'published', published_version: 2 });

      await save(webhook(), { agent });
      expect(await agentStatus(agent)).toBe('draft');
      expect((await publish()).body.data.published_version).toBe(3);

      await t.request('DELETE', `${actionsPath(agent)}/${id}`, { key });
      const got = await t.request('GET', `/api/v1/agents/${agent}`, { key });
      expect(got.body).toMatchObject({
        success: true,
        message: 'Agent retrieved successfully',
        data: { id: agent, name: 'Voice agent', status: 'draft', published_version: 3 },
      });
      expect(got.body.data.actions).toHaveLength(1);
    });

    it('refuses to publish an agent with an inactive action (409), saying what to do', async () => {
      const agent = await newAgent();
      await save(webhook({ current_status: 'inactive' }), { agent });
      const response = await t.request('POST', `/api/v1/agents/${agent}/publish`, { key });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ success: false, message: expect.stringMatching(/is inactive/) });
    });

    it('joins the integration integration.id names, when it is one of the organization’s', async () => {
      const integration = await t.request('POST', '/v1/integrations', {
        body: { name: `CRM ${nodeId()}`, base_url: 'https://crm.example.com' },
      });
      const id = (await save(webhook({ integration: { id: integration.body.id } }))).body.data.id;
      const native = (await t.request('GET', `/v1/actions/${id}`)).body;
      expect(native.integration_id).toBe(integration.body.id);
      expect(native.tags.some((tag: string) => tag.startsWith('talkover-integration:'))).toBe(false);
    });
  });

  describe('actions created here run through the native execute route', () => {
    it('runs a webhook against the upstream: inputs as the JSON body, bearer secret, custom headers', async () => {
      const secret = await t.request('POST', '/v1/secrets', {
        body: { name: `TOKEN_${counter}`, value: TOKEN },
      });
      upstream.setHandler((req, res) => {
        if (req.url !== '/schedule') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ booked: true, ...JSON.parse(req.body.toString()) }));
        return true;
      });
      const created = await save(
        webhook({
          url: `${upstream.url}/schedule`,
          authorization_scheme: 'bearer',
          secret_id: secret.body.id,
          custom_headers: [{ key: 'X-Source', value: 'talkover' }],
          inputs: fixture('create-webhook.request').inputs,
          speak_on_receive: 'Booked for {{date}} at {{time}}.',
        }),
      );
      expect(created.status, created.text).toBe(200);
      const run = await t.request('POST', `/v1/actions/${created.body.data.id}/execute`, {
        key,
        body: { inputs: { date: '2025-06-01', time: '10:30' } },
      });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({
        status: 'succeeded',
        output: { booked: true, date: '2025-06-01', time: '10:30' },
        speak_on_receive: 'Booked for 2025-06-01 at 10:30.',
      });
      const seen = upstream.requests.at(-1)!;
      expect(seen).toMatchObject({ method: 'POST', path: '/schedule' });
      expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(seen.headers['x-source']).toBe('talkover');
      expect(JSON.parse(seen.body.toString())).toEqual({ date: '2025-06-01', time: '10:30' });
      expect(run.text).not.toContain(TOKEN);
    });

    it('runs a webhook whose authorization_url issues the token, called with secret_id', async () => {
      const secret = await t.request('POST', '/v1/secrets', {
        body: { name: `AUTH_${counter}`, value: AUTH_KEY },
      });
      upstream.setHandler((req, res) => {
        if (req.url === '/auth') {
          const allowed = req.headers.authorization === `Bearer ${AUTH_KEY}`;
          res.writeHead(allowed ? 200 : 401, { 'content-type': 'application/json' });
          res.end(JSON.stringify(allowed ? { access_token: TOKEN } : {}));
          return true;
        }
        if (req.url !== '/schedule') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ authorized: req.headers.authorization === `Bearer ${TOKEN}` }));
        return true;
      });
      const created = await save(
        webhook({
          url: `${upstream.url}/schedule`,
          authorization_url: `${upstream.url}/auth`,
          authorization_scheme: 'bearer',
          secret_id: secret.body.id,
        }),
      );
      expect(created.body.data).toMatchObject({
        authorization_scheme: 'bearer',
        authorization_url: `${upstream.url}/auth`,
      });
      const run = await t.request('POST', `/v1/actions/${created.body.data.id}/execute`, { key, body: {} });
      expect(run.body).toMatchObject({ status: 'succeeded', output: { authorized: true } });
      expect(upstream.requests.map((r) => r.path)).toEqual(['/auth', '/schedule']);
    });

    it('runs Talkover’s transfer example: it returns its directive', async () => {
      const created = await save(fixture('create-transfer.request'), { agent: await newAgent() });
      const run = await t.request('POST', `/v1/actions/${created.body.data.id}/execute`, {
        key,
        body: { inputs: { transfer_to: '+1234567890' } },
      });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({
        status: 'succeeded',
        output: { directive: { type: 'transfer', destination: '+1234567890' } },
      });
      expect(upstream.requests).toHaveLength(0);
    });

    it('runs Talkover’s hold example: it returns its directive', async () => {
      const created = await save(fixture('create-hold.request'), { agent: await newAgent() });
      const run = await t.request('POST', `/v1/actions/${created.body.data.id}/execute`, {
        key,
        body: { inputs: { hold_duration: 30 } },
      });
      expect(run.body).toMatchObject({
        status: 'succeeded',
        output: { directive: { type: 'hold', seconds: 30 } },
      });
    });

    it('queues an external action called in a conversation until the conversation ends', async () => {
      const created = await save(webhook({ type: 'external', url: `${upstream.url}/echo` }));
      expect(created.body.data).toMatchObject({ type: 'external', execution_mode: 'post_call' });
      const run = await t.request('POST', `/v1/actions/${created.body.data.id}/execute`, {
        key,
        body: { inputs: {}, context: { conversation_id: `conv-${counter}` } },
      });
      expect(run.body.status).toBe('queued');
      expect(upstream.requests).toHaveLength(0);
    });
  });
});
