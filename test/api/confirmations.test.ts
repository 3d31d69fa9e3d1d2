/**
 * Confirmation before consequential actions, on both stores: an action with requires_confirmation is
 * shown, not run (its request previewed with secrets masked); confirming runs it once under the same
 * execution id, declining runs nothing, and past its deadline it expires. Bad inputs fail at once, and
 * another organization sees none of it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONFIRMATION_TTL_MS } from '../../src/core/confirmations.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const CANARY = `confirm-canary-${randomBytes(12).toString('hex')}`;

describe.each(STORE_KINDS)('confirmation before consequential actions on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let secretId: string;
  /** Shifts the container's clock: how the tests reach an expiry without waiting ten minutes. */
  let offsetMs = 0;

  /** An action that requires confirmation: `POST {upstream}/echo/{case}` with an order id in the body. */
  async function confirmedAction(): Promise<{ id: string; path: string }> {
    const path = `/echo/${randomBytes(6).toString('hex')}`;
    const response = await t.request('POST', '/v1/actions', {
      body: {
        name: `Cancel order ${randomBytes(3).toString('hex')}`,
        description: 'Cancels an order',
        kind: 'http',
        requires_confirmation: true,
        variables: [{ name: 'order_id', type: 'integer', required: true }],
        http: {
          method: 'POST',
          url: `${upstream.url}${path}`,
          body: { order_id: '{{order_id}}' },
          auth: { type: 'bearer', secret_id: secretId },
        },
      },
    });
    if (response.status !== 201) throw new Error(response.text);
    return { id: response.body.id as string, path };
  }

  const execute = (id: string, inputs: Record<string, unknown> = { order_id: 42 }, extra = {}) =>
    t.request('POST', `/v1/actions/${id}/execute`, { body: { inputs, ...extra } });
  const sent = (path: string) => upstream.requests.filter((r) => r.path === path);
  const answer = (id: string, what: 'confirm' | 'decline', key?: string) =>
    t.request('POST', `/v1/executions/${id}/${what}`, { key });
  const execution = async (id: string) => (await t.request('GET', `/v1/executions/${id}`)).body;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(
      kind,
      { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' },
      { clock: { now: () => Date.now() + offsetMs } },
    );
    const secret = await t.request('POST', '/v1/secrets', { body: { name: 'SHOP_TOKEN', value: CANARY } });
    secretId = secret.body.id as string;
  });
  beforeEach(() => {
    offsetMs = 0;
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('answers awaiting_confirmation with the masked request, then runs it once when confirmed', async () => {
    const { id, path } = await confirmedAction();
    const before = Date.now();
    const awaiting = await execute(id);
    expect(awaiting.status).toBe(200);
    expect(awaiting.body).toMatchObject({
      status: 'awaiting_confirmation',
      output: null,
      error: null,
      finished_at: null,
      inputs: { order_id: 42 },
      request: {
        method: 'POST',
        url: `${upstream.url}${path}`,
        body: '{"order_id":42}',
        headers: { Authorization: 'Bearer [REDACTED:SHOP_TOKEN]' },
      },
    });
    const expiresIn = Date.parse(awaiting.body.expires_at) - before;
    expect(expiresIn).toBeGreaterThan(CONFIRMATION_TTL_MS - 5_000);
    expect(expiresIn).toBeLessThanOrEqual(CONFIRMATION_TTL_MS + 5_000);
    expect(awaiting.text).not.toContain(CANARY);
    expect(await execution(awaiting.body.id)).toMatchObject({ status: 'awaiting_confirmation' });
    expect(sent(path)).toHaveLength(0);

    const confirmed = await answer(awaiting.body.id, 'confirm');
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: awaiting.body.id, status: 'succeeded', error: null });
    expect(confirmed.body.request).toBeUndefined();
    expect(sent(path)).toHaveLength(1);
    expect(sent(path)[0]?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(JSON.parse(sent(path)[0]!.body.toString())).toEqual({ order_id: 42 });
    const recorded = await execution(awaiting.body.id);
    expect(recorded).toMatchObject({ status: 'succeeded', action_id: id });
    expect(JSON.stringify(recorded)).not.toContain(CANARY);

    // confirming twice answers the same execution and sends nothing more
    const again = await answer(awaiting.body.id, 'confirm');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: awaiting.body.id, status: 'succeeded' });
    expect(sent(path)).toHaveLength(1);
    // and it can no longer be declined
    expect((await answer(awaiting.body.id, 'decline')).status).toBe(409);
  });

  it('runs the action version that was called, even if the action changed meanwhile', async () => {
    const { id, path } = await confirmedAction();
    const awaiting = await execute(id);
    const edited = await t.request('PATCH', `/v1/actions/${id}`, {
      body: { http: { method: 'POST', url: `${upstream.url}${path}/v2`, body: {} } },
    });
    expect(edited.status).toBe(200);
    const confirmed = await answer(awaiting.body.id, 'confirm');
    expect(confirmed.body).toMatchObject({ status: 'succeeded', action_version: 1 });
    expect(sent(path)).toHaveLength(1);
    expect(sent(`${path}/v2`)).toHaveLength(0);
  });

  it('records a declined execution and sends nothing', async () => {
    const { id, path } = await confirmedAction();
    const awaiting = await execute(id);
    const declined = await answer(awaiting.body.id, 'decline');
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ id: awaiting.body.id, status: 'declined' });
    expect(declined.body.finished_at).not.toBeNull();
    expect(await execution(awaiting.body.id)).toMatchObject({ status: 'declined' });
    expect((await answer(awaiting.body.id, 'decline')).body).toMatchObject({ status: 'declined' });
    const confirm = await answer(awaiting.body.id, 'confirm');
    expect(confirm.status).toBe(409);
    expect(confirm.body.error.message).toMatch(/declined/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sent(path)).toHaveLength(0);
  });

  it('expires after its window: read as expired, confirm answers 410, nothing is sent', async () => {
    const { id, path } = await confirmedAction();
    const read = await execute(id);
    const confirm = await execute(id);
    offsetMs = CONFIRMATION_TTL_MS + 1_000;

    expect(await execution(read.body.id)).toMatchObject({ status: 'expired' });
    const late = await answer(read.body.id, 'confirm');
    expect(late.status).toBe(410);
    expect(late.text).toMatch(/expired|passed/);

    const lateFirst = await answer(confirm.body.id, 'confirm');
    expect(lateFirst.status).toBe(410);
    expect(await execution(confirm.body.id)).toMatchObject({ status: 'expired' });
    expect((await answer(confirm.body.id, 'decline')).status).toBe(410);
    const listed = await t.request('GET', `/v1/executions?action_id=${id}`);
    expect(listed.body.data.map((e: { status: string }) => e.status)).toEqual(['expired', 'expired']);
    expect(sent(path)).toHaveLength(0);
  });

  it('fails bad inputs at once, with nothing to confirm', async () => {
    const { id, path } = await confirmedAction();
    const bad = await execute(id, { order_id: 'not a number' });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
    expect(bad.body.expires_at).toBeUndefined();
    expect((await answer(bad.body.id, 'confirm')).status).toBe(409);
    expect(sent(path)).toHaveLength(0);
  });

  it('a dry run stays a dry run', async () => {
    const { id, path } = await confirmedAction();
    const dry = await execute(id, { order_id: 7 }, { dry_run: true });
    expect(dry.body).toMatchObject({ dry_run: true, status: 'dry_run' });
    expect(sent(path)).toHaveLength(0);
  });

  it('hides an execution from another organization and needs actions:execute', async () => {
    const { id, path } = await confirmedAction();
    const awaiting = await execute(id);
    const other = await t.newTenant();
    expect((await answer(awaiting.body.id, 'confirm', other.key)).status).toBe(404);
    expect((await answer(awaiting.body.id, 'decline', other.key)).status).toBe(404);
    expect((await t.request('GET', `/v1/executions/${awaiting.body.id}`, { key: other.key })).status).toBe(
      404,
    );
    const reader = await t.request('POST', '/v1/keys', {
      body: { name: 'reader', scopes: ['actions:read'] },
    });
    expect((await answer(awaiting.body.id, 'confirm', reader.body.key)).status).toBe(403);
    expect((await answer('no-such-execution', 'confirm')).status).toBe(404);
    expect(await execution(awaiting.body.id)).toMatchObject({ status: 'awaiting_confirmation' });
    expect(sent(path)).toHaveLength(0);
  });

  it('runs once when two confirmations race', async () => {
    const { id, path } = await confirmedAction();
    const awaiting = await execute(id);
    const answers = await Promise.all([
      answer(awaiting.body.id, 'confirm'),
      answer(awaiting.body.id, 'confirm'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers.map((a) => a.body.id)).toEqual([awaiting.body.id, awaiting.body.id]);
    expect(answers.some((a) => a.body.status === 'succeeded')).toBe(true);
    expect(sent(path)).toHaveLength(1);
  });
});
