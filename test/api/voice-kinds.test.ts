/**
 * Voice actions through the API, on both stores: transfer and hold directives (allowed destinations,
 * the hold cap), a webhook whose token comes from an authorization URL on a loopback upstream, spoken
 * messages in the execute response, post_call actions run directly, and the save-time refusals.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const AUTH_KEY = 'auth-canary-3f9a1c7e5b2d8f4a6c0e9b1d3f5a7c';
const TENANT = 'tenant-canary-8e2c4a6f1b3d5e7a9c0b2d4f6a8e';
const TOKEN = 'issued-jwt-5d7f9b1c3e5a7d9f1b3c5e7a9d1f';
const DESK = '+14155550100';
const SALES = '+442079460958';

describe.each(STORE_KINDS)('voice kinds on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let authKeyId: string;
  let tenantId: string;

  const create = (body: Record<string, unknown>) =>
    t.request('POST', '/v1/actions', {
      body: { name: `Voice ${Math.random()}`, description: 'a voice action', ...body },
    });

  async function created(body: Record<string, unknown>): Promise<string> {
    const response = await create(body);
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body.id as string;
  }

  const execute = (id: string, body: Record<string, unknown> = {}) =>
    t.request('POST', `/v1/actions/${id}/execute`, { body });

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
    authKeyId = (await t.request('POST', '/v1/secrets', { body: { name: 'AUTH_KEY', value: AUTH_KEY } })).body
      .id;
    tenantId = (await t.request('POST', '/v1/secrets', { body: { name: 'TENANT', value: TENANT } })).body.id;
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.setHandler(undefined);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  describe('transfer', () => {
    it('returns a directive to a fixed destination, stored in E.164', async () => {
      const response = await create({ kind: 'transfer', transfer: { destination: '+1 (415) 555-0100' } });
      expect(response.status).toBe(201);
      expect(response.body.transfer).toEqual({ destination: DESK, allowed_destinations: [], announce: null });
      const run = await execute(response.body.id);
      expect(run.body).toMatchObject({
        status: 'succeeded',
        output: { directive: { type: 'transfer', destination: DESK } },
        error: null,
      });
      expect(upstream.requests).toHaveLength(0);
    });

    it('lets the agent choose only among the allowed destinations', async () => {
      const id = await created({
        kind: 'transfer',
        variables: [
          { name: 'transfer_to', type: 'string', required: true, description: 'Who to transfer to' },
        ],
        transfer: {
          destination: '{{transfer_to}}',
          allowed_destinations: [DESK, '+44 20 7946 0958'],
          announce: 'Transferring a caller who asked for {{transfer_to}}',
        },
      });
      const view = await t.request('GET', `/v1/actions/${id}`);
      expect(view.body.input_schema.properties.transfer_to.enum).toEqual([DESK, SALES]);

      const ok = await execute(id, { inputs: { transfer_to: '+44 (20) 7946-0958' } });
      expect(ok.body).toMatchObject({
        status: 'succeeded',
        output: {
          directive: {
            type: 'transfer',
            destination: SALES,
            announce: 'Transferring a caller who asked for +44 (20) 7946-0958',
          },
        },
      });

      const premium = await execute(id, { inputs: { transfer_to: '+1 900 555 0100' } });
      expect(premium.body).toMatchObject({
        status: 'failed',
        output: null,
        error: { category: 'blocked', message: "I'm not allowed to transfer calls to that number." },
      });

      for (const smuggled of [`${DESK};ext=1`, `${DESK},,9`, `tel:${DESK}`, '＋１４１５５５５０１００']) {
        const refused = await execute(id, { inputs: { transfer_to: smuggled } });
        expect(refused.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
        expect(refused.body.error.message).toMatch(/^That number can't be used for a transfer: /);
      }
    });

    it('refuses a destination that a phone variable cannot hold before the kind runs', async () => {
      const id = await created({
        kind: 'transfer',
        variables: [{ name: 'transfer_to', type: 'phone', required: true }],
        transfer: { destination: '{{transfer_to}}', allowed_destinations: [DESK] },
      });
      expect((await execute(id, { inputs: { transfer_to: `sip:${DESK}@pbx.example` } })).body).toMatchObject({
        status: 'failed',
        error: { category: 'invalid_input' },
      });
      expect((await execute(id, { inputs: { transfer_to: '+1 415 555 0100' } })).body.output).toEqual({
        directive: { type: 'transfer', destination: DESK },
      });
    });
  });

  describe('hold', () => {
    it('returns a directive for a fixed number of seconds', async () => {
      const id = await created({ kind: 'hold', hold: { seconds: 30 } });
      expect((await execute(id)).body).toMatchObject({
        status: 'succeeded',
        output: { directive: { type: 'hold', seconds: 30 } },
      });
    });

    it('takes the seconds from an input, cut to the 300-second cap, and refuses zero', async () => {
      const id = await created({
        kind: 'hold',
        variables: [{ name: 'hold_duration', type: 'integer', required: true }],
        hold: { seconds: '{{hold_duration}}' },
      });
      const view = await t.request('GET', `/v1/actions/${id}`);
      expect(view.body.input_schema.properties.hold_duration).toMatchObject({ minimum: 1, maximum: 300 });
      expect((await execute(id, { inputs: { hold_duration: 45 } })).body.output).toEqual({
        directive: { type: 'hold', seconds: 45 },
      });
      const long = await execute(id, { inputs: { hold_duration: 86_400 } });
      expect(long.body).toMatchObject({
        status: 'succeeded',
        output: { directive: { type: 'hold', seconds: 300 } },
        extra: { requested_seconds: 86_400, capped_at: 300 },
      });
      const zero = await execute(id, { inputs: { hold_duration: 0 } });
      expect(zero.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
      expect(zero.body.error.message).toContain('from 1 to 300');
    });
  });

  describe('spoken messages', () => {
    it('renders speak_on_send with the inputs and speak_on_receive with the response’s fields', async () => {
      upstream.setHandler((req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ order: { id: req.url?.split('/').at(-1), status: 'shipped', eta: null } }));
        return true;
      });
      const id = await created({
        kind: 'http',
        variables: [{ name: 'order_id', type: 'string', required: true }],
        http: { method: 'GET', url: `${upstream.url}/orders/{{order_id}}` },
        speak_on_send: 'Let me look up order {{order_id}}.',
        speak_on_receive: 'Order {{order.id}} is {{order.status}}.',
      });
      const run = await execute(id, { inputs: { order_id: 'A17' } });
      expect(run.body).toMatchObject({
        status: 'succeeded',
        speak_on_send: 'Let me look up order A17.',
        speak_on_receive: 'Order A17 is shipped.',
      });
      expect(run.body).not.toHaveProperty('speech_omitted');
      const record = await t.request('GET', `/v1/executions/${run.body.id}`);
      expect(record.body.speak_on_receive).toBe('Order A17 is shipped.');
    });

    it('omits a message whose placeholder has nothing to say, and records why', async () => {
      upstream.setHandler((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"order":{"eta":null}}');
        return true;
      });
      const id = await created({
        kind: 'http',
        variables: [{ name: 'note', type: 'string' }],
        http: { method: 'GET', url: `${upstream.url}/orders/1` },
        speak_on_send: 'One moment: {{note}}',
        speak_on_receive: 'It arrives {{order.eta}}, tracking {{order.tracking}}.',
      });
      const run = await execute(id);
      expect(run.body).toMatchObject({ status: 'succeeded', speak_on_send: null, speak_on_receive: null });
      expect(run.body.speech_omitted.speak_on_send).toContain('{{note}}');
      expect(run.body.speech_omitted.speak_on_receive).toContain('{{order.eta}}');
      const record = await t.request('GET', `/v1/executions/${run.body.id}`);
      expect(record.body.speech_omitted).toEqual(run.body.speech_omitted);
    });

    it('says nothing on receive after a failure, and reaches into a transfer’s directive', async () => {
      const failing = await created({
        kind: 'http',
        http: { method: 'GET', url: `${upstream.url}/status/404` },
        speak_on_send: 'Checking.',
        speak_on_receive: 'Done.',
      });
      const failed = await execute(failing);
      expect(failed.body).toMatchObject({
        status: 'failed',
        speak_on_send: 'Checking.',
        speak_on_receive: null,
      });

      const transfer = await created({
        kind: 'transfer',
        transfer: { destination: DESK },
        speak_on_receive: 'Connecting you to {{directive.destination}} now.',
      });
      expect((await execute(transfer)).body.speak_on_receive).toBe(`Connecting you to ${DESK} now.`);
    });
  });

  describe('webhook auth from an authorization URL', () => {
    it('fetches the token once with the secret, sends it with custom headers, and refreshes it after a 401', async () => {
      let issued = 0;
      let rejectNext = false;
      upstream.setHandler((req, res) => {
        if (req.url === '/auth') {
          const ok = req.method === 'POST' && req.headers.authorization === `Bearer ${AUTH_KEY}`;
          if (ok) issued++;
          res
            .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
            .end(JSON.stringify(ok ? { data: { jwt: `${TOKEN}${issued}` }, expires_in: 600 } : {}));
          return true;
        }
        if (req.url === '/schedule') {
          const fresh = req.headers.authorization === `Bearer ${TOKEN}${issued}`;
          const status = rejectNext || !fresh ? 401 : 200;
          rejectNext = false;
          res.writeHead(status, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              scheduled: status === 200,
              tenant: req.headers['x-tenant'],
              date: JSON.parse(req.body.toString() || '{}').date,
            }),
          );
          return true;
        }
        return false;
      });
      const id = await created({
        kind: 'http',
        variables: [{ name: 'date', type: 'string', required: true }],
        secrets: { TENANT: tenantId },
        http: {
          method: 'POST',
          url: `${upstream.url}/schedule`,
          headers: { 'X-Tenant': '{{secrets.TENANT}}', 'X-Source': 'voice' },
          body: { date: '{{date}}' },
          auth: {
            type: 'token_url',
            url: `${upstream.url}/auth`,
            secret_id: authKeyId,
            token_path: 'data.jwt',
          },
        },
        speak_on_receive: 'Booked for {{date}}.',
      });
      const first = await execute(id, { inputs: { date: '2025-06-01' } });
      expect(first.body).toMatchObject({
        status: 'succeeded',
        output: { scheduled: true, date: '2025-06-01' },
        speak_on_receive: 'Booked for 2025-06-01.',
      });
      expect(first.body.output.tenant).toBe('[REDACTED:TENANT]');
      const call = upstream.requests.find((r) => r.path === '/schedule')!;
      expect(call.headers['x-tenant']).toBe(TENANT);
      expect(call.headers['x-source']).toBe('voice');

      expect((await execute(id, { inputs: { date: '2025-06-02' } })).body.status).toBe('succeeded');
      expect(issued).toBe(1);
      rejectNext = true; // the token was revoked early
      expect((await execute(id, { inputs: { date: '2025-06-03' } })).body.status).toBe('succeeded');
      expect(issued).toBe(2);

      const record = await t.request('GET', `/v1/executions/${first.body.id}`);
      expect(record.body.request.headers.Authorization).toMatch(/REDACTED/);
      for (const text of [first.text, record.text]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(AUTH_KEY);
        expect(text).not.toContain(TENANT);
      }
    });

    it('fails as unauthorized when the authorization URL refuses, without calling the webhook', async () => {
      upstream.setHandler((req, res) => {
        if (req.url !== '/auth') return false;
        res.writeHead(403, { 'content-type': 'application/json' }).end('{}');
        return true;
      });
      const id = await created({
        kind: 'http',
        http: {
          method: 'POST',
          url: `${upstream.url}/echo`,
          auth: { type: 'token_url', url: `${upstream.url}/auth` },
        },
      });
      const run = await execute(id);
      expect(run.body).toMatchObject({ status: 'failed', error: { category: 'unauthorized' } });
      expect(run.body.error.detail).toContain('HTTP 403');
      expect(upstream.requests.map((r) => r.path)).toEqual(['/auth']);
    });
  });

  it('runs a post_call action called directly (no conversation) synchronously', async () => {
    const id = await created({
      kind: 'http',
      execution_mode: 'post_call',
      http: { method: 'POST', url: `${upstream.url}/echo`, body: { summary: 'call ended' } },
    });
    const run = await execute(id);
    expect(run.body).toMatchObject({ status: 'succeeded', output: { method: 'POST' } });
    expect(upstream.requests).toHaveLength(1);
  });

  describe('save-time refusals', () => {
    it.each([
      [
        'a templated transfer without allowed destinations',
        {
          kind: 'transfer',
          variables: [{ name: 'transfer_to', type: 'phone' }],
          transfer: { destination: '{{transfer_to}}' },
        },
        'allowed_destinations',
      ],
      [
        'an allowed destination with an extension',
        {
          kind: 'transfer',
          variables: [{ name: 'transfer_to', type: 'phone' }],
          transfer: { destination: '{{transfer_to}}', allowed_destinations: [`${DESK} x12`] },
        },
        'extensions',
      ],
      [
        'a transfer run after the call',
        { kind: 'transfer', execution_mode: 'post_call', transfer: { destination: DESK } },
        'execution_mode',
      ],
      ['a hold over the cap', { kind: 'hold', hold: { seconds: 301 } }, 'seconds'],
      [
        'hold seconds from a text variable',
        { kind: 'hold', variables: [{ name: 'wait', type: 'string' }], hold: { seconds: '{{wait}}' } },
        'type integer',
      ],
      [
        'a secret in speak_on_send',
        {
          kind: 'hold',
          hold: { seconds: 10 },
          secrets: { TENANT: 'unused' },
          speak_on_send: 'Your code is {{secrets.TENANT}}',
        },
        '{{secrets.TENANT}}',
      ],
      [
        'an unknown placeholder in speak_on_send',
        { kind: 'hold', hold: { seconds: 10 }, speak_on_send: 'Hold on, {{caller_name}}' },
        '{{caller_name}}',
      ],
      [
        'a path a hold’s output does not have in speak_on_receive',
        { kind: 'hold', hold: { seconds: 10 }, speak_on_receive: 'Back after {{directive.minutes}} minutes' },
        '{{directive.minutes}}',
      ],
      [
        'a path outside an http action’s selected fields',
        {
          kind: 'http',
          http: { method: 'GET', url: 'https://api.example.com/o', response: { select: ['order.status'] } },
          speak_on_receive: 'It costs {{order.total}}',
        },
        '{{order.total}}',
      ],
      [
        'a password input in speak_on_receive',
        {
          kind: 'hold',
          variables: [{ name: 'pin', type: 'string', widget: 'password' }],
          hold: { seconds: 10 },
          speak_on_receive: 'Your PIN {{pin}} is set',
        },
        'password',
      ],
      [
        'a token_url auth with a placeholder in its URL',
        {
          kind: 'http',
          http: {
            method: 'GET',
            url: 'https://api.example.com/o',
            auth: { type: 'token_url', url: 'https://auth.example.com/{{tenant}}' },
          },
        },
        'placeholders',
      ],
    ])('refuses %s with a 400 naming it', async (_name, body, named) => {
      const response = await create(body);
      expect(response.status).toBe(400);
      expect(JSON.stringify(response.body.error)).toContain(named);
    });
  });

  it('documents the voice kinds in a valid OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).body;
    await SwaggerParser.validate(structuredClone(doc));
    const create = doc.paths['/v1/actions'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(['transfer', 'hold']));
    const execute = doc.paths['/v1/actions/{id}/execute'].post.responses['200'];
    expect(JSON.stringify(execute)).toContain('speak_on_receive');
  });
});
