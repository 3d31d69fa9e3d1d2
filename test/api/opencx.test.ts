/**
 * OpenCX's actions API on both stores. Every answer is validated with ajv against OpenCX's own schemas
 * (test/fixtures/opencx/*.schema.json: CreateActionPublicDto, ActionPublicResponseDto and ErrorDto as
 * OpenCX defines them, with SessionChannel inlined): every required field present, nothing extra where
 * OpenCX closes an object. Golden request → response fixtures; list, get, patch and delete; every error
 * status in ErrorDto; and a created action run through POST /v1/actions/{id}/execute against a loopback
 * upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import type { Upstream } from '../helpers/upstream.ts';
import {
  byShape as structural,
  createKey,
  fixtures,
  MISSING,
  openCxContract,
  startWithUpstream,
} from '../helpers/dialects.ts';

const fixture = fixtures('opencx');
const { expectValid, expectError } = openCxContract({
  create: 'create-action-public-dto.schema',
  action: 'action-public-response-dto.schema',
});

const ticket = (overrides: Record<string, unknown> = {}) => ({
  ...fixture('create-minimal.request'),
  ...overrides,
});

describe.each(STORE_KINDS)('OpenCX actions API on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let writer: string;
  let reader: string;
  let counter = 0;
  const unique = (name: string) => `${name} ${++counter}`;

  const create = (body: unknown, key: string | null = writer) => t.request('POST', '/actions', { key, body });

  beforeAll(async () => {
    ({ t, upstream } = await startWithUpstream(kind));
    writer = await createKey(t, ['actions:read', 'actions:write', 'actions:execute']);
    reader = await createKey(t, ['actions:read']);
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('answers the golden create with ActionPublicResponseDto, and the request is a valid CreateActionPublicDto', async () => {
    const request = fixture('create-action.request');
    expectValid('create', request);
    const created = await create(request);
    expect(created.status, created.text).toBe(201);
    expectValid('action', created.body);
    expect(created.body).toEqual(structural(fixture('create-action.response')));
    const read = await t.request('GET', `/actions/${created.body.id}`, { key: reader });
    expect(read.body).toEqual(created.body);
  });

  it('fills the defaults: operation_id from the name, web only, live, not pinned, no tags', async () => {
    const request = fixture('create-minimal.request');
    expectValid('create', request);
    const created = await create(request);
    expect(created.status, created.text).toBe(201);
    expectValid('action', created.body);
    expect(created.body).toEqual(structural(fixture('create-minimal.response')));
    // unique in the organization: the same name again gets the next free operation_id
    const again = await create(request);
    expect(again.body.operation_id).toBe('create_ticket_2');
  });

  it('builds a runnable http action whose input schema comes from the parameters and the body schema', async () => {
    const body = { ...fixture('create-action.request'), operation_id: 'getBookingTwo' };
    const made = await create(body);
    const native = await t.request('GET', `/v1/actions/${made.body.id}`, { key: reader });
    expect(native.body).toMatchObject({
      kind: 'http',
      tool_name: 'getBookingTwo',
      channels: ['web', 'whatsapp'],
      tags: ['bookings', 'read-only'],
      requires_confirmation: false,
      http: {
        method: 'GET',
        url: 'https://api.example.com/api/v1/bookings/{{booking_id}}',
        query: { include: '{{include}}' },
        headers: { 'X-Tenant': '{{X_Tenant}}' },
      },
    });
    expect(native.body.input_schema).toMatchObject({
      type: 'object',
      properties: {
        booking_id: { type: 'string', description: "The booking's id" },
        include: { type: 'string', enum: ['guests', 'payments'] },
        X_Tenant: { type: 'string' },
      },
      required: expect.arrayContaining(['booking_id', 'X_Tenant']),
    });
    expect(native.body.input_schema.required).not.toContain('include');

    const posted = await create(ticket({ name: unique('Ticket') }));
    const ticketAction = await t.request('GET', `/v1/actions/${posted.body.id}`, { key: reader });
    expect(ticketAction.body.http).toMatchObject({
      method: 'POST',
      url: 'https://support.example.com/tickets',
      body: { subject: '{{subject}}', priority: '{{priority}}' },
    });
    expect(ticketAction.body.input_schema).toMatchObject({
      properties: { subject: { type: 'string' }, priority: { type: 'string', enum: ['low', 'high'] } },
      required: ['subject'],
    });
  });

  it('maps require_form_submission to a confirmation and keeps the api_endpoint’s query', async () => {
    const created = await create(
      ticket({
        name: unique('Confirmed'),
        api_endpoint: 'https://support.example.com/tickets?source=agent',
        require_form_submission: true,
      }),
    );
    expect(created.status, created.text).toBe(201);
    expect(created.body.require_form_submission).toBe(true);
    const native = await t.request('GET', `/v1/actions/${created.body.id}`, { key: reader });
    expect(native.body.requires_confirmation).toBe(true);
    expect(native.body.http.query).toEqual({ source: 'agent' });
  });

  describe('api_endpoint written as a URL template', () => {
    const booking = (overrides: Record<string, unknown> = {}) => ({
      name: unique('Booking'),
      api_endpoint: 'https://api.example.com/v1/bookings/{id}',
      request_type: 'GET',
      payload: { parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] },
      ...overrides,
    });
    const nativeOf = async (id: string) =>
      (await t.request('GET', `/v1/actions/${id}`, { key: reader })).body;

    it.each<[string, Record<string, unknown>, string]>([
      ['its {id} a described path parameter', {}, 'https://api.example.com/v1/bookings/{{id}}'],
      ['its {id} an undescribed one', { payload: {} }, 'https://api.example.com/v1/bookings/{{id}}'],
      [
        'payload.path giving the path',
        { payload: { path: '/bookings/{id}', parameters: [{ name: 'id', in: 'path', required: true }] } },
        'https://api.example.com/v1/bookings/{{id}}',
      ],
      [
        'payload.path naming another parameter',
        {
          api_endpoint: 'https://api.example.com/v1/items/{item}',
          payload: { path: '/bookings/{booking}' },
        },
        'https://api.example.com/v1/items/bookings/{{booking}}',
      ],
    ])('is accepted and stored as given, %s', async (_name, overrides, url) => {
      const body = booking(overrides);
      const created = await create(body);
      expect(created.status, created.text).toBe(201);
      expectValid('action', created.body);
      expect(created.body.api_endpoint).toBe(body.api_endpoint);
      const read = await t.request('GET', `/actions/${created.body.id}`, { key: reader });
      expect(read.body.api_endpoint).toBe(body.api_endpoint);
      const native = await nativeOf(created.body.id);
      expect(native.http.url).toBe(url);
      expect(native.input_schema.required).toEqual(
        expect.arrayContaining([url.includes('{{id}}') ? 'id' : 'booking']),
      );
    });

    it('is accepted by PATCH, and the action calls the URL the template describes', async () => {
      const created = await create(ticket({ name: unique('Template') }));
      const template = `${upstream.url}/echo/bookings/{booking_id}`;
      const patched = await t.request('PATCH', `/actions/${created.body.id}`, {
        key: writer,
        body: { api_endpoint: template, request_type: 'GET', payload: {} },
      });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.api_endpoint).toBe(template);
      const run = await t.request('POST', `/v1/actions/${created.body.id}/execute`, {
        key: writer,
        body: { inputs: { booking_id: 'bk 42' } },
      });
      expect(run.status, run.text).toBe(200);
      expect(run.body.status).toBe('succeeded');
      expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/echo/bookings/bk%2042' });
    });
  });

  it('runs a created action through POST /v1/actions/{id}/execute against a loopback upstream', async () => {
    const created = await create({
      name: unique('Update booking'),
      api_endpoint: `${upstream.url}/echo/bookings`,
      request_type: 'PATCH',
      payload: {
        path: '/bookings/{booking_id}',
        parameters: [
          { name: 'booking_id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'notify', in: 'query', schema: { type: 'boolean' } },
          { name: 'X-Tenant', in: 'header', required: true, schema: { type: 'string' } },
        ],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['guests'],
                properties: { guests: { type: 'integer' }, note: { type: 'string' } },
              },
            },
          },
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    const run = await t.request('POST', `/v1/actions/${created.body.id}/execute`, {
      key: writer,
      body: { inputs: { booking_id: 'bk 42', notify: true, X_Tenant: 'acme', guests: '3', note: 'late' } },
    });
    expect(run.status, run.text).toBe(200);
    expect(run.body, run.text).toMatchObject({ status: 'succeeded', output: { method: 'PATCH' } });
    const seen = upstream.requests.at(-1)!;
    expect(seen.method).toBe('PATCH');
    expect(seen.path).toBe('/echo/bookings/bk%2042?notify=true');
    expect(seen.headers['x-tenant']).toBe('acme');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ guests: 3, note: 'late' });

    const missing = await t.request('POST', `/v1/actions/${created.body.id}/execute`, {
      key: writer,
      body: { inputs: { booking_id: 'bk1' } },
    });
    expect(missing.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
  });

  it('lists every action of the organization, those made natively too, each a valid ActionPublicResponseDto', async () => {
    const made = await create(ticket({ name: unique('Listed'), pinned: true }));
    const native = await t.request('POST', '/v1/actions', {
      key: writer,
      body: {
        name: unique('Native'),
        description: 'Made natively',
        kind: 'http',
        http: { method: 'GET', url: 'https://api.example.com/status' },
      },
    });
    expect(native.status, native.text).toBe(201);
    const list = await t.request('GET', '/actions', { key: reader });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    for (const action of list.body) expectValid('action', action);
    const byId = new Map(list.body.map((action: any) => [action.id, action]));
    expect(byId.get(made.body.id)).toEqual(made.body);
    expect(byId.get(native.body.id)).toMatchObject({
      payload: null,
      api_endpoint: 'https://api.example.com/status',
      request_type: 'GET',
      operation_id: native.body.tool_name,
      pinned: false,
      status: 'live',
    });
    // another organization sees none of them
    const other = await t.newTenant(['actions:read']);
    const theirs = await t.request('GET', '/actions', { key: other.key });
    expect(theirs.body).toEqual([]);
    expectError(await t.request('GET', `/actions/${made.body.id}`, { key: other.key }), 404);
  });

  it('changes an action with PATCH: fields given replace, the rest stay, the payload rebuilds the request', async () => {
    const made = await create(ticket({ name: unique('Patched'), tags: ['a'] }));
    const id = made.body.id;
    const renamed = await t.request('PATCH', `/actions/${id}`, {
      key: writer,
      body: { name: unique('Renamed'), pinned: true, enabled_on_channel: { channels: ['email'] } },
    });
    expect(renamed.status, renamed.text).toBe(200);
    expectValid('action', renamed.body);
    expect(renamed.body).toMatchObject({
      pinned: true,
      tags: ['a'],
      enabled_on_channel: { channels: ['email'] },
      payload: made.body.payload,
      operation_id: made.body.operation_id,
    });
    expect(renamed.body.name).toMatch(/^Renamed/);

    const rebuilt = await t.request('PATCH', `/actions/${id}`, {
      key: writer,
      body: {
        request_type: 'PUT',
        payload: {
          path: '/tickets/{ticket_id}',
          parameters: [{ name: 'ticket_id', in: 'path', required: true, schema: { type: 'integer' } }],
        },
      },
    });
    expect(rebuilt.status, rebuilt.text).toBe(200);
    expectValid('action', rebuilt.body);
    expect(rebuilt.body).toMatchObject({ request_type: 'PUT', pinned: true, tags: ['a'] });
    const native = await t.request('GET', `/v1/actions/${id}`, { key: reader });
    expect(native.body.http).toMatchObject({
      method: 'PUT',
      url: 'https://support.example.com/tickets/{{ticket_id}}',
    });
    expect(native.body.input_schema.properties).toEqual({
      ticket_id: expect.objectContaining({ type: 'integer' }),
    });
    expect((await t.request('GET', `/actions/${id}`, { key: reader })).body).toEqual(rebuilt.body);
  });

  it('deletes an action, answering it as it was; then it is gone', async () => {
    const made = await create(ticket({ name: unique('Deleted') }));
    const deleted = await t.request('DELETE', `/actions/${made.body.id}`, { key: writer });
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual(made.body);
    expect(fixture('not-found.response')).toEqual(
      (await t.request('GET', `/actions/${made.body.id}`, { key: reader })).body,
    );
    expectError(await t.request('DELETE', `/actions/${made.body.id}`, { key: writer }), 404);
    expectError(await t.request('PATCH', `/actions/${MISSING}`, { key: writer, body: { name: 'x' } }), 404);
  });

  it.each([
    ['no name', { name: undefined }, /name/],
    ['no api_endpoint', { api_endpoint: undefined }, /api_endpoint/],
    ['a relative api_endpoint', { api_endpoint: '/tickets' }, /api_endpoint/],
    [
      'an api_endpoint that is not http(s)',
      { api_endpoint: 'ftp://files.example.com/t/{id}' },
      /api_endpoint/,
    ],
    ['an api_endpoint no URL parser accepts', { api_endpoint: 'https://exa mple.com/t' }, /api_endpoint/],
    ['an unknown request_type', { request_type: 'TRACE' }, /request_type/],
    ['no payload', { payload: undefined }, /payload/],
    ['an unknown channel', { enabled_on_channel: { channels: ['fax'] } }, /channels/],
    ['a parameter without in', { payload: { parameters: [{ name: 'q' }] } }, /in/],
    ['an operation_id that is no tool name', { operation_id: 'get booking!' }, /operation_id/],
    ['a payload.method that disagrees', { payload: { method: 'get' } }, /payload.method/],
  ])('answers 400 for %s', async (_name, overrides, message) => {
    const body = Object.fromEntries(
      Object.entries(ticket({ name: unique('Bad'), ...overrides })).filter(([, v]) => v !== undefined),
    );
    expectError(await create(body), 400, message);
  });

  it.each([
    [
      'a required cookie parameter',
      { payload: { parameters: [{ name: 'session', in: 'cookie', required: true }] } },
      /cookie/,
    ],
    [
      'a body GET requires',
      {
        request_type: 'GET',
        payload: { requestBody: { required: true, content: { 'application/json': { schema: {} } } } },
      },
      /body/,
    ],
    ['an XML-only body', { payload: { requestBody: { content: { 'application/xml': {} } } } }, /xml/],
    ['an api_endpoint the egress guard refuses', { api_endpoint: 'http://169.254.169.254/latest' }, /egress/],
  ])('answers 422 for %s, and saves nothing', async (_name, overrides, message) => {
    const name = unique('Unrunnable');
    expectError(await create(ticket({ name, ...overrides })), 422, message);
    const list = await t.request('GET', '/actions', { key: reader });
    expect(list.body.some((action: any) => action.name === name)).toBe(false);
  });

  it('answers 401 without a valid key, 403 without the scope, 409 for a taken operation_id', async () => {
    const anonymous = await create(ticket(), null);
    expectError(anonymous, 401);
    expect(anonymous.body).toEqual(structural(fixture('unauthenticated.response')));
    expectError(await t.request('GET', '/actions', { key: 'sb_not-a-key' }), 401);
    expectError(await create(ticket({ name: unique('Forbidden') }), reader), 403, /actions:write/);
    await create(ticket({ name: unique('Taken'), operation_id: 'taken_op' }));
    const clash = await create(ticket({ name: unique('Clash'), operation_id: 'taken_op' }));
    expectError(clash, 409);
    expect(clash.body).toEqual(fixture('conflict.response'));
    const made = await create(ticket({ name: unique('Patch clash') }));
    expectError(
      await t.request('PATCH', `/actions/${made.body.id}`, {
        key: writer,
        body: { operation_id: 'taken_op' },
      }),
      409,
    );
  });
});

describe.each(STORE_KINDS)('OpenCX routes: rate limits on %s', (kind) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(kind, { SWITCHBOARD_RATE_LIMIT_PER_KEY: '2' });
    key = await createKey(t, ['actions:read'], 'limited');
  });
  afterAll(async () => t.close());

  it('answers the third request in a minute with 429 in ErrorDto, with Retry-After', async () => {
    expect((await t.request('GET', '/actions', { key })).status).toBe(200);
    expect((await t.request('GET', '/actions', { key })).status).toBe(200);
    const limited = await t.request('GET', '/actions', { key });
    expectError(limited, 429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
