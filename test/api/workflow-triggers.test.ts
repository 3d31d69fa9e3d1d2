/**
 * Workflow triggers on both stores: webhook deliveries (token, Standard Webhooks signature, delivery-id
 * deduplication, docs/security.md G01-G03), events fired by POST /v1/events, and JSON Logic constraints.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';
import { Webhook } from 'standardwebhooks';
import { signWebhook } from '../../src/app/workflows/webhook-signature.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { until } from '../helpers/wait.ts';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
/** What a forger would send if an empty key were used: HMAC under zero bytes. */
const signWebhookWithEmptyKey = (id: string, payload: string) =>
  `v1,${createHmac('sha256', Buffer.alloc(0))
    .update(`${id}.${Math.floor(Date.now() / 1000)}.${payload}`)
    .digest('base64')}`;
const echo = [{ $kind: 'Action', id: 'echo', type: 'set', input: { values: { got: '{{trigger.order}}' } } }];

describe.each(STORE_KINDS)('workflow triggers on %s', (kind) => {
  let t: TestApp;

  const runsOf = async (workflowId: string) =>
    (await t.request('GET', `/v1/workflows/${workflowId}/runs`)).body.data as { id: string }[];
  const finished = (id: string) =>
    until(
      () => t.request('GET', `/v1/runs/${id}`).then((r) => r.body),
      (r) => FINISHED.has(r.status as string),
    );
  const create = async (body: Record<string, unknown>) => {
    const response = await t.request('POST', '/v1/workflows', {
      body: { name: `wf ${Math.random()}`, workflow_blocks: echo, ...body },
    });
    if (response.status !== 201) throw new Error(response.text);
    return response.body;
  };
  const deliver = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    t.request('POST', url, {
      key: null,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });

  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_JOB_RETRY_BASE_MS: '20',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('webhook', () => {
    it('gets an unguessable webhook_url, kept across versions; a delivery starts a run with the body', async () => {
      const wf = await create({ trigger_type: 'webhook' });
      expect(wf.webhook_url).toMatch(/^\/v1\/hooks\/[0-9A-Za-z]{32}$/);
      const manual = await create({ trigger_type: 'manual-trigger' });
      expect(manual.webhook_url).toBeNull();
      const v2 = await t.request('PATCH', `/v1/workflows/${wf.workflow_id}`, { body: { name: 'renamed' } });
      expect(v2.body.webhook_url).toBe(wf.webhook_url);

      const response = await deliver(wf.webhook_url, { order: 'A-1' });
      expect(response.status).toBe(202);
      expect(response.body.run_ids).toHaveLength(1);
      const run = await finished(response.body.run_ids[0]);
      expect(run.status).toBe('succeeded');
      expect(run.input).toEqual({ order: 'A-1' });
      expect(run.version_number).toBe(2);
      expect(run.steps[0].output).toEqual({ got: 'A-1' });
    });

    it('answers 404 for a wrong token and for a deleted workflow', async () => {
      expect((await deliver('/v1/hooks/notarealtoken', {})).status).toBe(404);
      const wf = await create({ trigger_type: 'webhook' });
      await t.request('DELETE', `/v1/workflows/${wf.workflow_id}`);
      expect((await deliver(wf.webhook_url, {})).status).toBe(404);
    });

    it('deduplicates on webhook-id or Idempotency-Key: one run, the same answer', async () => {
      const wf = await create({ trigger_type: 'webhook' });
      for (const header of ['webhook-id', 'idempotency-key']) {
        const id = `msg_${randomBytes(6).toString('hex')}`;
        const first = await deliver(wf.webhook_url, { order: 'B' }, { [header]: id });
        const again = await deliver(wf.webhook_url, { order: 'B' }, { [header]: id });
        expect(first.status).toBe(202);
        expect(again.status).toBe(202);
        expect(first.body.duplicate).toBe(false);
        expect(again.body.duplicate).toBe(true);
        expect(again.body.run_ids).toEqual(first.body.run_ids);
      }
      expect(await runsOf(wf.workflow_id)).toHaveLength(2);
    });

    it('requires and checks a Standard Webhooks signature when a signing secret is configured', async () => {
      const secretValue = `whsec_${randomBytes(24).toString('base64')}`;
      const secret = await t.request('POST', '/v1/secrets', {
        body: { name: `HOOK_${randomBytes(4).toString('hex')}`, value: secretValue },
      });
      expect(secret.status).toBe(201);
      const missing = await t.request('POST', '/v1/workflows', {
        body: {
          name: 'bad secret',
          trigger_type: 'webhook',
          trigger_configuration: { signing_secret_id: 'no-such-secret' },
          workflow_blocks: echo,
        },
      });
      expect(missing.status).toBe(400);
      const wf = await create({
        trigger_type: 'webhook',
        trigger_configuration: { signing_secret_id: secret.body.id },
      });
      const body = JSON.stringify({ order: 'S-1' });
      const now = Math.floor(Date.now() / 1000);
      const signed = (id: string, ts: number, payload = body, key = secretValue) => ({
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signWebhook(createNodeCrypto(), key, id, ts, payload),
      });

      const cases: [string, Record<string, string>, number][] = [
        ['unsigned', {}, 401],
        ['wrong key', signed('m1', now, body, 'whsec_' + randomBytes(24).toString('base64')), 401],
        ['signed over another body', signed('m2', now, '{"order":"other"}'), 401],
        ['6 minutes old', signed('m3', now - 360), 401],
        ['1 hour in the future', signed('m4', now + 3600), 401],
        ['non-numeric timestamp', { ...signed('m5', now), 'webhook-timestamp': 'soon' }, 401],
      ];
      for (const [name, headers, status] of cases) {
        const response = await deliver(wf.webhook_url, body, headers);
        expect({ name, status: response.status }).toEqual({ name, status });
      }
      expect(await runsOf(wf.workflow_id)).toHaveLength(0);

      const good = await deliver(wf.webhook_url, body, signed('m6', now));
      expect(good.status).toBe(202);
      // a replay 30 s later with the same webhook-id: accepted, deduplicated (G02 b)
      const replay = await deliver(wf.webhook_url, body, signed('m6', now + 30));
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({ duplicate: true, run_ids: good.body.run_ids });
      expect(await runsOf(wf.workflow_id)).toHaveLength(1);
      // several signatures, one of them right
      const multi = signed('m7', now);
      multi['webhook-signature'] = `v1,${randomBytes(32).toString('base64')} ${multi['webhook-signature']}`;
      expect((await deliver(wf.webhook_url, body, multi)).status).toBe(202);
    });

    describe('Standard Webhooks, as the reference library signs', () => {
      const newSecret = async (value: string) => {
        const response = await t.request('POST', '/v1/secrets', {
          body: { name: `HOOK_${randomBytes(4).toString('hex')}`, value },
        });
        expect(response.status).toBe(201);
        return response.body.id as string;
      };
      const signedBy = (secret: string, id: string, payload: string, extra: string[] = []) => {
        const signature = new Webhook(secret).sign(id, new Date(), payload);
        return {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': [...extra, signature].join(' '),
        };
      };
      const otherV1 = () => `v1,${randomBytes(32).toString('base64')}`;
      const v1a = () => `v1a,${randomBytes(64).toString('base64')}`;
      const hook = async (value: string) => {
        const secretId = await newSecret(value);
        const wf = await create({
          trigger_type: 'webhook',
          trigger_configuration: { signing_secret_id: secretId },
        });
        return { wf, secretId };
      };

      it.each<[string, string]>([
        ['whsec_ alone', 'whsec_'],
        ['not base64', 'not base64!'],
        ['too short to decode', 'whsec_abc'],
      ])(
        'refuses a signing secret that is %s at save, on the native and the OpenCX routes',
        async (_name, value) => {
          const secretId = await newSecret(value);
          const body = {
            name: `unusable ${randomBytes(3).toString('hex')}`,
            trigger_type: 'webhook',
            trigger_configuration: { signing_secret_id: secretId },
            workflow_blocks: echo,
          };
          const native = await t.request('POST', '/v1/workflows', { body });
          expect(native.status).toBe(400);
          expect(native.body.error.message).toContain(`signing secret ${secretId}`);
          expect(native.body.error.path).toBe('/trigger_configuration/signing_secret_id');
          const opencx = await t.request('POST', '/workflows', { body });
          expect(opencx.status).toBe(400);
          expect(opencx.body.message).toContain(`signing secret ${secretId}`);
        },
      );

      it('decodes a secret with or without whsec_ the same way', async () => {
        const key = randomBytes(24).toString('base64');
        for (const value of [`whsec_${key}`, key]) {
          const { wf } = await hook(value);
          const payload = JSON.stringify({ order: 'P-1' });
          const response = await deliver(
            wf.webhook_url,
            payload,
            signedBy(value, `msg_${randomBytes(4).toString('hex')}`, payload),
          );
          expect({ value, status: response.status }).toEqual({ value, status: 202 });
        }
      });

      it('accepts a header of many signatures (rotation, v1a beside v1) up to 64, and says when there are more', async () => {
        const secret = `whsec_${randomBytes(32).toString('base64')}`;
        const { wf } = await hook(secret);
        const payload = JSON.stringify({ order: 'R-1' });
        const filler = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? v1a() : otherV1()));
        const rotated = await deliver(
          wf.webhook_url,
          payload,
          signedBy(secret, 'msg_rot', payload, filler(39)),
        );
        expect(rotated.status).toBe(202);
        expect(rotated.body.run_ids).toHaveLength(1);
        const full = await deliver(
          wf.webhook_url,
          payload,
          signedBy(secret, 'msg_full', payload, filler(63)),
        );
        expect(full.status).toBe(202);
        const over = await deliver(
          wf.webhook_url,
          payload,
          signedBy(secret, 'msg_over', payload, filler(64)),
        );
        expect(over.status).toBe(400);
        expect(over.body.error.message).toBe(
          'webhook-signature carries 65 signatures; at most 64 are accepted',
        );
        const wrong = await deliver(wf.webhook_url, payload, {
          ...signedBy(secret, 'msg_wrong', payload),
          'webhook-signature': filler(10).join(' '),
        });
        expect(wrong.status).toBe(401);
      });

      it('accepts webhook-id values up to 256 bytes of any printable form, and deduplicates on them', async () => {
        const secret = `whsec_${randomBytes(32).toString('base64')}`;
        const { wf } = await hook(secret);
        const payload = JSON.stringify({ order: 'I-1' });
        const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
        const longest = `id ${printable.repeat(3)}`.slice(0, 255) + 'z';
        expect(Buffer.byteLength(longest, 'latin1')).toBe(256);
        for (const id of [longest, 'évènement über', 'a']) {
          const first = await deliver(wf.webhook_url, payload, signedBy(secret, id, payload));
          expect({ id, status: first.status }).toEqual({ id, status: 202 });
          const again = await deliver(wf.webhook_url, payload, signedBy(secret, id, payload));
          expect(again.body).toMatchObject({ duplicate: true, run_ids: first.body.run_ids });
        }
        const long = 'x'.repeat(257);
        const refused = await deliver(wf.webhook_url, payload, signedBy(secret, long, payload));
        expect(refused.status).toBe(400);
        expect(refused.body.error.message).toContain('webhook-id is 257 bytes long; at most 256');
      });

      it('fails closed when the secret is rotated to an empty value after the workflow was saved', async () => {
        const secret = `whsec_${randomBytes(32).toString('base64')}`;
        const { wf, secretId } = await hook(secret);
        const payload = JSON.stringify({ order: 'E-1' });
        const rotated = await t.request('PATCH', `/v1/secrets/${secretId}`, { body: { value: 'whsec_' } });
        expect(rotated.status).toBe(200);
        const forged = {
          'webhook-id': 'msg_forged',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': signWebhookWithEmptyKey('msg_forged', payload),
        };
        for (const headers of [signedBy(secret, 'msg_old', payload), forged]) {
          const response = await deliver(wf.webhook_url, payload, headers);
          expect(response.status).toBe(401);
        }
        expect(await runsOf(wf.workflow_id)).toHaveLength(0);
      });
    });

    it('starts no run when the constraints fail, and says so', async () => {
      const wf = await create({
        trigger_type: 'webhook',
        trigger_constraints: { '==': [{ var: 'order' }, 'yes'] },
      });
      const blocked = await deliver(wf.webhook_url, { order: 'no' });
      expect(blocked.status).toBe(202);
      expect(blocked.body.run_ids).toEqual([]);
      expect(blocked.body.workflows[0].skipped).toMatch(/constraints/);
      const passed = await deliver(wf.webhook_url, { order: 'yes' });
      expect(passed.body.run_ids).toHaveLength(1);
    });

    it('refuses a body over the webhook limit', async () => {
      const wf = await create({ trigger_type: 'webhook' });
      const response = await deliver(wf.webhook_url, { big: 'x'.repeat(300 * 1024) });
      expect(response.status).toBe(413);
    });
  });

  describe('events', () => {
    it('starts the matching workflows only, filtered by their constraints, once per event id', async () => {
      const tenant = await t.newTenant(['admin']);
      const as = { key: tenant.key };
      const make = async (trigger_type: string, trigger_constraints?: unknown) => {
        const response = await t.request('POST', '/v1/workflows', {
          ...as,
          body: { name: `wf ${Math.random()}`, trigger_type, trigger_constraints, workflow_blocks: echo },
        });
        expect(response.status).toBe(201);
        return response.body.workflow_id as string;
      };
      const any = await make('ticket-created');
      const vip = await make('ticket-created', { in: ['vip', { var: 'tags' }] });
      const other = await make('contact-created');
      const manual = await make('manual-trigger');

      const send = (id: string, data: Record<string, unknown>) =>
        t.request('POST', '/v1/events', { ...as, body: { type: 'ticket-created', id, data } });
      const first = await send('evt-1', { order: 'T-1', tags: ['normal'] });
      expect(first.status).toBe(202);
      expect(first.body.run_ids).toHaveLength(1);
      const byWorkflow = Object.fromEntries(
        (first.body.workflows as { workflow_id: string; run_id: string | null }[]).map((w) => [
          w.workflow_id,
          w,
        ]),
      );
      expect(byWorkflow[any]?.run_id).toBe(first.body.run_ids[0]);
      expect(byWorkflow[vip]?.run_id).toBeNull();
      expect(byWorkflow[other]).toBeUndefined();
      expect(byWorkflow[manual]).toBeUndefined();

      const second = await send('evt-2', { order: 'T-2', tags: ['vip'] });
      expect(second.body.run_ids).toHaveLength(2);

      const repeat = await send('evt-2', { order: 'T-2', tags: ['vip'] });
      expect(repeat.status).toBe(202);
      expect(repeat.body.duplicate).toBe(true);
      expect(repeat.body.run_ids).toEqual(second.body.run_ids);
      const count = async (id: string) =>
        (await t.request('GET', `/v1/workflows/${id}/runs`, as)).body.data.length as number;
      expect([await count(any), await count(vip), await count(other)]).toEqual([2, 1, 0]);

      // another organization's event reaches none of these workflows
      const foreign = await t.request('POST', '/v1/events', {
        body: { type: 'ticket-created', id: 'evt-3', data: {} },
      });
      expect(foreign.status).toBe(202);
      expect(foreign.body.workflows).toEqual([]);

      const run = await until(
        () => t.request('GET', `/v1/runs/${first.body.run_ids[0]}`, as).then((r) => r.body),
        (r) => FINISHED.has(r.status as string),
      );
      expect(run).toMatchObject({ status: 'succeeded', input: { order: 'T-1', tags: ['normal'] } });
    });

    it('refuses a type that is not an event trigger, and needs workflows:execute', async () => {
      const bad = await t.request('POST', '/v1/events', { body: { type: 'webhook', id: 'x', data: {} } });
      expect(bad.status).toBe(400);
      const reader = await t.newTenant(['workflows:read']);
      const denied = await t.request('POST', '/v1/events', {
        key: reader.key,
        body: { type: 'ticket-created', id: 'x', data: {} },
      });
      expect(denied.status).toBe(403);
    });
  });

  describe('constraints', () => {
    const manualRun = async (constraints: unknown, input: Record<string, unknown>) => {
      const wf = await create({ trigger_type: 'manual-trigger', trigger_constraints: constraints });
      return t.request('POST', `/v1/workflows/${wf.workflow_id}/runs`, { body: { input } });
    };

    it.each<[string, unknown, Record<string, unknown>, number]>([
      [
        'ISO dates compare as text',
        { '<': [{ var: 'at' }, '2025-01-01T00:00:00Z'] },
        { at: '2024-12-31T09:00:00Z' },
        202,
      ],
      ['a later ISO date does not pass', { '>=': [{ var: 'at' }, '2025-01-01'] }, { at: '2024-12-31' }, 422],
      ['a missing var is null', { '===': [{ var: 'x' }, null] }, {}, 202],
      ['an empty and is false', { and: [] }, {}, 422],
      ['< between, inside', { '<': [1, { var: 'n' }, 3] }, { n: 2 }, 202],
      ['< between, at the bound', { '<': [1, { var: 'n' }, 3] }, { n: 3 }, 422],
      [
        '<= between ISO dates',
        { '<=': ['2024-01-01', { var: 'at' }, '2024-12-31'] },
        { at: '2024-06-30' },
        202,
      ],
      ['<= between, at the bound', { '<=': [1, { var: 'n' }, 3] }, { n: 3 }, 202],
      ['cat and substr', { '==': [{ substr: [{ cat: ['ab', { var: 's' }] }, 1] }, 'bcd'] }, { s: 'cd' }, 202],
      ['merge and in', { in: ['b', { merge: [['a'], { var: 'more' }] }] }, { more: ['b'] }, 202],
      [
        'arithmetic',
        { '==': [{ '%': [{ '+': [{ '*': [2, 3] }, { '-': [5, 1] }, { '/': [4, 2] }] }, 5] }, 2] },
        {},
        202,
      ],
      ['min and max', { '<': [{ min: [{ var: 'a' }, 9] }, { max: [1, 2] }] }, { a: 1 }, 202],
      [
        'missing and missing_some',
        { and: [{ '!': { missing: ['a'] } }, { missing_some: [1, ['a', 'b']] }] },
        { a: 1 },
        422,
      ],
      [
        'map, filter and reduce',
        {
          '==': [
            {
              reduce: [
                { filter: [{ map: [{ var: 'l' }, { '*': [{ var: '' }, 2] }] }, { '>': [{ var: '' }, 2] }] },
                { '+': [{ var: 'current' }, { var: 'accumulator' }] },
                0,
              ],
            },
            10,
          ],
        },
        { l: [1, 2, 3] },
        202,
      ],
      [
        'all, some and none',
        {
          and: [
            { all: [{ var: 'l' }, { var: '' }] },
            { some: [{ var: 'l' }, { '==': [{ var: '' }, 2] }] },
            { none: [{ var: 'l' }, { '>': [{ var: '' }, 5] }] },
          ],
        },
        { l: [1, 2] },
        202,
      ],
      ['if and !!', { if: [{ '!!': [{ var: 'vip' }] }, true, false] }, { vip: 'yes' }, 202],
      ['a literal true', true, {}, 202],
      ['a literal false', false, {}, 422],
      ['a literal empty list', [], {}, 422],
    ])('hold as JSON Logic: %s', async (_name, constraints, input, status) => {
      const response = await manualRun(constraints, input);
      expect({ status: response.status, text: response.text }).toMatchObject({ status });
    });

    it.each<[string, unknown, string]>([
      ['log, by name', { and: [true, { log: 'x' }] }, '"log" at /and/1'],
      ['a custom operator, by name and path', { or: [false, { is_weekday: [] }] }, '"is_weekday" at /or/1'],
      ['an engine extension that is not JSON Logic', { val: 'x' }, '"val"'],
    ])('refuse at save %s', async (_name, constraints, message) => {
      const response = await t.request('POST', '/v1/workflows', {
        body: {
          name: 'bad',
          trigger_type: 'manual-trigger',
          trigger_constraints: constraints,
          workflow_blocks: echo,
        },
      });
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain(message);
    });

    it('are checked at save (400 naming the operator) and on manual runs (422)', async () => {
      const bad = await t.request('POST', '/v1/workflows', {
        body: {
          name: 'bad constraints',
          trigger_type: 'manual-trigger',
          trigger_constraints: { '==': [1, { sorta: 1 }] },
          workflow_blocks: echo,
        },
      });
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('sorta');
      const wf = await create({
        trigger_type: 'manual-trigger',
        trigger_constraints: { '>': [{ var: 'amount' }, 10] },
      });
      const blocked = await t.request('POST', `/v1/workflows/${wf.workflow_id}/runs`, {
        body: { input: { amount: 5 } },
      });
      expect(blocked.status).toBe(422);
      expect(blocked.text).toMatch(/constraints/);
      const passed = await t.request('POST', `/v1/workflows/${wf.workflow_id}/runs`, {
        body: { input: { amount: 50 } },
      });
      expect(passed.status).toBe(202);
    });
  });

  describe('manual runs with an Idempotency-Key (G07)', () => {
    it('answers the first run again for the same key and input, 422 for another input, and keeps tenants apart', async () => {
      const wf = await create({ trigger_type: 'manual-trigger' });
      const url = `/v1/workflows/${wf.workflow_id}/runs`;
      const key = `run-key-${Math.random()}`;
      const first = await t.request('POST', url, {
        body: { input: { order: 'A1' } },
        headers: { 'idempotency-key': key },
      });
      expect(first.status).toBe(202);
      const again = await t.request('POST', url, {
        body: { input: { order: 'A1' } },
        headers: { 'idempotency-key': key },
      });
      expect(again.status).toBe(202);
      expect(again.text).toBe(first.text);
      const [a, b] = await Promise.all(
        [1, 2].map(() =>
          t.request('POST', url, { body: { input: { order: 'A1' } }, headers: { 'idempotency-key': key } }),
        ),
      );
      expect(a?.body.id).toBe(first.body.id);
      expect(b?.body.id).toBe(first.body.id);
      expect((await runsOf(wf.workflow_id)).map((r) => r.id)).toEqual([first.body.id]);

      const other = await t.request('POST', url, {
        body: { input: { order: 'B2' } },
        headers: { 'idempotency-key': key },
      });
      expect(other.status).toBe(422);

      // the same key in another organization is another key
      const tenant = await t.newTenant(['workflows:write', 'workflows:execute', 'workflows:read']);
      const theirs = await t.request('POST', '/v1/workflows', {
        key: tenant.key,
        body: { name: 'theirs', trigger_type: 'manual-trigger', workflow_blocks: echo },
      });
      const started = await t.request('POST', `/v1/workflows/${theirs.body.workflow_id}/runs`, {
        key: tenant.key,
        body: { input: { order: 'A1' } },
        headers: { 'idempotency-key': key },
      });
      expect(started.status).toBe(202);
      expect(started.body.id).not.toBe(first.body.id);
      expect((await finished(first.body.id)).status).toBe('succeeded');
    });
  });
});
