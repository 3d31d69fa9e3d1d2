/**
 * Every caller goes through the one execution pipeline, on both stores: a workflow step acts as its run
 * (the run's key, the run and step named in the record's context), its http and code steps run their
 * transient action through the engine (redacted by it, recorded by the run and not as executions), and a
 * step refused by the engine takes its category from the error table, not from a status number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORY_BY_CODE, STATUS_BY_CODE } from '../../src/core/errors.ts';
import { ERROR_CATEGORIES } from '../../src/core/actions/outcomes.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

const CANARY = 'engine-canary-5f0e1d2c3b4a69788796a5b4c3d2e1f0';
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

describe('the error table', () => {
  it('gives every error code a category an agent knows', () => {
    expect(Object.keys(CATEGORY_BY_CODE).sort()).toEqual(Object.keys(STATUS_BY_CODE).sort());
    for (const category of Object.values(CATEGORY_BY_CODE)) expect(ERROR_CATEGORIES).toContain(category);
  });
});

describe.each(STORE_KINDS)('one engine for every caller on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;

  const unique = (name: string) => `${name} ${Math.random().toString(36).slice(2, 8)}`;

  async function create(blocks: unknown[]): Promise<string> {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: { name: unique('Engine'), trigger_type: 'manual-trigger', workflow_blocks: blocks },
    });
    if (workflow.status !== 201) throw new Error(`workflow not created: ${workflow.text}`);
    return workflow.body.workflow_id as string;
  }

  async function run(workflowId: string, key?: string) {
    const started = await t.request('POST', `/v1/workflows/${workflowId}/runs`, { body: { input: {} }, key });
    const done = await until(
      () => t.request('GET', `/v1/runs/${started.body.id}`),
      (r) => FINISHED.has(r.body.status),
    );
    return done.body;
  }

  const runOf = async (blocks: unknown[], key?: string) => run(await create(blocks), key);

  const stepOf = (run: { steps: { id: string }[] }, id: string) => run.steps.find((s) => s.id === id) as any;

  async function httpAction(extra: Record<string, unknown> = {}): Promise<string> {
    const response = await t.request('POST', '/v1/actions', {
      body: {
        name: unique('Echo'),
        description: 'echoes the request',
        kind: 'http',
        http: { method: 'GET', url: `${upstream.url}/echo` },
        ...extra,
      },
    });
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body.id as string;
  }

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

  it('an action step acts as its run: the key that started it, the run and the step in the context', async () => {
    const keyResponse = await t.request('POST', '/v1/keys', {
      body: { name: 'starter', scopes: ['workflows:execute', 'workflows:read'] },
    });
    const actionId = await httpAction();
    const run = await runOf(
      [{ $kind: 'Action', id: 'call', type: 'action', input: { action_id: actionId, inputs: {} } }],
      keyResponse.body.key,
    );
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const executionId = stepOf(run, 'call').execution_id as string;
    const record = await t.container.services.executions.get(t.container.defaultOrganizationId, executionId);
    expect(record.callerKeyId).toBe(keyResponse.body.id);
    expect(record.context).toEqual({ workflow_run_id: run.id, workflow_step_id: 'call' });
  });

  it('a step the engine refuses takes its category from the error table', async () => {
    const inactive = await httpAction({ status: 'inactive' });
    const refused = await runOf([
      { $kind: 'Action', id: 'call', type: 'action', input: { action_id: inactive, inputs: {} } },
    ]);
    expect(stepOf(refused, 'call').error).toMatchObject({
      category: CATEGORY_BY_CODE.CONFLICT,
      message: expect.stringMatching(/inactive/),
    });
    const deleted = await httpAction();
    const workflowId = await create([
      { $kind: 'Action', id: 'call', type: 'action', input: { action_id: deleted, inputs: {} } },
    ]);
    expect((await t.request('DELETE', `/v1/actions/${deleted}`)).status).toBe(204);
    expect(stepOf(await run(workflowId), 'call').error).toMatchObject({ category: 'not_found' });
  });

  it('an http step runs through the engine: its secret redacted from what the run keeps, no execution recorded', async () => {
    const secret = await t.request('POST', '/v1/secrets', {
      body: { name: `ENGINE_${Math.random().toString(36).slice(2, 8).toUpperCase()}`, value: CANARY },
    });
    const before = await t.request('GET', '/v1/executions?limit=100');
    const run = await runOf([
      {
        $kind: 'Action',
        id: 'send',
        type: 'http',
        input: {
          method: 'GET',
          url: `${upstream.url}/echo`,
          auth: { type: 'bearer', secret_id: secret.body.id },
        },
      },
    ]);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const step = stepOf(run, 'send');
    // the upstream echoed the Authorization header: the engine's one redaction pass took it out
    expect(step.output.headers.authorization).toMatch(/^Bearer \[REDACTED:/);
    expect(JSON.stringify(run)).not.toContain(CANARY);
    expect(step.input).toMatchObject({ method: 'GET', url: expect.stringContaining('/echo') });
    const after = await t.request('GET', '/v1/executions?limit=100');
    expect(after.body.data.length).toBe(before.body.data.length);
  });

  it('a code step runs through the engine with the run as its inputs', async () => {
    const run = await runOf([
      { $kind: 'Action', id: 'first', type: 'set', input: { values: { n: 20 } } },
      {
        $kind: 'Action',
        id: 'sum',
        type: 'code',
        input: { source: 'return { total: inputs.steps.first.n + 1, trigger: inputs.trigger };' },
      },
    ]);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(stepOf(run, 'sum').output).toEqual({ total: 21, trigger: {} });
  });
});
