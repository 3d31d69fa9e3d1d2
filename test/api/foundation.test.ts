/**
 * The foundation over HTTP, on both stores: health, docs, authentication, scopes, tenant isolation,
 * secrets that never come back, the error shape, body limits, rate limits and the origin policy.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type Response, type TestApp } from '../helpers/app.ts';

const CANARY = 'canary-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c1e3b5d7f9a';

/** Every form of the canary a leak could take (docs/security.md G-10). */
const canaryForms = [
  CANARY,
  Buffer.from(CANARY).toString('base64'),
  Buffer.from(CANARY).toString('base64url'),
  Buffer.from(CANARY).toString('hex'),
  encodeURIComponent(CANARY),
];

const withoutRequestId = (response: Response) => ({
  status: response.status,
  code: response.body?.error?.code,
  message: response.body?.error?.message,
});

describe.each(STORE_KINDS)('foundation API on %s', (kind) => {
  let t: TestApp;
  const responses: string[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind);
    const original = t.request;
    t.request = async (...args) => {
      const response = await original(...args);
      responses.push(response.text, JSON.stringify(response.headers));
      return response;
    };
  });
  afterAll(async () => t.close());

  it('answers health and readiness', async () => {
    expect(await t.request('GET', '/healthz', { key: null })).toMatchObject({
      status: 200,
      body: { status: 'ok' },
    });
    expect(await t.request('GET', '/readyz', { key: null })).toMatchObject({
      status: 200,
      body: { status: 'ready' },
    });
  });

  it('serves a valid OpenAPI 3.1 document that declares bearer auth and scopes, and the docs page', async () => {
    const response = await t.request('GET', '/openapi.json', { key: null });
    expect(response.body.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(response.body));
    const post = response.body.paths['/v1/secrets'].post;
    expect(post.security).toEqual([{ bearerAuth: [] }]);
    expect(post.description).toContain('secrets:write');
    expect((await t.request('GET', '/docs/', { key: null })).status).toBe(200);
  });

  describe('authentication', () => {
    it.each([
      ['no header', {}],
      ['a malformed header', { authorization: 'Token abc' }],
      ['an unknown key', { authorization: 'Bearer sbk_notarealkeyatall' }],
    ])('refuses %s with 401 and the error shape', async (_name, headers) => {
      const response = await t.request('GET', '/v1/me', { key: null, headers });
      expect(response.status).toBe(401);
      expect(response.body.error).toMatchObject({ code: 'UNAUTHENTICATED', request_id: expect.any(String) });
    });

    it('refuses an API key in the query string', async () => {
      const response = await t.request('GET', `/v1/me?api_key=${t.adminKey}`, { key: null });
      expect(response.status).toBe(401);
      expect(response.body.error.message).toMatch(/Authorization header/);
    });

    it('answers a revoked key exactly like an unknown one, from the next request on', async () => {
      const created = await t.request('POST', '/v1/keys', {
        body: { name: 'short-lived', scopes: ['actions:read'] },
      });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^sbk_[0-9A-Za-z]{43}$/);
      expect((await t.request('GET', '/v1/me', { key: created.body.key })).status).toBe(200);
      const revoked = await t.request('DELETE', `/v1/keys/${created.body.id}`);
      expect(revoked.body.revoked_at).not.toBeNull();
      const afterRevoke = await t.request('GET', '/v1/me', { key: created.body.key });
      const unknown = await t.request('GET', '/v1/me', {
        key: 'sbk_0000000000000000000000000000000000000000000',
      });
      expect(withoutRequestId(afterRevoke)).toEqual(withoutRequestId(unknown));
      expect(afterRevoke.status).toBe(401);
    });

    it('never lists a key itself, only its prefix', async () => {
      const list = await t.request('GET', '/v1/keys');
      expect(list.status).toBe(200);
      for (const key of list.body.data) expect(key).not.toHaveProperty('key');
      expect(list.text).not.toContain(t.adminKey);
    });
  });

  describe('scopes', () => {
    it('answers 403 INSUFFICIENT_SCOPE naming the missing scope', async () => {
      const { body } = await t.request('POST', '/v1/keys', {
        body: { name: 'reader', scopes: ['actions:read'] },
      });
      const response = await t.request('POST', '/v1/secrets', {
        key: body.key,
        body: { name: 'X', value: 'y' },
      });
      expect(response.status).toBe(403);
      expect(response.body.error).toMatchObject({
        code: 'INSUFFICIENT_SCOPE',
        details: { required_scope: 'secrets:write' },
      });
      expect((await t.request('GET', '/v1/organizations', { key: body.key })).status).toBe(403);
    });

    it('never lets a key create a key with scopes it lacks', async () => {
      const { body } = await t.request('POST', '/v1/keys', {
        body: { name: 'key-manager', scopes: ['keys:write', 'actions:read'] },
      });
      const escalate = await t.request('POST', '/v1/keys', {
        key: body.key,
        body: { name: 'x', scopes: ['admin'] },
      });
      expect(escalate.status).toBe(403);
      expect(escalate.body.error.message).toContain('admin');
      const same = await t.request('POST', '/v1/keys', {
        key: body.key,
        body: { name: 'x', scopes: ['actions:read'] },
      });
      expect(same.status).toBe(201);
    });

    it('maps Langdock INTEGRATION_API onto action scopes and secrets:use, and rejects unknown scopes by name', async () => {
      const alias = await t.request('POST', '/v1/keys', {
        body: { name: 'langdock', scopes: ['INTEGRATION_API'] },
      });
      expect(alias.body.scopes).toEqual(['actions:read', 'actions:write', 'actions:execute', 'secrets:use']);
      const unknown = await t.request('POST', '/v1/keys', { body: { name: 'x', scopes: ['actions:fly'] } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_FAILED', path: '/scopes' });
      expect(unknown.body.error.message).toContain('actions:fly');
    });
  });

  describe('tenant isolation', () => {
    it("answers another organization's secret and key exactly like ones that do not exist", async () => {
      const mine = await t.request('POST', '/v1/secrets', {
        body: { name: 'ISOLATED', value: 'v-isolated' },
      });
      const other = await t.newTenant();
      const missingId = '01a00000-0000-7000-8000-000000000000';
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const body = method === 'PATCH' ? { name: 'STOLEN' } : undefined;
        const foreign = await t.request(method, `/v1/secrets/${mine.body.id}`, { key: other.key, body });
        const missing = await t.request(method, `/v1/secrets/${missingId}`, { key: other.key, body });
        expect(foreign.status).toBe(404);
        expect(withoutRequestId(foreign)).toEqual(withoutRequestId(missing));
      }
      const adminKeyId = (await t.request('GET', '/v1/me')).body.key_id;
      expect((await t.request('DELETE', `/v1/keys/${adminKeyId}`, { key: other.key })).status).toBe(404);
      expect((await t.request('GET', `/v1/secrets/${mine.body.id}`)).body.name).toBe('ISOLATED');
      const listed = await t.request('GET', '/v1/secrets', { key: other.key });
      expect(listed.body.data).toEqual([]);
    });
  });

  describe('secrets', () => {
    let id: string;

    it('creates, lists, renames, rotates and deletes without ever returning the value', async () => {
      const created = await t.request('POST', '/v1/secrets', {
        body: {
          name: 'API_TOKEN',
          value: CANARY,
          description: 'bearer for the orders API',
          allowed_hosts: ['API.Example.com', '*.example.org'],
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'API_TOKEN',
        allowed_hosts: ['api.example.com', '*.example.org'],
        key_version: 1,
      });
      id = created.body.id;
      expect((await t.request('GET', '/v1/secrets')).body.data.map((s: { id: string }) => s.id)).toContain(
        id,
      );
      expect((await t.request('GET', `/v1/secrets/${id}`)).body.description).toBe(
        'bearer for the orders API',
      );
      const rotated = await t.request('PATCH', `/v1/secrets/${id}`, { body: { value: `${CANARY}-rotated` } });
      expect(rotated.status).toBe(200);
      const revealed = await t.container.services.secrets.reveal(
        created.body.organization_id ?? (await t.request('GET', '/v1/me')).body.organization_id,
        id,
      );
      expect(revealed.value).toBe(`${CANARY}-rotated`);
      const conflict = await t.request('POST', '/v1/secrets', { body: { name: 'API_TOKEN', value: 'x' } });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error.path).toBe('/name');
    });

    it('refuses a redaction placeholder as a new value, so a round-tripped form cannot overwrite the secret', async () => {
      const response = await t.request('PATCH', `/v1/secrets/${id}`, {
        body: { value: '[REDACTED:API_TOKEN]' },
      });
      expect(response.status).toBe(400);
      expect(
        (
          await t.container.services.secrets.reveal(
            (await t.request('GET', '/v1/me')).body.organization_id,
            id,
          )
        ).value,
      ).toBe(`${CANARY}-rotated`);
    });

    it.each([
      ['a bad name', { name: '1-bad name', value: 'x' }, '/name'],
      ['an empty value', { name: 'OK', value: '' }, '/value'],
      [
        'a host with a path',
        { name: 'OK', value: 'x', allowed_hosts: ['example.com/path'] },
        '/allowed_hosts/0',
      ],
      ['an unknown field', { name: 'OK', value: 'x', secret: 'y' }, '/secret'],
      ['a missing field', { name: 'OK' }, '/value'],
    ])('rejects %s with 400 and the field path', async (_name, body, path) => {
      const response = await t.request('POST', '/v1/secrets', { body });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', path });
    });

    it('deletes', async () => {
      const doomed = await t.request('POST', '/v1/secrets', { body: { name: 'DOOMED', value: 'x' } });
      expect((await t.request('DELETE', `/v1/secrets/${doomed.body.id}`)).status).toBe(204);
      expect((await t.request('GET', `/v1/secrets/${doomed.body.id}`)).status).toBe(404);
    });
  });

  describe('malformed input (never a 5xx)', () => {
    it.each([
      ['invalid JSON', '{"name":', 'application/json', 400, 'INVALID_JSON'],
      ['an empty JSON body', '', 'application/json', 400, 'INVALID_JSON'],
      ['1,000,000 open brackets', '['.repeat(1_000_000), 'application/json', 400, 'DEPTH_EXCEEDED'],
      ['duplicate keys', '{"name":"A","name":"B","value":"x"}', 'application/json', 400, 'INVALID_JSON'],
      [
        'a non-JSON content type',
        'name=x',
        'application/x-www-form-urlencoded',
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['a wrong type', '{"name":42,"value":"x"}', 'application/json', 400, 'VALIDATION_FAILED'],
      ['an array body', '[1,2]', 'application/json', 400, 'VALIDATION_FAILED'],
    ])('answers %s with the right 4xx', async (_name, payload, contentType, status, code) => {
      const response = await t.request('POST', '/v1/secrets', {
        body: payload,
        headers: { 'content-type': contentType },
      });
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
    });

    it('answers invalid UTF-8 with 400', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/secrets',
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        payload: Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      });
      expect(response.statusCode).toBe(400);
    });

    it('answers a 2 MB body with 413 on a 1 MB limit', async () => {
      const response = await t.request('POST', '/v1/secrets', {
        body: JSON.stringify({ name: 'BIG', value: 'x'.repeat(2_000_000) }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(413);
      expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['limit=-1', 400],
      ['limit=1&limit=1000', 400],
      ['limit=abc', 400],
      ['limit=1000000000', 200],
      ['cursor=not-a-cursor', 400],
    ])('validates the query %s', async (query, status) => {
      expect((await t.request('GET', `/v1/secrets?${query}`)).status).toBe(status);
    });

    it('answers unknown routes with 404 in the error shape', async () => {
      const response = await t.request('GET', '/v1/nothing-here');
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    });
  });

  it('refuses browser origins unless allowed', async () => {
    const response = await t.request('GET', '/v1/me', { headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toContain('SWITCHBOARD_ALLOWED_ORIGINS');
  });

  it('echoes a well-formed request id and replaces a hostile one', async () => {
    expect(
      (await t.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } })).headers[
        'x-request-id'
      ],
    ).toBe('abc-123');
    const hostile = await t.request('GET', '/healthz', { headers: { 'x-request-id': 'a\u0001b"c' } });
    expect(hostile.headers['x-request-id']).not.toContain('"');
  });

  it('never shows a secret value in any response, log line or the raw database (docs/security.md G-10)', async () => {
    const haystacks = [...responses, ...t.logs];
    for (const form of canaryForms) for (const text of haystacks) expect(text).not.toContain(form);
    await t.container.store.ping();
    const raw =
      kind === 'sqlite'
        ? readSqliteFiles(t.db.dataDir)
        : execFileSync('pg_dump', ['--data-only', t.db.databaseUrl ?? '']).toString('latin1');
    expect(raw.length).toBeGreaterThan(0);
    for (const form of canaryForms) expect(raw).not.toContain(form);
    expect(raw).toContain('API_TOKEN'); // the search really covered the secrets table
  });
});

function readSqliteFiles(dir: string): string {
  return readdirSync(dir)
    .filter((name) => name.startsWith('switchboard'))
    .map((name) => readFileSync(join(dir, name)).toString('latin1'))
    .join('\n');
}

describe('allowed browser origins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { SWITCHBOARD_ALLOWED_ORIGINS: 'https://console.example.com' });
  });
  afterAll(async () => t.close());

  it('serves an allowed origin with CORS headers, answers its preflight, and still refuses others', async () => {
    const allowed = await t.request('GET', '/v1/me', { headers: { origin: 'https://console.example.com' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
    const preflight = await t.request('OPTIONS', '/v1/secrets', {
      key: null,
      headers: {
        origin: 'https://console.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(
      (await t.request('GET', '/v1/me', { headers: { origin: 'https://other.example.com' } })).status,
    ).toBe(403);
  });
});

describe.each(STORE_KINDS)('rate limits on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_RATE_LIMIT_PER_KEY: '5',
      SWITCHBOARD_RATE_LIMIT_PER_ORG: '8',
      SWITCHBOARD_AUTH_FAILURE_LIMIT: '3',
      SWITCHBOARD_TRUSTED_PROXIES: '127.0.0.1',
    });
  });
  afterAll(async () => t.close());

  it('limits per key, then per organization across keys, with 429 and Retry-After', async () => {
    const tenant = await t.newTenant(['keys:write', 'actions:read']);
    const second = (
      await t.request('POST', '/v1/keys', {
        key: tenant.key,
        body: { name: 'second', scopes: ['actions:read'] },
      })
    ).body.key;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.request('GET', '/v1/me', { key: tenant.key })).status);
    expect(statuses.filter((s) => s === 200).length).toBe(4); // the key-creation call used one
    const limited = await t.request('GET', '/v1/me', { key: tenant.key });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    // requests refused per key never reach the organization's count: it has used 5 of 8, so the second
    // key gets 3 more before the organization's limit bites
    for (let i = 0; i < 3; i++) expect((await t.request('GET', '/v1/me', { key: second })).status).toBe(200);
    const orgLimited = await t.request('GET', '/v1/me', { key: second });
    expect(orgLimited.status).toBe(429);
    expect(orgLimited.body.error.message).toContain('organization');
  });

  it('answers repeated failed authentications from one address with 429', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await t.request('GET', '/v1/me', { key: `sbk_wrong${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it.each([
    [
      'the addresses of one IPv6 /64',
      ['2001:db8:1:2::1', '2001:db8:1:2:ffff::2', '2001:DB8:1:2::3'],
      '2001:db8:1:3::1',
    ],
    [
      'an IPv4 address, however it is written',
      ['198.51.100.4', '::ffff:198.51.100.4', '::ffff:c633:6404'],
      '198.51.100.5',
    ],
  ])('counts failed authentications from %s as one client', async (_name, addresses, other) => {
    const failFrom = async (address: string) =>
      (await t.request('GET', '/v1/me', { key: 'sbk_wrong', headers: { 'x-forwarded-for': address } }))
        .status;
    const statuses: number[] = [];
    for (const address of [...addresses, ...addresses]) statuses.push(await failFrom(address));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    expect(await failFrom(other)).toBe(401);
  });
});
