/**
 * Post-call actions (Talkover's `external`, execution mode post_call) through the API, on both stores:
 * queued while the conversation goes on, run from the durable queue when it ends, retried with backoff,
 * one stable Idempotency-Key on every attempt, and ending a conversation twice runs nothing twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

describe.each(STORE_KINDS)('post-call actions on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;

  async function postCallAction(path: string): Promise<string> {
    const response = await t.request('POST', '/v1/actions', {
      body: {
        name: `After the call ${Math.random()}`,
        description: 'Sends the call summary to the CRM',
        kind: 'http',
        execution_mode: 'post_call',
        variables: [{ name: 'summary', type: 'string', required: true }],
        http: {
          method: 'POST',
          url: `${upstream.url}${path}`,
          body: { summary: '{{summary}}' },
          retry: { max_attempts: 1 },
        },
      },
    });
    if (response.status !== 201) throw new Error(response.text);
    return response.body.id as string;
  }

  const execute = (
    id: string,
    conversation: string | undefined,
    inputs: Record<string, unknown> = { summary: 'ok' },
  ) =>
    t.request('POST', `/v1/actions/${id}/execute`, {
      body: { inputs, ...(conversation === undefined ? {} : { conversation_id: conversation }) },
    });
  const execution = async (id: string) => (await t.request('GET', `/v1/executions/${id}`)).body;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_RETRY_BASE_MS: '20',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('queues the call, sends nothing during the conversation, runs it once when the conversation ends', async () => {
    const id = await postCallAction('/effects');
    const conversation = `conv-${Math.random()}`;
    const queued = await execute(id, conversation, { summary: 'Caller wants a refund' });
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({ status: 'queued', output: null, error: null });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(upstream.effects.size).toBe(0);

    const ended = await t.request('POST', `/v1/conversations/${conversation}/end`);
    expect(ended.status).toBe(202);
    expect(ended.body).toEqual({
      conversation_id: conversation,
      post_call: [{ execution_id: queued.body.id, action_id: id, job_id: expect.any(String) }],
    });
    const done = await until(
      () => execution(queued.body.id as string),
      (e) => e.status !== 'queued',
    );
    expect(done).toMatchObject({ status: 'succeeded', output: { count: 1 } });
    const key = `post-call:${queued.body.id as string}`;
    expect(upstream.effects.get(key)).toBe(1);
    const sent = upstream.requests.find((r) => r.headers['idempotency-key'] === key);
    expect(JSON.parse(sent!.body.toString())).toEqual({ summary: 'Caller wants a refund' });

    // ending it again finds the same job: nothing runs twice
    const again = await t.request('POST', `/v1/conversations/${conversation}/end`);
    expect(again.body.post_call).toEqual(ended.body.post_call);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(upstream.effects.get(key)).toBe(1);
  });

  it('retries a failing delivery with backoff, with the same Idempotency-Key each time', async () => {
    const flakyKey = `k${Math.random()}`;
    const id = await postCallAction(`/flaky?key=${flakyKey}&fail=2`);
    const conversation = `conv-${Math.random()}`;
    const queued = await execute(id, conversation);
    await t.request('POST', `/v1/conversations/${conversation}/end`);
    const done = await until(
      () => execution(queued.body.id as string),
      (e) => e.status === 'succeeded',
    );
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3 });
    const keys = upstream.requests
      .filter((r) => r.path.includes(flakyKey))
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([
      `post-call:${queued.body.id as string}`,
      `post-call:${queued.body.id as string}`,
      `post-call:${queued.body.id as string}`,
    ]);
  });

  it('does not retry a failure another attempt cannot cure, and runs a call without a conversation at once', async () => {
    const id = await postCallAction('/status/404');
    const conversation = `conv-${Math.random()}`;
    const queued = await execute(id, conversation);
    await t.request('POST', `/v1/conversations/${conversation}/end`);
    const done = await until(
      () => execution(queued.body.id as string),
      (e) => e.status !== 'queued',
    );
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { category: 'not_found' } });

    const now = await execute(await postCallAction('/effects'), undefined);
    expect(now.body.status).toBe('succeeded');
  });

  it('refuses bad inputs when called, not after the call', async () => {
    const id = await postCallAction('/effects');
    const conversation = `conv-${Math.random()}`;
    const refused = await execute(id, conversation, {});
    expect(refused.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
    const ended = await t.request('POST', `/v1/conversations/${conversation}/end`);
    expect(ended.body.post_call).toEqual([]);
  });

  it('keeps each organization to its own conversations', async () => {
    const id = await postCallAction('/effects');
    const conversation = `conv-${Math.random()}`;
    await execute(id, conversation);
    const other = await t.newTenant(['actions:execute']);
    const ended = await t.request('POST', `/v1/conversations/${conversation}/end`, { key: other.key });
    expect(ended.status).toBe(202);
    expect(ended.body.post_call).toEqual([]);
  });
});
