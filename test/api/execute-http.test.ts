/**
 * Executing http actions against real upstream servers on loopback (127.0.0.2 allow-listed, the guard on
 * for everything else), on both stores.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUuidV7Generator } from '../../src/adapters/crypto/node-crypto.ts';
import { startRetention } from '../../src/app/executions/retention.ts';
import { secretForms } from '../../src/core/redaction.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** One canary per auth type (docs/security.md, "Test harness"): 40 characters that appear nowhere else. */
const CANARY = {
  bearer: 'bearer-canary-a1b2c3d4e5f6a7b8c9d0e1f2a3',
  basic: 'basic-canary-b1c2d3e4f5a6b7c8d9e0f1a2b3c',
  header: 'header-canary-c1d2e3f4a5b6c7d8e9f0a1b2c3',
  query: 'query-canary-d1e2f3a4b5c6d7e8f9a0b1c2d3e',
  body: 'body-canary-e1f2a3b4c5d6e7f8a9b0c1d2e3f4',
  custom: 'custom-canary-f1a2b3c4d5e6f7a8b9c0d1e2f3',
  oauth: 'oauth-canary-a9b8c7d6e5f4a3b2c1d0e9f8a7',
};
const TOKEN = 'issued-token-0f1e2d3c4b5a69788796a5b4c3d2';

describe.each(STORE_KINDS)('executing http actions on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let other: Upstream;
  const responses: string[] = [];
  const secretIds: Record<string, string> = {};

  async function action(http: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
    const response = await t.request('POST', '/v1/actions', {
      body: { name: `Action ${Math.random()}`, description: 'test action', kind: 'http', http, ...extra },
    });
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body.id as string;
  }

  async function execute(
    id: string,
    body: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    const response = await t.request('POST', `/v1/actions/${id}/execute`, { body, headers });
    responses.push(response.text);
    return response;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    other = await startUpstream({ host: '127.0.0.3' });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2,127.0.0.3',
      SWITCHBOARD_EGRESS_CONNECT_TIMEOUT_MS: '1000',
    });
    for (const [name, value] of Object.entries(CANARY)) {
      const created = await t.request('POST', '/v1/secrets', { body: { name: name.toUpperCase(), value } });
      secretIds[name] = created.body.id;
    }
  });
  beforeEach(() => {
    upstream.requests.length = 0;
    upstream.setHandler(undefined);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
    await other.close();
  });

  it('runs the contract example: templates, bearer auth, JSON body, recorded and readable', async () => {
    const id = await action(
      {
        method: 'POST',
        url: `${upstream.url}/echo/orders/{{order_id}}`,
        query: { include: 'tracking' },
        headers: { 'X-Source': 'agent' },
        body: { id: '{{order_id}}', note: 'order {{order_id}}', count: '{{count}}' },
        auth: { type: 'bearer', secret_id: secretIds.bearer },
      },
      {
        variables: [
          { name: 'order_id', type: 'string', required: true },
          { name: 'count', type: 'integer' },
        ],
      },
    );
    const response = await execute(id, { inputs: { order_id: 'ORD-1', count: '42' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: expect.any(String),
      status: 'succeeded',
      action_version: 1,
      attempts: 1,
      error: null,
    });
    const seen = upstream.requests.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/echo/orders/ORD-1?include=tracking');
    expect(seen.headers.authorization).toBe(`Bearer ${CANARY.bearer}`);
    expect(seen.headers['x-source']).toBe('agent');
    expect(JSON.parse(seen.body.toString())).toEqual({ id: 'ORD-1', note: 'order ORD-1', count: 42 });
    expect(response.body.output).toMatchObject({ method: 'POST' });
    expect(response.body).not.toHaveProperty('request'); // the agent gets the summary
    const read = await t.request('GET', `/v1/executions/${response.body.id}`);
    expect(read.body).toMatchObject(response.body);
    expect(read.body.request.headers.Authorization).toBe('Bearer [REDACTED:BEARER]');
    expect(read.body.response).toMatchObject({
      status: 200,
      headers: { 'content-type': expect.stringContaining('json') },
    });
  });

  it.each([
    [
      'basic',
      () => ({ type: 'basic', username: 'agent', secret_id: secretIds.basic }),
      (r: any) =>
        expect(r.headers.authorization).toBe(
          `Basic ${Buffer.from(`agent:${CANARY.basic}`).toString('base64')}`,
        ),
    ],
    [
      'api key in a header',
      () => ({ type: 'api_key', in: 'header', name: 'X-Api-Key', secret_id: secretIds.header }),
      (r: any) => expect(r.headers['x-api-key']).toBe(CANARY.header),
    ],
    [
      'api key in the query',
      () => ({ type: 'api_key', in: 'query', name: 'api_key', secret_id: secretIds.query }),
      (r: any) => expect(r.path).toContain(`api_key=${CANARY.query}`),
    ],
    [
      'a body value',
      () => ({ type: 'body', field: 'api_key', secret_id: secretIds.body }),
      (r: any) => expect(JSON.parse(r.body.toString()).api_key).toBe(CANARY.body),
    ],
  ])('authenticates with %s, and records it redacted', async (_name, auth, check) => {
    const id = await action({
      method: 'POST',
      url: `${upstream.url}/echo`,
      body: { hello: 'world' },
      auth: auth(),
    });
    const response = await execute(id);
    expect(response.body.status).toBe('succeeded');
    check(upstream.requests.at(-1));
    const record = await t.request('GET', `/v1/executions/${response.body.id}`);
    expect(JSON.stringify(record.body.request)).toContain('[REDACTED:');
  });

  it('puts a secret in a custom header by name, from the action’s declared secrets', async () => {
    const id = await action(
      { method: 'GET', url: `${upstream.url}/echo`, headers: { 'X-Custom': 'key={{secrets.CUSTOM}}' } },
      { secrets: { CUSTOM: secretIds.custom } },
    );
    const response = await execute(id);
    expect(upstream.requests.at(-1)!.headers['x-custom']).toBe(`key=${CANARY.custom}`);
    expect(
      (await t.request('GET', `/v1/executions/${response.body.id}`)).body.request.headers['X-Custom'],
    ).toBe('key=[REDACTED:CUSTOM]');
    expect(response.body.output.headers['x-custom']).toBe('key=[REDACTED:CUSTOM]'); // the upstream echoed it back
  });

  it('records a marker wherever a secret or a password input went: query, body, form and header', async () => {
    const variables = [
      { name: 'pin', type: 'string', widget: 'password' },
      { name: 'who', type: 'string' },
    ];
    const secrets = { secrets: { CUSTOM: secretIds.custom } };
    const json = await action(
      {
        method: 'POST',
        url: `${upstream.url}/echo/{{pin}}`,
        query: { key: '{{secrets.CUSTOM}}', who: '{{who}}' },
        headers: { 'X-Pin': 'pin {{pin}}' },
        body: { token: '{{secrets.CUSTOM}}', nested: { pin: '{{pin}}', note: 'pin is {{pin}}' } },
        auth: { type: 'api_key', in: 'query', name: 'api_key', secret_id: secretIds.query },
      },
      { variables, ...secrets },
    );
    const sent = await execute(json, { inputs: { pin: '4321-8765', who: 'ada' } });
    expect(sent.body.status).toBe('succeeded');
    const seen = upstream.requests.at(-1)!;
    expect(seen.path).toBe(`/echo/4321-8765?key=${CANARY.custom}&who=ada&api_key=${CANARY.query}`);
    expect(JSON.parse(seen.body.toString())).toEqual({
      token: CANARY.custom,
      nested: { pin: '4321-8765', note: 'pin is 4321-8765' },
    });
    const recorded = (await t.request('GET', `/v1/executions/${sent.body.id}`)).body.request;
    expect(recorded.url).toBe(
      `${upstream.url}/echo/[REDACTED:input pin]?key=[REDACTED:CUSTOM]&who=ada&api_key=[REDACTED:QUERY]`,
    );
    expect(recorded.headers['X-Pin']).toBe('pin [REDACTED:input pin]');
    expect(JSON.parse(recorded.body)).toEqual({
      token: '[REDACTED:CUSTOM]',
      nested: { pin: '[REDACTED:input pin]', note: 'pin is [REDACTED:input pin]' },
    });

    const form = await action(
      {
        method: 'POST',
        url: `${upstream.url}/echo`,
        body_type: 'form',
        body: { key: '{{secrets.CUSTOM}}', pin: '{{pin}}', who: '{{who}}' },
        auth: { type: 'body', field: 'api_key', secret_id: secretIds.body },
      },
      { variables, ...secrets },
    );
    const posted = await execute(form, { inputs: { pin: '4321-8765', who: 'a b' } });
    expect(upstream.requests.at(-1)!.body.toString()).toBe(
      `key=${CANARY.custom}&pin=4321-8765&who=a+b&api_key=${CANARY.body}`,
    );
    expect((await t.request('GET', `/v1/executions/${posted.body.id}`)).body.request.body).toBe(
      'key=[REDACTED:CUSTOM]&pin=[REDACTED:input pin]&who=a+b&api_key=[REDACTED:BODY]',
    );
  });

  it('fetches an OAuth2 client-credentials token once, caches it, and refreshes it once after a 401', async () => {
    let issued = 0;
    let rejectNext = false;
    upstream.setHandler((req, res) => {
      if (req.url === '/token') {
        issued++;
        const form = new URLSearchParams(req.body.toString());
        const ok =
          form.get('client_secret') === CANARY.oauth &&
          form.get('grant_type') === 'client_credentials' &&
          form.get('scope') === 'orders:read';
        res
          .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
          .end(
            JSON.stringify(
              ok ? { access_token: `${TOKEN}${issued}`, expires_in: 3600 } : { error: 'invalid_client' },
            ),
          );
        return true;
      }
      if (req.url === '/api') {
        const fresh = req.headers.authorization === `Bearer ${TOKEN}${issued}`;
        const status = rejectNext || !fresh ? 401 : 200;
        rejectNext = false;
        res
          .writeHead(status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: status === 200 }));
        return true;
      }
      return false;
    });
    const id = await action({
      method: 'GET',
      url: `${upstream.url}/api`,
      auth: {
        type: 'oauth2_client_credentials',
        token_url: `${upstream.url}/token`,
        client_id: 'switchboard',
        secret_id: secretIds.oauth,
        scopes: ['orders:read'],
      },
    });
    expect((await execute(id)).body.status).toBe('succeeded');
    expect((await execute(id)).body.status).toBe('succeeded');
    expect(issued).toBe(1);
    rejectNext = true; // the API revokes the cached token early
    const refreshed = await execute(id);
    expect(refreshed.body.status).toBe('succeeded');
    expect(issued).toBe(2);
    expect(JSON.stringify(refreshed.body)).not.toContain(TOKEN);
  });

  describe('secrets stay on their hosts (docs/security.md G-03)', () => {
    it('refuses to send a secret to a host outside its allowed_hosts', async () => {
      const bound = await t.request('POST', '/v1/secrets', {
        body: { name: 'BOUND', value: 'bound-secret-value-1234567890', allowed_hosts: ['api.example.com'] },
      });
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/echo`,
        auth: { type: 'bearer', secret_id: bound.body.id },
      });
      const response = await execute(id);
      expect(response.body).toMatchObject({ status: 'failed', error: { category: 'blocked' } });
      expect(response.body.error.detail).toContain('BOUND');
      expect(upstream.requests).toHaveLength(0);
    });

    it('follows a redirect on the same host with the secret, and refuses one that would carry it elsewhere', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/redirect?to=${encodeURIComponent(`${upstream.url}/echo`)}`,
        auth: { type: 'bearer', secret_id: secretIds.bearer },
      });
      expect((await execute(id)).body.status).toBe('succeeded');
      const away = await action(
        {
          method: 'GET',
          url: `${upstream.url}/redirect?to=${encodeURIComponent(`${other.url}/echo`)}`,
          headers: { 'X-Key': '{{secrets.CUSTOM}}' },
        },
        { secrets: { CUSTOM: secretIds.custom } },
      );
      const response = await execute(away);
      expect(response.body).toMatchObject({ status: 'failed', error: { category: 'blocked' } });
      expect(other.requests).toHaveLength(0);
    });
  });

  describe('templates keep their structure end to end (docs/security.md B01–B09)', () => {
    let id: string;
    beforeAll(async () => {
      id = await action(
        {
          method: 'POST',
          url: `${upstream.url}/echo/v1/users/{{user_id}}?q={{q}}&limit=10`,
          headers: { 'X-Customer': '{{name}}' },
          body: { name: '{{name}}', role: 'user' },
        },
        {
          variables: [
            { name: 'user_id', type: 'string', required: true },
            { name: 'q', type: 'string' },
            { name: 'name', type: 'string' },
          ],
        },
      );
    });

    it('B01 + B06: traversal and query smuggling stay inside their segment and value', async () => {
      await execute(id, {
        inputs: { user_id: '../../admin/users', q: 'shoes&limit=100000&admin=true', name: 'n' },
      });
      const seen = upstream.requests.at(-1)!;
      expect(seen.path).toBe(
        '/echo/v1/users/..%2F..%2Fadmin%2Fusers?q=shoes%26limit%3D100000%26admin%3Dtrue&limit=10',
      );
    });

    it('B03: a header value with CRLF fails the execution before anything is sent', async () => {
      const response = await execute(id, { inputs: { user_id: '1', name: 'acme\r\nX-Admin: true' } });
      expect(response.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
      expect(upstream.requests).toHaveLength(0);
    });

    it('B04: a value cannot add JSON keys', async () => {
      await execute(id, { inputs: { user_id: '1', name: 'x","role":"admin' } });
      expect(JSON.parse(upstream.requests.at(-1)!.body.toString())).toEqual({
        name: 'x","role":"admin',
        role: 'user',
      });
    });

    it('B09: undeclared arguments are refused with a message naming them', async () => {
      const response = await execute(id, {
        inputs: { user_id: '1', url: 'http://evil.example', headers: { a: 1 } },
      });
      expect(response.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
      expect(response.body.error.message).toMatch(/url/);
      expect(upstream.requests).toHaveLength(0);
    });

    it('a required input that is missing is named so the agent can ask for it', async () => {
      const response = await execute(id, { inputs: {} });
      expect(response.body.error.message).toMatch(/user_id/);
    });
  });

  it('B15: a loop calling one action in one conversation meets the budget; the upstream sees no more than it', async () => {
    const id = await action({ method: 'POST', url: `${upstream.url}/effects` });
    const statuses: string[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await execute(id, { conversation_id: `loop-${kind}` })).body.status);
    expect(statuses.filter((s) => s === 'succeeded')).toHaveLength(20);
    const refused = await execute(id, { context: { conversation_id: `loop-${kind}` } });
    expect(refused.body.error).toMatchObject({ category: 'rate_limited' });
    expect(refused.body.error.detail).toMatch(/budget exceeded/);
    expect(upstream.requests).toHaveLength(20);
    expect((await execute(id, { conversation_id: `another-${kind}` })).body.status).toBe('succeeded');
  });

  it.each([
    ['a 10,000-character string (over max_length)', 'x'.repeat(10_000), 400, 'invalid_input'],
    ['10,000 combining marks', 'a' + '\u0301'.repeat(10_000), 400, 'invalid_input'],
  ])(
    'B11: refuses %s in an argument, typed, before anything is sent',
    async (_name, value, _status, category) => {
      const id = await action(
        { method: 'GET', url: `${upstream.url}/echo`, query: { q: '{{q}}' } },
        { variables: [{ name: 'q', type: 'string' }] },
      );
      const response = await execute(id, { inputs: { q: value } });
      expect(response.body).toMatchObject({ status: 'failed', error: { category } });
      expect(upstream.requests).toHaveLength(0);
    },
  );

  it('records an upstream body holding NUL on either store (F03: NUL never reaches storage as such)', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/nul') return false;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('before\u0000after');
      return true;
    });
    const id = await action({ method: 'GET', url: `${upstream.url}/nul` });
    const executed = await execute(id);
    expect(executed.body.status).toBe('succeeded');
    await t.request('GET', '/v1/executions?limit=1'); // commits what this process holds
    const organizationId = (await t.request('GET', '/v1/me')).body.organization_id;
    const stored = await t.container.store.executions.get(organizationId, executed.body.id);
    expect(stored?.response?.body).toBe('before\ufffdafter');
  });

  it('B11: refuses NUL and unpaired surrogates at ingress, and keeps an RTL override as plain data', async () => {
    const id = await action(
      { method: 'GET', url: `${upstream.url}/echo`, query: { q: '{{q}}' } },
      { variables: [{ name: 'q', type: 'string' }] },
    );
    const nul = await t.request('POST', `/v1/actions/${id}/execute`, {
      body: '{"inputs":{"q":"a\\u0000b"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/NUL/);
    const surrogate = await t.request('POST', `/v1/actions/${id}/execute`, {
      body: '{"inputs":{"q":"\\ud800"}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(surrogate.status).toBe(400);
    const rtl = await execute(id, { inputs: { q: 'abc\u202edef' } });
    expect(rtl.body.status).toBe('succeeded');
    expect(new URL(upstream.requests.at(-1)!.path, 'http://x').searchParams.get('q')).toBe('abc\u202edef');
  });

  it('fills runtime and dynamic-context variables, and fails a run missing a declared one', async () => {
    const id = await action(
      {
        method: 'GET',
        url: `${upstream.url}/echo`,
        query: { caller: '{{contact_number}}', account: '{{account_id}}', at: '{{current_datetime}}' },
        headers: { 'X-Account': 'acct {{account_id}}' },
      },
      { context_variables: ['account_id'] },
    );
    const ok = await execute(id, {
      context: { contact_number: '+14155550123', account_id: 'A-7', timezone: 'Europe/Berlin' },
    });
    expect(ok.body.status).toBe('succeeded');
    const url = new URL(upstream.requests.at(-1)!.path, 'http://x');
    expect(url.searchParams.get('caller')).toBe('+14155550123');
    expect(url.searchParams.get('at')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$/);
    const missing = await execute(id, { context: {} });
    expect(missing.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
    expect(missing.body.error.detail).toMatch(/account_id/);
  });

  describe('failures become categories an agent can speak about', () => {
    it.each([
      [404, 'not_found'],
      [401, 'unauthorized'],
      [403, 'forbidden'],
      [422, 'invalid_input'],
      [500, 'upstream_error'],
    ])('HTTP %i → %s', async (status, category) => {
      const id = await action({ method: 'GET', url: `${upstream.url}/status/${status}` });
      const response = await execute(id);
      expect(response.body).toMatchObject({ status: 'failed', error: { category, status } });
      expect(response.body.error.message.length).toBeGreaterThan(10);
    });

    it('uses the action’s own sentences, by status, class or category (the Custom Actions guide’s error handling)', async () => {
      const error_messages = {
        '404': "I don't see an order with that number. Could you double-check?",
        '5xx': "I'm having trouble accessing the system right now.",
        timeout: 'The system is taking longer than expected.',
      };
      const notFound = await action({
        method: 'GET',
        url: `${upstream.url}/status/404`,
        response: { error_messages },
      });
      expect((await execute(notFound)).body.error.message).toBe(error_messages['404']);
      const broken = await action({
        method: 'POST',
        url: `${upstream.url}/status/503`,
        response: { error_messages },
      });
      expect((await execute(broken)).body.error.message).toBe(error_messages['5xx']);
      const slow = await action({
        method: 'GET',
        url: `${upstream.url}/hang`,
        timeout_ms: 300,
        retry: { max_attempts: 1 },
        response: { error_messages },
      });
      const started = Date.now();
      const timedOut = await execute(slow);
      expect(timedOut.body.error).toMatchObject({ category: 'timeout', message: error_messages.timeout });
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('reports a destination refused at run time (here a redirect hop to loopback) as blocked', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/redirect?to=${encodeURIComponent('http://127.0.0.1:9/')}`,
      });
      const response = await execute(id);
      expect(response.body.error.category).toBe('blocked');
      expect(response.body.error.detail).toMatch(/127\.0\.0\.1/);
    });

    it('reports an oversized response as response_too_large', async () => {
      const id = await action({ method: 'GET', url: `${upstream.url}/big?bytes=${6 * 1024 * 1024}` });
      expect((await execute(id)).body.error.category).toBe('response_too_large');
    });
  });

  describe('retries', () => {
    it('retries an idempotent request on 503 with backoff, then succeeds', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/flaky?key=get-${kind}&fail=2&status=503`,
      });
      const response = await execute(id);
      expect(response.body).toMatchObject({ status: 'succeeded', attempts: 3 });
    });

    it('does not retry a POST without an Idempotency-Key', async () => {
      const id = await action({
        method: 'POST',
        url: `${upstream.url}/flaky?key=post-${kind}&fail=1&status=503`,
      });
      expect((await execute(id)).body).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { category: 'upstream_error' },
      });
    });

    it('retries a POST given an Idempotency-Key, sending that key upstream on every attempt', async () => {
      const id = await action({
        method: 'POST',
        url: `${upstream.url}/flaky?key=idem-${kind}&fail=1&status=502`,
      });
      const response = await execute(id, {}, { 'idempotency-key': `retry-${kind}` });
      expect(response.body).toMatchObject({ status: 'succeeded', attempts: 2 });
      const keys = upstream.requests.map((r) => r.headers['idempotency-key']);
      expect(keys).toEqual([`retry-${kind}`, `retry-${kind}`]);
    });

    it('honours Retry-After on 429', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/flaky?key=ra-${kind}&fail=1&status=429&retry_after=1`,
      });
      const started = Date.now();
      const response = await execute(id);
      expect(response.body).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it('does not retry other 4xx', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/flaky?key=400-${kind}&fail=1&status=400`,
      });
      expect((await execute(id)).body).toMatchObject({ status: 'failed', attempts: 1 });
    });
  });

  describe('results an agent can use', () => {
    it('keeps only the selected fields', async () => {
      upstream.setHandler((req, res) => {
        if (req.url !== '/order') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            order: { status: 'shipped', internal: 'x' },
            tracking: '1Z999',
            items: [{ sku: 'A' }, { sku: 'B' }],
          }),
        );
        return true;
      });
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/order`,
        response: { select: ['order.status', 'tracking', 'items.*.sku', 'missing.path'] },
      });
      expect((await execute(id)).body.output).toEqual({
        'order.status': 'shipped',
        tracking: '1Z999',
        'items.*.sku': ['A', 'B'],
      });
    });

    it('cuts a long output with a visible notice', async () => {
      const id = await action({
        method: 'GET',
        url: `${upstream.url}/big?bytes=5000`,
        response: { max_length: 1000 },
      });
      const response = await execute(id);
      expect(response.body.output_truncated).toBe(true);
      expect(response.body.output).toMatch(/\[truncated: \d+ more characters not shown\]$/);
    });

    it.each([
      ['/html-as-json', (b: any) => expect(b.extra.parse_error).toMatch(/not/)],
      ['/empty', (b: any) => expect(b.output).toBeNull()],
      ['/no-content', (b: any) => expect(b.output).toBeNull()],
      ['/deep-json?depth=100000', (b: any) => expect(b.extra.parse_error).toBeDefined()],
    ])('turns %s into a typed result', async (path, check) => {
      const id = await action({ method: 'GET', url: `${upstream.url}${path}` });
      const response = await execute(id);
      expect(response.status).toBe(200);
      check(response.body);
    });
  });

  it('dry_run returns the rendered request with secrets masked, and sends nothing', async () => {
    const id = await action(
      {
        method: 'POST',
        url: `${upstream.url}/echo/{{x}}`,
        body: { x: '{{x}}' },
        auth: { type: 'bearer', secret_id: secretIds.bearer },
      },
      { variables: [{ name: 'x', type: 'string' }] },
    );
    const response = await execute(id, { inputs: { x: 'y' }, dry_run: true });
    expect(response.body).toMatchObject({
      dry_run: true,
      status: 'dry_run',
      request: { method: 'POST', body: '{"x":"y"}', headers: { Authorization: 'Bearer [REDACTED:BEARER]' } },
    });
    expect(response.body.request.url).toBe(`${upstream.url}/echo/y`);
    expect(upstream.requests).toHaveLength(0);
  });

  describe('Idempotency-Key (docs/security.md G-14)', () => {
    it('returns the stored execution for the same key and body, with one effect', async () => {
      const id = await action(
        { method: 'POST', url: `${upstream.url}/effects`, body: { a: '{{a}}' } },
        { variables: [{ name: 'a', type: 'string' }] },
      );
      const first = await execute(id, { inputs: { a: '1' } }, { 'idempotency-key': `same-${kind}` });
      const second = await execute(id, { inputs: { a: '1' } }, { 'idempotency-key': `same-${kind}` });
      expect(second.text).toBe(first.text);
      expect(upstream.effects.get(`same-${kind}`)).toBe(1);
      const mismatch = await execute(id, { inputs: { a: '2' } }, { 'idempotency-key': `same-${kind}` });
      expect(mismatch.status).toBe(422);
      expect(mismatch.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    });

    it('executes once for concurrent requests with one key', async () => {
      upstream.setHandler((req, res) => {
        if (req.url !== '/slow-effect') return false;
        const key = String(req.headers['idempotency-key']);
        upstream.effects.set(key, (upstream.effects.get(key) ?? 0) + 1);
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 150);
        return true;
      });
      const id = await action({ method: 'POST', url: `${upstream.url}/slow-effect` });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => execute(id, {}, { 'idempotency-key': `concurrent-${kind}` })),
      );
      expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
      expect(upstream.effects.get(`concurrent-${kind}`)).toBe(1);
    });

    it('keeps keys per organization', async () => {
      const tenant = await t.newTenant(['actions:read', 'actions:write', 'actions:execute']);
      const mine = await action({ method: 'POST', url: `${upstream.url}/effects` });
      await execute(mine, {}, { 'idempotency-key': `shared-${kind}` });
      const theirs = await t.request('POST', '/v1/actions', {
        key: tenant.key,
        body: {
          name: 'Theirs',
          description: 'x',
          kind: 'http',
          http: { method: 'POST', url: `${upstream.url}/effects` },
        },
      });
      const response = await t.request('POST', `/v1/actions/${theirs.body.id}/execute`, {
        key: tenant.key,
        body: {},
        headers: { 'idempotency-key': `shared-${kind}` },
      });
      expect(response.body.status).toBe('succeeded');
      expect(upstream.effects.get(`shared-${kind}`)).toBe(2);
    });

    it('refuses a malformed key', async () => {
      const id = await action({ method: 'GET', url: `${upstream.url}/echo` });
      expect((await execute(id, {}, { 'idempotency-key': 'has spaces' })).status).toBe(400);
    });
  });

  it('lists executions by action and outcome, newest first, with cursors', async () => {
    const id = await action(
      { method: 'GET', url: `${upstream.url}/status/{{code}}` },
      { variables: [{ name: 'code', type: 'integer', required: true }] },
    );
    for (const code of [200, 404, 200]) await execute(id, { inputs: { code } });
    const all = await t.request('GET', `/v1/executions?action_id=${id}`);
    expect(all.body.data.map((e: { status: string }) => e.status)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
    ]);
    const failed = await t.request('GET', `/v1/executions?action_id=${id}&status=failed`);
    expect(failed.body.data).toHaveLength(1);
    const page = await t.request('GET', `/v1/executions?action_id=${id}&limit=2`);
    const next = await t.request(
      'GET',
      `/v1/executions?action_id=${id}&limit=2&cursor=${page.body.next_cursor}`,
    );
    expect([...page.body.data, ...next.body.data].map((e: { id: string }) => e.id)).toEqual(
      all.body.data.map((e: { id: string }) => e.id),
    );
    const future = await t.request(
      'GET',
      `/v1/executions?action_id=${id}&since=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(future.body.data).toEqual([]);
  });

  it('records the version an execution ran', async () => {
    const id = await action({ method: 'GET', url: `${upstream.url}/echo` });
    await t.request('PATCH', `/v1/actions/${id}`, { body: { description: 'v2' } });
    expect((await execute(id)).body.action_version).toBe(2);
  });

  it('refuses to run an inactive action', async () => {
    const id = await action({ method: 'GET', url: `${upstream.url}/echo` }, { status: 'inactive' });
    expect((await execute(id)).status).toBe(409);
  });

  it('deletes executions past the retention period, and keeps recent ones', async () => {
    const id = await action({ method: 'GET', url: `${upstream.url}/echo` });
    const recent = await execute(id);
    await t.request('GET', '/v1/executions?limit=1'); // listing waits until this process's records are committed
    const organizationId = (await t.request('GET', '/v1/me')).body.organization_id;
    const template = await t.container.store.executions.get(organizationId, recent.body.id);
    const old = Date.parse('2001-02-03T04:05:06.000Z');
    const oldId = createUuidV7Generator(() => old)();
    await t.container.store.executions.insertMany([
      { ...template!, id: oldId, startedAt: new Date(old).toISOString() },
    ]);
    const retention = startRetention(t.container.store, t.container.clock, t.container.logger, 30);
    expect(await retention.sweep()).toBe(1);
    retention.stop();
    expect((await t.request('GET', `/v1/executions/${oldId}`)).status).toBe(404);
    expect((await t.request('GET', `/v1/executions/${recent.body.id}`)).status).toBe(200);
  });

  it('never lets a secret reach a response, a log line or the raw database (docs/security.md G-10)', async () => {
    await t.request('GET', '/v1/executions?limit=1'); // every record committed
    const forms = Object.values(CANARY).flatMap(secretForms);
    const haystacks = [...responses, ...t.logs];
    for (const form of forms) for (const text of haystacks) expect(text).not.toContain(form);
    const raw =
      kind === 'sqlite'
        ? readdirSync(t.db.dataDir)
            .filter((f) => f.startsWith('switchboard'))
            .map((f) => readFileSync(join(t.db.dataDir, f)).toString('latin1'))
            .join('')
        : execFileSync('pg_dump', ['--data-only', t.db.databaseUrl ?? '']).toString('latin1');
    for (const form of forms) expect(raw).not.toContain(form);
    expect(raw).toContain('[REDACTED:BEARER]');
  });
});
