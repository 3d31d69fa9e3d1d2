/**
 * Cancellation reaches the kind, on both stores: a client that closes its connection (the execute route
 * and MCP tools/call), a queue job told to stop (a workflow step, a post-call attempt) and the execution
 * deadline abort the upstream request or the sandbox run, and the record says `cancelled`. The upstream
 * is a real loopback server that notes when a request's connection goes away before its answer.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type RecordedRequest, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

const unique = (name: string) => `${name} ${Math.random().toString(36).slice(2, 8)}`;

async function createAction(t: TestApp, body: Record<string, unknown>): Promise<string> {
  const response = await t.request('POST', '/v1/actions', {
    body: { name: unique('Action'), description: 'cancellation test', ...body },
  });
  if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
  return response.body.id as string;
}

/** The request the upstream received on `path` once it has arrived. */
const arrived = (upstream: Upstream, path: string): Promise<RecordedRequest> =>
  until(
    async () => upstream.requests.find((r) => r.path.startsWith(path)),
    (found) => found !== undefined,
  ) as Promise<RecordedRequest>;

/** The execution of `actionId`, once it reads `status`. */
async function executionOf(t: TestApp, actionId: string, status: string) {
  const listed = await until(
    () => t.request('GET', `/v1/executions?action_id=${actionId}`),
    (r) => r.body.data?.[0]?.status === status,
  );
  return listed.body.data[0];
}

describe.each(STORE_KINDS)('cancellation on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let base: string;

  /** POSTs to the listening server, then closes the connection once the upstream has the request. */
  async function hangUp(
    path: string,
    body: unknown,
    upstreamPath: string,
    headers: Record<string, string> = {},
  ) {
    const request = httpRequest(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.adminKey}`,
        'content-type': 'application/json',
        ...headers,
      },
    });
    request.on('error', () => undefined); // the socket is closed on purpose
    request.end(JSON.stringify(body));
    const seen = await arrived(upstream, upstreamPath);
    request.destroy();
    return seen;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  beforeEach(() => {
    upstream.requests.length = 0;
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('a client that hangs up on execute aborts the upstream request; the record says cancelled', async () => {
    const id = await createAction(t, { kind: 'http', http: { method: 'GET', url: `${upstream.url}/hang` } });
    const seen = await hangUp(`/v1/actions/${id}/execute`, {}, '/hang');
    await until(
      async () => seen.aborted,
      (aborted) => aborted,
    );
    const record = await executionOf(t, id, 'cancelled');
    expect(record.error).toMatchObject({ category: 'cancelled', message: expect.any(String) });
    expect(record.error.detail).toMatch(/closed the connection/);
    expect(record.finished_at).not.toBeNull();
  });

  it('a cancelled execution does not answer for its Idempotency-Key: the same key runs again', async () => {
    const id = await createAction(t, {
      kind: 'http',
      http: { method: 'POST', url: `${upstream.url}/slow-headers?ms=60000` },
    });
    const key = `cancel-${Math.random()}`;
    await hangUp(`/v1/actions/${id}/execute`, {}, '/slow-headers', { 'idempotency-key': key });
    await executionOf(t, id, 'cancelled');
    upstream.requests.length = 0;
    upstream.setHandler((req, res) => {
      if (!req.url?.startsWith('/slow-headers')) return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ran":"again"}');
      return true;
    });
    try {
      const again = await t.request('POST', `/v1/actions/${id}/execute`, {
        body: {},
        headers: { 'idempotency-key': key },
      });
      expect(again.body).toMatchObject({ status: 'succeeded', output: { ran: 'again' } });
      expect(upstream.requests).toHaveLength(1);
      expect(upstream.requests[0]?.headers['idempotency-key']).toBe(key);
    } finally {
      upstream.setHandler(undefined);
    }
  });

  it('a client that hangs up on tools/call aborts the upstream request; the record says cancelled', async () => {
    const id = await createAction(t, {
      kind: 'http',
      http: { method: 'GET', url: `${upstream.url}/hang?mcp` },
    });
    const action = await t.request('GET', `/v1/actions/${id}`);
    const call = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: action.body.tool_name, arguments: {} },
    };
    const seen = await hangUp('/mcp', call, '/hang?mcp', {
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    });
    await until(
      async () => seen.aborted,
      (aborted) => aborted,
    );
    const record = await executionOf(t, id, 'cancelled');
    expect(record.error).toMatchObject({ category: 'cancelled' });
  });

  it('a client that hangs up on a code action stops its fetch and its guest', async () => {
    const fetching = await createAction(t, {
      kind: 'code',
      code: { source: `const r = await fetch('${upstream.url}/hang?code'); return r.status;` },
    });
    const seen = await hangUp(`/v1/actions/${fetching}/execute`, {}, '/hang?code');
    await until(
      async () => seen.aborted,
      (aborted) => aborted,
    );
    expect((await executionOf(t, fetching, 'cancelled')).error).toMatchObject({ category: 'cancelled' });

    // a guest busy in synchronous code is stopped too: long before its 5 s limit, its worker is replaced
    const spinning = await createAction(t, { kind: 'code', code: { source: 'for (;;) {}' } });
    const sandbox = t.infrastructure.sandbox;
    const request = httpRequest(`${base}/v1/actions/${spinning}/execute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    });
    request.on('error', () => undefined);
    request.end('{}');
    await until(
      async () => sandbox.stats().busy,
      (busy) => busy > 0,
    );
    const startedBefore = sandbox.stats().started;
    const hungUpAt = Date.now();
    request.destroy();
    const record = await executionOf(t, spinning, 'cancelled');
    expect(Date.now() - hungUpAt).toBeLessThan(2_500);
    expect(record.error).toMatchObject({ category: 'cancelled' });
    expect(sandbox.stats().started).toBeGreaterThan(startedBefore);
  });
});

describe.each(STORE_KINDS)('jobs told to stop on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  /** Starts a run of a new manual workflow with one step. */
  async function runOf(step: Record<string, unknown>): Promise<string> {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: { name: unique('Stopped'), trigger_type: 'manual-trigger', workflow_blocks: [step] },
    });
    if (workflow.status !== 201) throw new Error(`workflow not created: ${workflow.text}`);
    const started = await t.request('POST', `/v1/workflows/${workflow.body.workflow_id}/runs`, {
      body: { input: {} },
    });
    return started.body.id as string;
  }

  it('stopped jobs abort an action step, an http step and a post-call attempt; the records say cancelled and no step fails', async () => {
    const stepAction = await createAction(t, {
      kind: 'http',
      http: { method: 'GET', url: `${upstream.url}/hang?step-action` },
    });
    const postCall = await createAction(t, {
      kind: 'http',
      execution_mode: 'post_call',
      http: { method: 'POST', url: `${upstream.url}/hang?post-call` },
    });
    const actionRun = await runOf({
      $kind: 'Action',
      id: 'call',
      type: 'action',
      input: { action_id: stepAction, inputs: {} },
    });
    const httpRun = await runOf({
      $kind: 'Action',
      id: 'send',
      type: 'http',
      input: { method: 'GET', url: `${upstream.url}/hang?step-http` },
    });
    const conversation = `conv-${Math.random()}`;
    const queued = await t.request('POST', `/v1/actions/${postCall}/execute`, {
      body: { conversation_id: conversation },
    });
    expect(queued.body.status).toBe('queued');
    await t.request('POST', `/v1/conversations/${conversation}/end`);

    const inFlight = await Promise.all(
      ['/hang?step-action', '/hang?step-http', '/hang?post-call'].map((path) => arrived(upstream, path)),
    );
    await t.container.queue.stop(100);
    await until(
      async () => inFlight.every((request) => request.aborted),
      (aborted) => aborted,
    );

    expect((await executionOf(t, stepAction, 'cancelled')).error).toMatchObject({ category: 'cancelled' });
    const attempt = await until(
      () => t.request('GET', `/v1/executions/${queued.body.id}`),
      (r) => r.body.status === 'cancelled',
    );
    expect(attempt.body.error).toMatchObject({ category: 'cancelled' });
    expect(attempt.body.error.detail).toMatch(/stopping/);

    // a step stopped with its job is not over: it runs again with the job, so neither it nor its run failed
    for (const [runId, stepId] of [
      [actionRun, 'call'],
      [httpRun, 'send'],
    ] as const) {
      const run = await t.request('GET', `/v1/runs/${runId}`);
      expect(run.body.status).toBe('running');
      expect(run.body.steps.find((s: { id: string }) => s.id === stepId)).toMatchObject({
        status: 'running',
      });
    }
    // the http step's transient action is the run's to record, not an execution of its own
    const transient = await t.request('GET', '/v1/executions?action_id=workflow-step:send');
    expect(transient.body.data).toEqual([]);
  });
});

describe.each(STORE_KINDS)('the execution deadline on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;

  beforeAll(async () => {
    upstream = await startUpstream();
    // every cap at 1 s: the deadline is 1 s and a 250 ms grace
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_EGRESS_TIMEOUT_MS: '1000',
      SWITCHBOARD_EGRESS_TIMEOUT_CAP_MS: '1000',
      SWITCHBOARD_SANDBOX_TIMEOUT_MS: '1000',
      SWITCHBOARD_SANDBOX_TIMEOUT_CAP_MS: '1000',
    });
  });
  afterAll(async () => {
    await t.close();
    await upstream.close();
  });

  it('stops an action past its deadline (a slow token, then a request that hangs): cancelled, as a timeout', async () => {
    upstream.setHandler((req, res) => {
      if (req.url !== '/token') return false;
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'deadline-token', expires_in: 60 }));
      }, 700).unref();
      return true;
    });
    const id = await createAction(t, {
      kind: 'http',
      http: {
        method: 'GET',
        url: `${upstream.url}/hang?deadline`,
        auth: { type: 'token_url', url: `${upstream.url}/token` },
      },
    });
    const began = Date.now();
    const response = await t.request('POST', `/v1/actions/${id}/execute`, { body: {} });
    const tookMs = Date.now() - began;
    expect(response.body).toMatchObject({ status: 'cancelled', error: { category: 'timeout' } });
    expect(response.body.error.detail).toMatch(/deadline of 1250 ms/);
    // the request alone would have run until 700 + 1000 ms
    expect(tookMs).toBeLessThan(1_650);
    const seen = await arrived(upstream, '/hang?deadline');
    await until(
      async () => seen.aborted,
      (aborted) => aborted,
    );
  });
});
