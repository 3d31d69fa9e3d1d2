/**
 * ai-trigger workflows on both stores: saving one offers it as a tool (GET /v1/tools, MCP) with its input
 * schema, executing the tool runs the workflow and answers its result (or its run id when it takes
 * longer than wait_seconds), trigger constraints and failures come back as failed executions, and the
 * tool follows the workflow: new versions update it, a delete or another trigger type removes it, and
 * the actions API cannot change it.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const INPUT_SCHEMA = {
  type: 'object',
  properties: {
    order_id: { type: 'string', description: 'The order number' },
    quantity: { type: 'integer', minimum: 1 },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['order_id'],
};

describe.each(STORE_KINDS)('ai-trigger workflows on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let base: string;

  const unique = (name: string) => `${name} ${randomBytes(3).toString('hex')}`;
  const setStep = (id: string, values: unknown) => ({ $kind: 'Action', id, type: 'set', input: { values } });
  const lookupStep = () => ({
    $kind: 'Action',
    id: 'lookup',
    type: 'http',
    input: { method: 'GET', url: `${upstream.url}/orders/{{trigger.order_id}}` },
  });

  async function create(body: Record<string, unknown>) {
    const response = await t.request('POST', '/v1/workflows', {
      body: { name: unique('Order flow'), trigger_type: 'ai-trigger', ...body },
    });
    if (response.status !== 201) throw new Error(response.text);
    return response.body as { workflow_id: string; name: string };
  }

  /** The tool of a workflow, as the actions API lists it. */
  async function toolOf(workflowId: string) {
    const listed = await t.request('GET', '/v1/actions?kind=workflow&limit=100');
    expect(listed.status).toBe(200);
    return (listed.body.data as any[]).find((a) => a.workflow?.workflow_id === workflowId);
  }

  const execute = (actionId: string, inputs: Record<string, unknown>) =>
    t.request('POST', `/v1/actions/${actionId}/execute`, { body: { inputs } });

  const openaiTools = async () =>
    ((await t.request('GET', '/v1/tools?format=openai')).body as any[]).map((tool) => tool.function);

  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.setHandler((req, res) => {
      const match = /^\/orders\/([^/?]+)/.exec(req.url ?? '');
      if (!match) return false;
      const id = decodeURIComponent(match[1] ?? '');
      res.writeHead(id === 'missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, status: 'shipped' }));
      return true;
    });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('offers the workflow as a tool with its input schema, in every format', async () => {
    const workflow = await create({
      description: 'Looks an order up and summarises it',
      trigger_configuration: {
        input_schema: INPUT_SCHEMA,
        tool_name: `order_flow_${randomBytes(2).toString('hex')}`,
      },
      workflow_blocks: [lookupStep()],
    });
    const tool = await toolOf(workflow.workflow_id);
    expect(tool).toMatchObject({ kind: 'workflow', name: workflow.name, status: 'active' });
    const openai = (await openaiTools()).find((f) => f.name === tool.tool_name);
    expect(openai).toMatchObject({
      description: 'Looks an order up and summarises it',
      parameters: {
        type: 'object',
        properties: {
          order_id: { type: 'string', description: 'The order number' },
          quantity: { type: 'integer', minimum: 1 },
          tags: { type: 'array', items: { type: 'string' } },
        },
        required: ['order_id'],
      },
    });
    const mcp = await t.request('GET', '/v1/tools?format=mcp');
    const listed = mcp.body.tools.find((x: { name: string }) => x.name === tool.tool_name);
    expect(listed.inputSchema.required).toEqual(['order_id']);
    for (const format of ['anthropic', 'gemini'])
      expect((await t.request('GET', `/v1/tools?format=${format}`)).text).toContain(tool.tool_name);
  });

  it('executes a quick run and answers its result', async () => {
    const workflow = await create({
      workflow_blocks: [
        setStep('greeting', { text: 'order {{trigger.order_id}}' }),
        lookupStep(),
        setStep('summary', { id: '{{lookup.output.id}}', status: '{{lookup.output.status}}' }),
      ],
      trigger_configuration: { input_schema: INPUT_SCHEMA },
    });
    const tool = await toolOf(workflow.workflow_id);
    const response = await execute(tool.id, { order_id: 'A-7' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'succeeded',
      output: {
        run_id: expect.any(String),
        status: 'succeeded',
        output: { id: 'A-7', status: 'shipped' },
        steps: {
          greeting: { text: 'order A-7' },
          lookup: { id: 'A-7', status: 'shipped' },
          summary: { id: 'A-7', status: 'shipped' },
        },
      },
    });
    const run = await t.request('GET', `/v1/runs/${response.body.output.run_id}`);
    expect(run.body).toMatchObject({ status: 'succeeded', input: { order_id: 'A-7' } });
    // the call is an execution like any other
    const record = await t.request('GET', `/v1/executions/${response.body.id}`);
    expect(record.body).toMatchObject({ kind: 'workflow', status: 'succeeded' });
    // a dry run starts nothing
    const runs = async () =>
      (await t.request('GET', `/v1/workflows/${workflow.workflow_id}/runs`)).body.data.length;
    const before = await runs();
    const dry = await t.request('POST', `/v1/actions/${tool.id}/execute`, {
      body: { inputs: { order_id: 'A-8' }, dry_run: true },
    });
    expect(dry.status).toBe(200);
    expect(await runs()).toBe(before);
  });

  it('answers the run id when the run outlasts wait_seconds', async () => {
    const workflow = await create({
      trigger_configuration: { wait_seconds: 0.2 },
      workflow_blocks: [{ $kind: 'Action', id: 'pause', type: 'delay', input: { seconds: 3 } }],
    });
    const tool = await toolOf(workflow.workflow_id);
    const response = await execute(tool.id, {});
    expect(response.body).toMatchObject({ status: 'succeeded', output: { status: 'running' } });
    const run = await t.request('GET', `/v1/runs/${response.body.output.run_id}`);
    expect(['queued', 'running']).toContain(run.body.status);
    await t.request('POST', `/v1/runs/${response.body.output.run_id}/cancel`);
  });

  it('answers a failed run as a failed execution, and refuses what the constraints do not allow', async () => {
    const workflow = await create({
      trigger_configuration: { input_schema: INPUT_SCHEMA },
      trigger_constraints: { '!=': [{ var: 'order_id' }, 'blocked'] },
      workflow_blocks: [lookupStep()],
    });
    const tool = await toolOf(workflow.workflow_id);
    const failed = await execute(tool.id, { order_id: 'missing' });
    expect(failed.body).toMatchObject({
      status: 'failed',
      output: { run_id: expect.any(String), status: 'failed' },
      error: { category: expect.any(String), message: expect.any(String) },
    });
    expect(failed.body.error.detail).toContain(failed.body.output.run_id);

    const before = (await t.request('GET', `/v1/workflows/${workflow.workflow_id}/runs`)).body.data.length;
    const blocked = await execute(tool.id, { order_id: 'blocked' });
    expect(blocked.body).toMatchObject({ status: 'failed', error: { category: 'invalid_input' } });
    expect(blocked.body.error.detail).toMatch(/constraints/);
    expect((await t.request('GET', `/v1/workflows/${workflow.workflow_id}/runs`)).body.data.length).toBe(
      before,
    );
  });

  it('refuses a step that calls its own workflow', async () => {
    const workflow = await create({ workflow_blocks: [setStep('noop', { ok: true })] });
    const tool = await toolOf(workflow.workflow_id);
    const patched = await t.request('PATCH', `/v1/workflows/${workflow.workflow_id}`, {
      body: {
        workflow_blocks: [
          { $kind: 'Action', id: 'again', type: 'action', input: { action_id: tool.id, inputs: {} } },
        ],
      },
    });
    expect(patched.status).toBe(200);
    const response = await execute(tool.id, {});
    expect(response.body).toMatchObject({ status: 'failed' });
    const run = await t.request('GET', `/v1/runs/${response.body.output.run_id}`);
    expect(run.body.steps[0].error).toMatchObject({ category: 'blocked', message: /cannot call itself/ });
  });

  it('refuses a workflow that would start itself through another workflow, and links nested runs', async () => {
    const a = await create({ workflow_blocks: [setStep('noop', { ok: true })] });
    const b = await create({ workflow_blocks: [setStep('noop', { ok: true })] });
    const [aTool, bTool] = [await toolOf(a.workflow_id), await toolOf(b.workflow_id)];
    const calls = (id: string, tool: string) => ({
      workflow_blocks: [{ $kind: 'Action', id, type: 'action', input: { action_id: tool, inputs: {} } }],
    });
    // A calls B, B calls A: a run of A starts B, whose step would start A again
    expect(
      (await t.request('PATCH', `/v1/workflows/${a.workflow_id}`, { body: calls('call_b', bTool.id) }))
        .status,
    ).toBe(200);
    expect(
      (await t.request('PATCH', `/v1/workflows/${b.workflow_id}`, { body: calls('call_a', aTool.id) }))
        .status,
    ).toBe(200);
    const response = await execute(aTool.id, {});
    expect(response.body).toMatchObject({ status: 'failed' });
    const runA = (await t.request('GET', `/v1/runs/${response.body.output.run_id}`)).body;
    expect(runA.parent_run_id).toBeNull();
    const runsOfB = (await t.request('GET', `/v1/workflows/${b.workflow_id}/runs`)).body.data;
    expect(runsOfB).toHaveLength(1);
    const runB = (await t.request('GET', `/v1/runs/${runsOfB[0].id}`)).body;
    expect(runB.parent_run_id).toBe(runA.id);
    expect(runB.steps[0].error).toMatchObject({
      category: 'blocked',
      message: /even through other workflows/,
    });
    // exactly one run of each: the loop was stopped at its first turn
    expect((await t.request('GET', `/v1/workflows/${a.workflow_id}/runs`)).body.data).toHaveLength(1);

    // B on its own (not through A) may call A, whose step calls B: refused there instead
    const fromB = await execute(bTool.id, {});
    expect(fromB.body).toMatchObject({ status: 'failed' });
  });

  it.each([
    [{ input_schema: { type: 'string' } }, '/trigger_configuration/input_schema'],
    [
      { input_schema: { type: 'object', properties: { 'bad name': { type: 'string' } } } },
      '/trigger_configuration/input_schema/properties/bad name',
    ],
    [
      {
        input_schema: { type: 'object', properties: { rows: { type: 'array', items: { type: 'object' } } } },
      },
      '/trigger_configuration/input_schema/properties/rows',
    ],
    [
      { input_schema: { type: 'object', properties: {}, required: ['nope'] } },
      '/trigger_configuration/input_schema/required',
    ],
    [{ tool_name: 'has spaces' }, '/trigger_configuration/tool_name'],
    [{ wait_seconds: 31 }, '/trigger_configuration/wait_seconds'],
    [{ schedule: '* * * * *' }, '/trigger_configuration/schedule'],
    ['not an object', '/trigger_configuration'],
  ])('refuses the configuration %j with a 400 at its path', async (configuration, path) => {
    const response = await t.request('POST', '/v1/workflows', {
      body: {
        name: unique('Bad'),
        trigger_type: 'ai-trigger',
        trigger_configuration: configuration,
        workflow_blocks: [setStep('a', { x: 1 })],
      },
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.error.path).toBe(path);
  });

  it('follows the workflow: new versions update the tool, delete and trigger changes remove it', async () => {
    const workflow = await create({ workflow_blocks: [setStep('a', { x: 1 })] });
    const first = await toolOf(workflow.workflow_id);
    expect(first.variables).toEqual([]);

    const renamed = unique('Renamed flow');
    const patched = await t.request('PATCH', `/v1/workflows/${workflow.workflow_id}`, {
      body: { name: renamed, trigger_configuration: { input_schema: INPUT_SCHEMA } },
    });
    expect(patched.status).toBe(200);
    const second = await toolOf(workflow.workflow_id);
    expect(second).toMatchObject({ id: first.id, name: renamed, version: first.version + 1 });
    expect(second.variables.map((v: { name: string }) => v.name)).toEqual(['order_id', 'quantity', 'tags']);

    // another trigger type: the tool goes; back to ai-trigger: a tool again
    await t.request('PATCH', `/v1/workflows/${workflow.workflow_id}`, {
      body: { trigger_type: 'manual-trigger' },
    });
    expect(await toolOf(workflow.workflow_id)).toBeUndefined();
    expect((await openaiTools()).map((f) => f.name)).not.toContain(second.tool_name);
    expect((await t.request('GET', `/v1/actions/${first.id}`)).status).toBe(404);
    await t.request('PATCH', `/v1/workflows/${workflow.workflow_id}`, {
      body: { trigger_type: 'ai-trigger' },
    });
    const third = await toolOf(workflow.workflow_id);
    expect(third.tool_name).toBe(second.tool_name);

    expect((await t.request('DELETE', `/v1/workflows/${workflow.workflow_id}`)).status).toBe(204);
    expect(await toolOf(workflow.workflow_id)).toBeUndefined();
    expect((await openaiTools()).map((f) => f.name)).not.toContain(third.tool_name);
  });

  it('keeps the tool out of reach of the actions API', async () => {
    const workflow = await create({ workflow_blocks: [setStep('a', { x: 1 })] });
    const tool = await toolOf(workflow.workflow_id);
    const patch = await t.request('PATCH', `/v1/actions/${tool.id}`, { body: { description: 'changed' } });
    expect(patch.status).toBe(409);
    expect(patch.body.error.message).toContain(workflow.workflow_id);
    const remove = await t.request('DELETE', `/v1/actions/${tool.id}`);
    expect(remove.status).toBe(409);
    const created = await t.request('POST', '/v1/actions', {
      body: {
        name: unique('Fake'),
        description: 'x',
        kind: 'workflow',
        workflow: { workflow_id: workflow.workflow_id },
      },
    });
    expect(created.status).toBe(400);
    expect((await toolOf(workflow.workflow_id)).version).toBe(tool.version);
  });

  it('can be given to an agent, which goes back to draft when the workflow changes the tool', async () => {
    const workflow = await create({ workflow_blocks: [setStep('a', { x: 1 })] });
    const tool = await toolOf(workflow.workflow_id);
    const agent = await t.request('POST', '/v1/agents', {
      body: { name: unique('Agent'), action_ids: [tool.id] },
    });
    expect(agent.status).toBe(201);
    expect((await t.request('POST', `/v1/agents/${agent.body.id}/publish`)).status).toBe(200);
    const served = await t.request('GET', `/v1/tools?format=openai&agent_id=${agent.body.id}`);
    expect(served.body.map((x: any) => x.function.name)).toEqual([tool.tool_name]);

    await t.request('PATCH', `/v1/workflows/${workflow.workflow_id}`, {
      body: { trigger_configuration: { input_schema: INPUT_SCHEMA } },
    });
    expect((await t.request('GET', `/v1/agents/${agent.body.id}`)).body.status).toBe('draft');
  });

  it('runs over MCP with tools/call', async () => {
    const workflow = await create({
      trigger_configuration: { input_schema: INPUT_SCHEMA },
      workflow_blocks: [lookupStep()],
    });
    const tool = await toolOf(workflow.workflow_id);
    const client = new Client({ name: 'switchboard-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${t.adminKey}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.find((x) => x.name === tool.tool_name)?.inputSchema).toMatchObject({
        required: ['order_id'],
      });
      const result = await client.callTool({ name: tool.tool_name, arguments: { order_id: 'M-1' } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({
        status: 'succeeded',
        output: { id: 'M-1', status: 'shipped' },
      });
    } finally {
      await client.close();
    }
  });
});
