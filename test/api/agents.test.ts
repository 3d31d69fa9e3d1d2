/**
 * Agents over the native API, on both stores: the fixed contract, validation, isolation between
 * organizations, and the draft/publish cycle with the tool list serving the published version.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const httpAction = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  description: `${name}: the first description`,
  kind: 'http',
  variables: [{ name: 'order_id', type: 'string', required: true, description: 'The order number' }],
  http: { method: 'GET', url: 'https://api.example.com/orders/{{order_id}}' },
  ...overrides,
});

interface Tool {
  name: string;
  description: string;
}

describe.each(STORE_KINDS)('agents API on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => t.close());

  const unique = (name: string) => `${name} ${randomBytes(3).toString('hex')}`;

  async function action(name: string, overrides: Record<string, unknown> = {}, key?: string) {
    const response = await t.request('POST', '/v1/actions', {
      body: httpAction(unique(name), overrides),
      key,
    });
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body as { id: string; tool_name: string; version: number };
  }

  async function agent(body: Record<string, unknown>, key?: string) {
    const response = await t.request('POST', '/v1/agents', { body, key });
    if (response.status !== 201) throw new Error(`agent not created: ${response.text}`);
    return response.body as { id: string; status: string; action_ids: string[] };
  }

  const tools = async (query: string) => {
    const response = await t.request('GET', `/v1/tools?${query}`);
    return { status: response.status, body: response.body };
  };
  const openaiTools = async (agentId: string, extra = '') => {
    const { status, body } = await tools(`format=openai&agent_id=${agentId}${extra}`);
    expect(status).toBe(200);
    return (body as { function: Tool }[]).map((tool) => tool.function);
  };

  it('creates an agent from a name alone, reads, lists, changes and deletes it', async () => {
    const created = await t.request('POST', '/v1/agents', { body: { name: 'Support' } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Support',
      instructions: '',
      channels: ['web'],
      action_ids: [],
      status: 'draft',
      published_version: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id as string;
    expect((await t.request('GET', `/v1/agents/${id}`)).body).toEqual(created.body);

    const second = await agent({ name: 'Sales', instructions: 'Sell politely', channels: ['sms', 'web'] });
    const first = await t.request('GET', '/v1/agents?limit=1');
    expect(first.body.data.map((a: { id: string }) => a.id)).toEqual([second.id]);
    const next = await t.request('GET', `/v1/agents?limit=1&cursor=${first.body.next_cursor}`);
    expect(next.body.data.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await t.request('GET', '/v1/agents?status=published')).body.data).toEqual([]);

    const patched = await t.request('PATCH', `/v1/agents/${id}`, {
      body: { name: 'Support desk', instructions: 'Help', channels: ['phone_voice'] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Support desk',
      instructions: 'Help',
      channels: ['phone_voice'],
      status: 'draft',
    });

    expect((await t.request('DELETE', `/v1/agents/${id}`)).status).toBe(204);
    expect((await t.request('GET', `/v1/agents/${id}`)).status).toBe(404);
    expect((await t.request('DELETE', `/v1/agents/${id}`)).status).toBe(404);
  });

  it.each([
    ['no name', {}, '/name'],
    ['an empty name', { name: '' }, '/name'],
    ['a blank name', { name: '   ' }, '/name'],
    ['a name of 201 characters', { name: 'x'.repeat(201) }, '/name'],
    ['instructions over 20,000 characters', { name: 'A', instructions: 'x'.repeat(20_001) }, '/instructions'],
    ['an unknown channel', { name: 'A', channels: ['fax'] }, '/channels/0'],
    ['a channel twice', { name: 'A', channels: ['web', 'web'] }, '/channels'],
    ['an unknown field', { name: 'A', model: 'gpt' }, '/model'],
    [
      'an action that does not exist',
      { name: 'A', action_ids: ['0190a1b2-0000-7000-8000-000000000000'] },
      '/action_ids/0',
    ],
    [
      'more than 200 actions',
      { name: 'A', action_ids: Array.from({ length: 201 }, (_, i) => `a${i}`) },
      '/action_ids',
    ],
  ])('refuses %s with a 400 naming the field', async (_name, body, path) => {
    const response = await t.request('POST', '/v1/agents', { body });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('VALIDATION_FAILED');
    expect(response.body.error.path).toBe(path);
  });

  it('refuses an action listed twice, and an empty change', async () => {
    const a = await action('Twice');
    const twice = await t.request('POST', '/v1/agents', { body: { name: 'A', action_ids: [a.id, a.id] } });
    expect(twice.status).toBe(400);
    expect(twice.body.error.path).toBe('/action_ids/1');
    const created = await agent({ name: 'Empty change' });
    expect((await t.request('PATCH', `/v1/agents/${created.id}`, { body: {} })).status).toBe(400);
    const bad = await t.request('PATCH', `/v1/agents/${created.id}`, { body: { action_ids: ['nope'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.path).toBe('/action_ids/0');
  });

  it("keeps another organization's agents and actions out of reach", async () => {
    const tenant = await t.newTenant(['agents:read', 'agents:write', 'actions:read', 'actions:write']);
    const theirAction = await action('Theirs', {}, tenant.key);
    const theirs = await agent({ name: 'Theirs', action_ids: [theirAction.id] }, tenant.key);
    expect(
      (await t.request('POST', `/v1/agents/${theirs.id}/publish`, { key: tenant.key })).body
        .published_version,
    ).toBe(1);

    for (const [method, path, body] of [
      ['GET', `/v1/agents/${theirs.id}`, undefined],
      ['PATCH', `/v1/agents/${theirs.id}`, { name: 'Mine now' }],
      ['DELETE', `/v1/agents/${theirs.id}`, undefined],
      ['POST', `/v1/agents/${theirs.id}/publish`, undefined],
      ['GET', `/v1/agents/${theirs.id}/versions/1`, undefined],
      ['GET', `/v1/tools?agent_id=${theirs.id}`, undefined],
    ] as const) {
      const response = await t.request(method, path, { body });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.message).toMatch(/not found/);
    }
    const missing = await t.request('GET', '/v1/agents/0190a1b2-0000-7000-8000-000000000000');
    expect(missing.body.error.message).toBe('Agent not found');
    expect(
      (await t.request('GET', '/v1/agents?limit=100')).body.data.map((a: { id: string }) => a.id),
    ).not.toContain(theirs.id);
    // nor can an agent list another organization's action
    const borrowing = await t.request('POST', '/v1/agents', {
      body: { name: 'Borrowing', action_ids: [theirAction.id] },
    });
    expect(borrowing.status).toBe(400);
    expect(borrowing.body.error.path).toBe('/action_ids/0');
    // and their agent is untouched
    expect((await t.request('GET', `/v1/agents/${theirs.id}`, { key: tenant.key })).body.name).toBe('Theirs');
  });

  it('needs agents:read to read and agents:write to change', async () => {
    const reader = await t.newTenant(['agents:read']);
    expect((await t.request('POST', '/v1/agents', { body: { name: 'A' }, key: reader.key })).status).toBe(
      403,
    );
    expect((await t.request('GET', '/v1/agents', { key: reader.key })).status).toBe(200);
    const none = await t.newTenant(['actions:read']);
    expect((await t.request('GET', '/v1/agents', { key: none.key })).status).toBe(403);
  });

  it('publishes a frozen version that the tool list serves until the agent is published again', async () => {
    const web = await action('Lookup');
    const voice = await action('Transfer desk', { channels: ['phone_voice'] });
    const created = await agent({ name: 'Cycle', action_ids: [web.id, voice.id] });

    const unpublished = await tools(`agent_id=${created.id}`);
    expect(unpublished.status).toBe(409);
    expect(unpublished.body.error.message).toMatch(/publish it first/);

    const published = await t.request('POST', `/v1/agents/${created.id}/publish`);
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({
      id: created.id,
      status: 'published',
      published_version: 1,
      published: {
        agent_id: created.id,
        version: 1,
        name: 'Cycle',
        channels: ['web'],
        actions: [
          { action_id: web.id, version: 1 },
          { action_id: voice.id, version: 1 },
        ],
        published_at: expect.any(String),
        published_by: expect.any(String),
      },
    });
    // publishing again without a change keeps the version
    expect((await t.request('POST', `/v1/agents/${created.id}/publish`)).body.published_version).toBe(1);
    expect((await openaiTools(created.id)).map((tool) => tool.name).sort()).toEqual(
      [web.tool_name, voice.tool_name].sort(),
    );

    // changing one of its actions puts the agent back to draft; the frozen version is still served
    const changed = await t.request('PATCH', `/v1/actions/${web.id}`, {
      body: { description: 'Lookup: the second description' },
    });
    expect(changed.status).toBe(200);
    const draft = await t.request('GET', `/v1/agents/${created.id}`);
    expect(draft.body).toMatchObject({ status: 'draft', published_version: 1 });
    const stillOld = (await openaiTools(created.id)).find((tool) => tool.name === web.tool_name);
    expect(stillOld?.description).toMatch(/^Lookup.*: the first description$/);
    // the unfiltered list serves the current version
    const current = ((await tools('format=openai')).body as { function: Tool }[]).find(
      (tool) => tool.function.name === web.tool_name,
    );
    expect(current?.function.description).toBe('Lookup: the second description');

    const again = await t.request('POST', `/v1/agents/${created.id}/publish`);
    expect(again.body).toMatchObject({ status: 'published', published_version: 2 });
    expect(again.body.published.actions).toEqual([
      { action_id: web.id, version: 2 },
      { action_id: voice.id, version: 1 },
    ]);
    const fresh = (await openaiTools(created.id)).find((tool) => tool.name === web.tool_name);
    expect(fresh?.description).toBe('Lookup: the second description');

    // every version stays readable
    const v1 = await t.request('GET', `/v1/agents/${created.id}/versions/1`);
    expect(v1.body.actions).toEqual([
      { action_id: web.id, version: 1 },
      { action_id: voice.id, version: 1 },
    ]);
    expect((await t.request('GET', `/v1/agents/${created.id}/versions/3`)).status).toBe(404);

    // the channel and format filters apply to the published version
    expect((await openaiTools(created.id, '&channel=phone_voice')).map((tool) => tool.name)).toEqual([
      voice.tool_name,
    ]);
    expect((await openaiTools(created.id, '&channel=sms')).map((tool) => tool.name)).toEqual([]);
    const mcp = await tools(`format=mcp&channel=web&agent_id=${created.id}`);
    expect(mcp.body.tools.map((tool: Tool) => tool.name)).toEqual([web.tool_name]);
    const anthropic = await tools(`format=anthropic&agent_id=${created.id}`);
    expect(anthropic.body).toHaveLength(2);
  });

  it('executes an action in the version the agent froze when called with agent_id', async () => {
    const lookup = await action('Frozen lookup');
    const other = await action('Not on the agent');
    const created = await agent({ name: 'Caller', action_ids: [lookup.id] });
    const execute = (actionId: string, agentId?: string) =>
      t.request('POST', `/v1/actions/${actionId}/execute`, {
        body: { inputs: { order_id: 'A-1' }, dry_run: true, ...(agentId ? { agent_id: agentId } : {}) },
      });

    const unpublished = await execute(lookup.id, created.id);
    expect(unpublished.status).toBe(409);
    expect((await t.request('POST', `/v1/agents/${created.id}/publish`)).status).toBe(200);
    const changed = await t.request('PATCH', `/v1/actions/${lookup.id}`, {
      body: { http: { method: 'GET', url: 'https://api.example.com/v2/orders/{{order_id}}' } },
    });
    expect(changed.status).toBe(200);

    // the agent's frozen version 1, not the current version 2
    const asAgent = await execute(lookup.id, created.id);
    expect(asAgent.status, asAgent.text).toBe(200);
    expect(asAgent.body).toMatchObject({
      action_version: 1,
      request: { url: 'https://api.example.com/orders/A-1' },
    });
    const current = await execute(lookup.id);
    expect(current.body).toMatchObject({
      action_version: 2,
      request: { url: 'https://api.example.com/v2/orders/A-1' },
    });

    const notServed = await execute(other.id, created.id);
    expect(notServed.status).toBe(404);
    expect(notServed.body.error.message).toMatch(/does not serve action/);
  });

  it('puts an agent back to draft when one of its actions is deleted, and takes the action off its list', async () => {
    const kept = await action('Kept');
    const doomed = await action('Doomed');
    const created = await agent({ name: 'Deleting', action_ids: [kept.id, doomed.id] });
    await t.request('POST', `/v1/agents/${created.id}/publish`);

    expect((await t.request('DELETE', `/v1/actions/${doomed.id}`)).status).toBe(204);
    const after = await t.request('GET', `/v1/agents/${created.id}`);
    expect(after.body).toMatchObject({ status: 'draft', action_ids: [kept.id], published_version: 1 });
    // a deleted action cannot run, so the published version no longer offers it
    expect((await openaiTools(created.id)).map((tool) => tool.name)).toEqual([kept.tool_name]);

    const republished = await t.request('POST', `/v1/agents/${created.id}/publish`);
    expect(republished.body.published.actions).toEqual([{ action_id: kept.id, version: 1 }]);
  });

  it('puts an agent back to draft when its own fields change, not when nothing changes', async () => {
    const created = await agent({ name: 'Fields', instructions: 'One' });
    await t.request('POST', `/v1/agents/${created.id}/publish`);
    const same = await t.request('PATCH', `/v1/agents/${created.id}`, { body: { instructions: 'One' } });
    expect(same.body.status).toBe('published');
    const changed = await t.request('PATCH', `/v1/agents/${created.id}`, { body: { instructions: 'Two' } });
    expect(changed.body.status).toBe('draft');
    const republished = await t.request('POST', `/v1/agents/${created.id}/publish`);
    expect(republished.body.published).toMatchObject({ version: 2, instructions: 'Two' });
    expect((await t.request('GET', `/v1/agents/${created.id}/versions/1`)).body.instructions).toBe('One');
  });

  it('refuses to publish an agent with an inactive action, saying what to fix', async () => {
    const inactive = await action('Sleeping', { status: 'inactive' });
    const created = await agent({ name: 'Inactive', action_ids: [inactive.id] });
    const refused = await t.request('POST', `/v1/agents/${created.id}/publish`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.path).toBe('/action_ids/0');
    expect(refused.body.error.message).toMatch(/inactive; set its status to active or remove it/);
    expect((await t.request('GET', `/v1/agents/${created.id}`)).body.status).toBe('draft');

    await t.request('PATCH', `/v1/actions/${inactive.id}`, { body: { status: 'active' } });
    expect((await t.request('POST', `/v1/agents/${created.id}/publish`)).status).toBe(200);
    // deactivated after publishing: no longer served, since it cannot run
    await t.request('PATCH', `/v1/actions/${inactive.id}`, { body: { status: 'inactive' } });
    expect(await openaiTools(created.id)).toEqual([]);
  });

  it('creates an action as part of an agent, and adds and removes existing ones (the service)', async () => {
    const { agents } = t.container.services;
    const principal = {
      organizationId: t.container.defaultOrganizationId,
      keyId: 'service-test',
      scopes: ['admin' as const],
    };
    const created = await agent({ name: 'Service' });
    await t.request('POST', `/v1/agents/${created.id}/publish`);

    const input = {
      name: unique('Schedule meeting'),
      description: 'Schedule a meeting with the customer',
      kind: 'http',
      config: { method: 'POST', url: 'https://api.example.com/schedule' },
    };
    const { agent: withAction, action: made } = await agents.createAction(principal, created.id, input);
    expect(withAction).toMatchObject({ status: 'draft', actionIds: [made.id] });
    expect((await t.request('GET', `/v1/agents/${created.id}`)).body.action_ids).toEqual([made.id]);

    // no agent: nothing is written
    const before = (await t.request('GET', '/v1/actions?limit=100')).body.data.length;
    await expect(
      agents.createAction(principal, '0190a1b2-0000-7000-8000-000000000000', {
        ...input,
        name: unique('Orphan'),
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await t.request('GET', '/v1/actions?limit=100')).body.data.length).toBe(before);

    const other = await action('Existing');
    await agents.publish(principal, created.id);
    const added = await agents.addAction(principal.organizationId, created.id, other.id);
    expect(added).toMatchObject({ status: 'draft', actionIds: [made.id, other.id] });
    expect((await agents.addAction(principal.organizationId, created.id, other.id)).actionIds).toHaveLength(
      2,
    );
    await expect(
      agents.addAction(principal.organizationId, created.id, '0190a1b2-0000-7000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const removed = await agents.removeAction(principal.organizationId, created.id, made.id);
    expect(removed.actionIds).toEqual([other.id]);
    await expect(agents.removeAction(principal.organizationId, created.id, made.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    // the action itself stays
    expect((await t.request('GET', `/v1/actions/${made.id}`)).status).toBe(200);
  });
});
