/**
 * Workflows through the native API on both stores: versions, a run of action, http, set, delay and
 * if-else steps on the durable queue with references between steps, version pinning, a failing step,
 * cancel, and the save-time 400 for a reference to a step that cannot have run before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

describe.each(STORE_KINDS)('workflows on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let lookupId: string;

  const run = (id: string) => t.request('GET', `/v1/runs/${id}`).then((r) => r.body);
  const finished = (id: string) =>
    until(
      () => run(id),
      (r) => FINISHED.has(r.status as string),
    );
  const start = async (workflowId: string, input: Record<string, unknown>) => {
    const response = await t.request('POST', `/v1/workflows/${workflowId}/runs`, { body: { input } });
    expect(response.status).toBe(202);
    return response.body.id as string;
  };
  const create = async (blocks: unknown[], name = `wf ${Math.random()}`) => {
    const response = await t.request('POST', '/v1/workflows', {
      body: { name, trigger_type: 'manual-trigger', workflow_blocks: blocks },
    });
    if (response.status !== 201) throw new Error(response.text);
    return response.body;
  };
  const stepOf = (r: { steps: { id: string }[] }, id: string) => r.steps.find((s) => s.id === id) as any;

  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.setHandler((req, res) => {
      const match = /^\/orders\/([^/?]+)/.exec(req.url ?? '');
      if (!match) return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: decodeURIComponent(match[1] ?? ''), status: 'shipped', total: 42 }));
      return true;
    });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_RETRY_BASE_MS: '20',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
    const action = await t.request('POST', '/v1/actions', {
      body: {
        name: `Lookup order ${Math.random()}`,
        description: 'Looks an order up',
        kind: 'http',
        variables: [{ name: 'order_id', type: 'string', required: true }],
        http: { method: 'GET', url: `${upstream.url}/orders/{{order_id}}` },
      },
    });
    expect(action.status).toBe(201);
    lookupId = action.body.id as string;
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('runs action, http, set, delay and if-else steps in order, each reading earlier outputs', async () => {
    const workflow = await create([
      {
        $kind: 'Action',
        id: 'order',
        type: 'action',
        name: 'Look it up',
        input: { action_id: lookupId, inputs: { order_id: '{{trigger.order_id}}' } },
      },
      {
        $kind: 'Block',
        type: 'if-else',
        id: 'is_shipped',
        inputs: { condition: { operatorName: 'equals', left: '{{order.output.status}}', right: 'shipped' } },
        branches: {
          then: [
            {
              $kind: 'Action',
              id: 'notify',
              type: 'http',
              name: 'Tell the CRM',
              input: {
                method: 'POST',
                url: `${upstream.url}/effects?order={{order.output.id}}`,
                headers: { 'X-Total': '{{order.output.total}}' },
                body: { total: '{{order.output.total}}', note: 'order {{trigger.order_id}}' },
              },
            },
            { $kind: 'Action', id: 'pause', type: 'delay', input: { seconds: 1 } },
          ],
          else: [{ $kind: 'Action', id: 'not_shipped', type: 'set', input: { values: { shipped: false } } }],
        },
      },
      {
        $kind: 'Action',
        id: 'summary',
        type: 'set',
        input: {
          values: {
            total: '{{order.output.total}}',
            effects: '{{notify.output.count}}',
            text: 'order {{order.output.id}} is {{order.output.status}}',
          },
        },
      },
    ]);
    expect(workflow).toMatchObject({
      workflow_id: expect.any(String),
      id: expect.any(String),
      version_number: 1,
      is_active: true,
    });

    const started = Date.now();
    const id = await start(workflow.workflow_id, { order_id: 'A/17' });
    const done = await finished(id);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // the delay waited on the queue
    expect(done.steps.map((s: { id: string }) => s.id)).toEqual([
      'order',
      'is_shipped',
      'notify',
      'pause',
      'summary',
    ]);
    expect(stepOf(done, 'order')).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      input: { action_id: lookupId, inputs: { order_id: 'A/17' } },
      output: { id: 'A/17', status: 'shipped', total: 42 },
      execution_id: expect.any(String),
    });
    expect(stepOf(done, 'is_shipped').output).toEqual({ result: true, branch: 'then' });
    expect(stepOf(done, 'summary').output).toEqual({ total: 42, effects: 1, text: 'order A/17 is shipped' });
    for (const step of done.steps) expect(step.duration_ms).toEqual(expect.any(Number));

    // the http step went through the http kind: typed JSON body, encoded query, the step's idempotency key
    const key = `run:${id}:step:notify`;
    expect(upstream.effects.get(key)).toBe(1);
    const sent = upstream.requests.find((r) => r.headers['idempotency-key'] === key);
    expect(sent?.path).toBe('/effects?order=A%2F17');
    expect(sent?.headers['x-total']).toBe('42');
    expect(JSON.parse(sent?.body.toString() ?? '')).toEqual({ total: 42, note: 'order A/17' });
    // and the action step's execution carried its key too
    const execution = await t.request(
      'GET',
      `/v1/executions/${stepOf(done, 'order').execution_id as string}`,
    );
    expect(execution.body).toMatchObject({ status: 'succeeded', idempotency_key: `run:${id}:step:order` });

    const runs = await t.request('GET', `/v1/workflows/${workflow.workflow_id as string}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.body.data.map((r: { id: string }) => r.id)).toContain(id);
  });

  it('takes the else branch when the condition is false', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'order', type: 'set', input: { values: { status: '{{trigger.status}}' } } },
      {
        $kind: 'Block',
        type: 'if-else',
        id: 'check',
        inputs: { condition: { operatorName: 'equals', left: '{{order.output.status}}', right: 'shipped' } },
        branches: {
          then: [{ $kind: 'Action', id: 'yes', type: 'set', input: { values: { v: 1 } } }],
          else: [{ $kind: 'Action', id: 'no', type: 'set', input: { values: { v: 2 } } }],
        },
      },
    ]);
    const done = await finished(await start(workflow.workflow_id, { status: 'lost' }));
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s: { id: string }) => s.id)).toEqual(['order', 'check', 'no']);
  });

  it('makes a new version on every edit; a run finishes on the version it started on', async () => {
    const v1 = await create([
      { $kind: 'Action', id: 'wait', type: 'delay', input: { seconds: 1 } },
      { $kind: 'Action', id: 'which', type: 'set', input: { values: { version: 1 } } },
    ]);
    const id = await start(v1.workflow_id, {});
    const patched = await t.request('PATCH', `/v1/workflows/${v1.workflow_id as string}`, {
      body: {
        workflow_blocks: [{ $kind: 'Action', id: 'which', type: 'set', input: { values: { version: 2 } } }],
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ workflow_id: v1.workflow_id, version_number: 2, is_active: true });
    expect(patched.body.id).not.toBe(v1.id);
    const current = await t.request('GET', `/v1/workflows/${v1.workflow_id as string}`);
    expect(current.body).toMatchObject({ id: patched.body.id, version_number: 2, name: v1.name });

    const pinned = await finished(id);
    expect(pinned).toMatchObject({ status: 'succeeded', version_number: 1, version_id: v1.id });
    expect(stepOf(pinned, 'which').output).toEqual({ version: 1 });
    const next = await finished(await start(v1.workflow_id, {}));
    expect(next).toMatchObject({ version_number: 2 });
    expect(stepOf(next, 'which').output).toEqual({ version: 2 });

    const listed = await t.request('GET', '/v1/workflows');
    const mine = listed.body.data.filter((w: { workflow_id: string }) => w.workflow_id === v1.workflow_id);
    expect(mine).toHaveLength(1); // only the active version is listed
  });

  it('fails the run with the failing step’s error and runs nothing after it', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'first', type: 'set', input: { values: { ok: true } } },
      {
        $kind: 'Action',
        id: 'broken',
        type: 'http',
        input: { method: 'GET', url: `${upstream.url}/status/404` },
      },
      { $kind: 'Action', id: 'after', type: 'set', input: { values: { never: true } } },
    ]);
    const done = await finished(await start(workflow.workflow_id, {}));
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ step_id: 'broken', category: 'not_found' });
    expect(stepOf(done, 'broken')).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { category: 'not_found' },
    });
    expect(stepOf(done, 'after')).toBeUndefined();
  });

  it('fails a step whose reference names nothing in this run, never sending an empty string', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'a', type: 'set', input: { values: { v: '{{trigger.missing}}' } } },
    ]);
    const done = await finished(await start(workflow.workflow_id, {}));
    expect(done).toMatchObject({ status: 'failed', error: { step_id: 'a', category: 'invalid_input' } });
  });

  it('cancels a run: the waiting step never runs', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'wait', type: 'delay', input: { seconds: 2 } },
      {
        $kind: 'Action',
        id: 'after',
        type: 'http',
        input: { method: 'POST', url: `${upstream.url}/effects` },
      },
    ]);
    const id = await start(workflow.workflow_id, {});
    const cancelled = await t.request('POST', `/v1/runs/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', finished_at: expect.any(String) });
    expect(stepOf(cancelled.body, 'wait').status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const after = await run(id);
    expect(after.status).toBe('cancelled');
    expect(stepOf(after, 'after')).toBeUndefined();
    expect(upstream.effects.has(`run:${id}:step:after`)).toBe(false);
    expect((await t.request('POST', `/v1/runs/${id}/cancel`)).status).toBe(409);
  });

  it('runs an interrupted step once more with the same key, counting the attempt; a finished step never again', async () => {
    const workflow = await create([
      {
        $kind: 'Action',
        id: 'done_before',
        type: 'http',
        input: { method: 'POST', url: `${upstream.url}/effects` },
      },
      {
        $kind: 'Action',
        id: 'send',
        type: 'http',
        input: { method: 'POST', url: `${upstream.url}/effects` },
      },
    ]);
    const { store, queue, crypto } = t.container;
    const version = await store.workflows.active(
      t.container.defaultOrganizationId,
      workflow.workflow_id as string,
    );
    if (!version) throw new Error('no active version');
    // what a worker killed in the middle of "send" leaves behind: "done_before" committed, "send" begun once
    const runId = crypto.newId();
    const at = new Date().toISOString();
    const organizationId = version.organizationId;
    await store.workflowRuns.insert({
      id: runId,
      organizationId,
      workflowId: version.workflowId,
      versionId: version.id,
      versionNumber: 1,
      status: 'running',
      input: {},
      error: null,
      callerKeyId: null,
      parentRunId: null,
      createdAt: at,
      startedAt: at,
      finishedAt: null,
    });
    const record = {
      runId,
      organizationId,
      name: null,
      input: null,
      error: null,
      executionId: null,
      finishedAt: null,
    };
    await store.workflowRuns.insertStep({
      ...record,
      stepId: 'done_before',
      position: 0,
      type: 'http',
      status: 'succeeded',
      output: { count: 1 },
      attempts: 1,
      startedAt: at,
      finishedAt: at,
    });
    await store.workflowRuns.insertStep({
      ...record,
      stepId: 'send',
      position: 1,
      type: 'http',
      status: 'running',
      output: null,
      attempts: 1,
      startedAt: at,
    });
    const payload = { organizationId, runId, stepId: 'send' };
    const first = await queue.enqueue('workflow-step', payload, {
      key: `run:${runId}:step:send`,
      organizationId,
    });
    // enqueueing the same step again is a no-op
    expect(
      await queue.enqueue('workflow-step', payload, { key: `run:${runId}:step:send`, organizationId }),
    ).toMatchObject({ id: first.id, created: false });

    const done = await finished(runId);
    expect(done.status).toBe('succeeded');
    expect(stepOf(done, 'send')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      idempotency_key: `run:${runId}:step:send`,
    });
    expect(stepOf(done, 'done_before')).toMatchObject({ attempts: 1, output: { count: 1 } });
    expect(upstream.effects.get(`run:${runId}:step:send`)).toBe(1);
    expect(upstream.effects.has(`run:${runId}:step:done_before`)).toBe(false);
  });

  it('refuses at save a reference to a step that cannot have run before, naming it', async () => {
    const response = await t.request('POST', '/v1/workflows', {
      body: {
        name: 'bad',
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          { $kind: 'Action', id: 'early', type: 'set', input: { values: { v: '{{late.output.x}}' } } },
          { $kind: 'Action', id: 'late', type: 'set', input: { values: { x: 1 } } },
        ],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('"late"');
    const unknownAction = await t.request('POST', '/v1/workflows', {
      body: {
        name: 'bad',
        trigger_type: 'manual-trigger',
        workflow_blocks: [{ $kind: 'Action', id: 'a', type: 'action', input: { action_id: 'nope' } }],
      },
    });
    expect(unknownAction.status).toBe(400);
  });

  it('retries a step per its policy with the same key, counting each attempt', async () => {
    const workflow = await create([
      {
        $kind: 'Action',
        id: 'call',
        type: 'http',
        input: { method: 'POST', url: `${upstream.url}/flaky?key={{trigger.key}}&fail=2&status=500` },
        retry: { max_attempts: 3, backoff_seconds: 0.05 },
      },
    ]);
    const key = `retry-${Math.random()}`;
    const done = await finished(await start(workflow.workflow_id, { key }));
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(stepOf(done, 'call')).toMatchObject({ status: 'succeeded', attempts: 3, error: null });
    expect(stepOf(done, 'call').output).toMatchObject({ key, attempt: 3 });
    const keys = upstream.requests
      .filter((r) => r.path.includes(key))
      .map((r) => r.headers['idempotency-key']);
    expect(new Set(keys)).toEqual(new Set([`run:${done.id as string}:step:call`]));

    // a failure that another attempt cannot mend (a 404) is not retried
    const notFound = await create([
      {
        $kind: 'Action',
        id: 'call',
        type: 'http',
        input: { url: `${upstream.url}/status/404` },
        retry: { max_attempts: 3 },
      },
    ]);
    const failed = await finished(await start(notFound.workflow_id, {}));
    expect(failed.status).toBe('failed');
    expect(stepOf(failed, 'call')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('fails an attempt past timeout_seconds with category timeout', async () => {
    const workflow = await create([
      {
        $kind: 'Action',
        id: 'slow',
        type: 'http',
        input: { url: `${upstream.url}/slow-headers?ms=5000` },
        timeout_seconds: 1,
      },
    ]);
    const started = Date.now();
    const done = await finished(await start(workflow.workflow_id, {}));
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ step_id: 'slow', category: 'timeout' });
  });

  it('takes the error branch of a failing step, then goes on after it', async () => {
    const workflow = await create([
      {
        $kind: 'Action',
        id: 'lookup',
        type: 'http',
        input: { url: `${upstream.url}/status/404` },
        on_error: [
          {
            $kind: 'Action',
            id: 'fallback',
            type: 'set',
            input: { values: { reason: '{{lookup.error.category}}', found: false } },
          },
        ],
      },
      {
        $kind: 'Block',
        type: 'if-else',
        id: 'missing',
        inputs: {
          condition: { operatorName: 'equals', left: '{{lookup.error.category}}', right: 'not_found' },
        },
        branches: {
          then: [{ $kind: 'Action', id: 'after', type: 'set', input: { values: { v: 1 } } }],
          else: [],
        },
      },
    ]);
    const done = await finished(await start(workflow.workflow_id, {}));
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(done.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['lookup', 'failed'],
      ['fallback', 'succeeded'],
      ['missing', 'succeeded'],
      ['after', 'succeeded'],
    ]);
    expect(stepOf(done, 'fallback').output).toEqual({ reason: 'not_found', found: false });
    expect(stepOf(done, 'lookup').error).toMatchObject({ category: 'not_found' });

    // the failed step has no output to read inside its own error branch
    const bad = await t.request('POST', '/v1/workflows', {
      body: {
        name: `bad ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          {
            $kind: 'Action',
            id: 'a',
            type: 'set',
            input: { values: {} },
            on_error: [{ $kind: 'Action', id: 'b', type: 'set', input: { values: { v: '{{a.output.x}}' } } }],
          },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('use {{a.error.message}}');
  });

  it('runs a code step in the sandbox over the trigger and earlier outputs', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'a', type: 'set', input: { values: { n: 20 } } },
      {
        $kind: 'Action',
        id: 'sum',
        type: 'code',
        input: { source: 'return { total: inputs.steps.a.n + inputs.trigger.n, env: typeof process };' },
      },
      { $kind: 'Action', id: 'z', type: 'set', input: { values: { total: '{{sum.output.total}}' } } },
    ]);
    const done = await finished(await start(workflow.workflow_id, { n: 22 }));
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(stepOf(done, 'sum').output).toEqual({ total: 42, env: 'undefined' });
    expect(stepOf(done, 'z').output).toEqual({ total: 42 });

    const thrown = await create([
      { $kind: 'Action', id: 'boom', type: 'code', input: { source: 'throw new Error("no such order");' } },
    ]);
    const failed = await finished(await start(thrown.workflow_id, {}));
    expect(failed.status).toBe('failed');
    expect(failed.error.message).toContain('no such order');

    const syntax = await t.request('POST', '/v1/workflows', {
      body: {
        name: `syntax ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: [{ $kind: 'Action', id: 'c', type: 'code', input: { source: 'return {' } }],
      },
    });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error).toMatchObject({ path: '/workflow_blocks/0/input/source' });
    expect(syntax.body.error.message).toContain('does not compile');
  });

  it('sends on a run saved without its first job (the sweep)', async () => {
    const workflow = await create([{ $kind: 'Action', id: 'a', type: 'set', input: { values: { v: 1 } } }]);
    const organizationId = t.container.defaultOrganizationId;
    const version = await t.container.store.workflows.active(organizationId, workflow.workflow_id);
    const runId = `orphan-${Math.random().toString(36).slice(2)}`;
    await t.container.store.workflowRuns.insert({
      id: runId,
      organizationId,
      workflowId: workflow.workflow_id,
      versionId: version!.id,
      versionNumber: 1,
      status: 'queued',
      input: {},
      error: null,
      callerKeyId: null,
      parentRunId: null,
      createdAt: new Date(Date.now() - 120_000).toISOString(),
      startedAt: null,
      finishedAt: null,
    });
    expect(await t.container.services.workflowRuns.sweep(60_000)).toBeGreaterThanOrEqual(1);
    expect((await finished(runId)).status).toBe('succeeded');
  });

  it('deletes a workflow, keeps its runs readable, and keeps tenants apart', async () => {
    const workflow = await create([{ $kind: 'Action', id: 'a', type: 'set', input: { values: { v: 1 } } }]);
    const id = await start(workflow.workflow_id, {});
    await finished(id);
    const other = await t.newTenant(['workflows:read', 'workflows:execute']);
    expect((await t.request('GET', `/v1/runs/${id}`, { key: other.key })).status).toBe(404);
    expect(
      (await t.request('GET', `/v1/workflows/${workflow.workflow_id as string}`, { key: other.key })).status,
    ).toBe(404);
    expect(
      (
        await t.request('POST', `/v1/workflows/${workflow.workflow_id as string}/runs`, {
          key: other.key,
          body: {},
        })
      ).status,
    ).toBe(404);

    expect((await t.request('DELETE', `/v1/workflows/${workflow.workflow_id as string}`)).status).toBe(204);
    expect((await t.request('GET', `/v1/workflows/${workflow.workflow_id as string}`)).status).toBe(404);
    expect(
      (await t.request('POST', `/v1/workflows/${workflow.workflow_id as string}/runs`, { body: {} })).status,
    ).toBe(404);
    expect((await run(id)).status).toBe('succeeded');
  });

  it('finishes a run in flight on its version after the workflow is deleted (H16)', async () => {
    const workflow = await create([
      { $kind: 'Action', id: 'pause', type: 'delay', input: { seconds: 1 } },
      { $kind: 'Action', id: 'after', type: 'set', input: { values: { v: 1 } } },
    ]);
    const id = await start(workflow.workflow_id, {});
    expect((await t.request('DELETE', `/v1/workflows/${workflow.workflow_id as string}`)).status).toBe(204);
    const done = await finished(id);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(stepOf(done, 'after').output).toEqual({ v: 1 });
  });
});
