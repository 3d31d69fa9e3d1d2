/**
 * OpenCX's workflows API on both stores. Every answer is validated with ajv against OpenCX's own
 * schemas (test/fixtures/opencx/workflows/*.schema.json: the create body and the version it answers,
 * closed, and ErrorDto): every required field present, nothing extra. Golden request → response fixtures
 * for a manual trigger with if-else blocks and step references, a webhook trigger, an update and the
 * errors; list, get and delete; and workflows made here run through the native runs route and webhook URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { until } from '../helpers/wait.ts';
import { byShape, createKey, fixtures, MISSING, openCxContract } from '../helpers/dialects.ts';

const HOST = 'switchboard.example.com';
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

const fixture = fixtures('opencx');
const golden = (name: string): any => fixture(`workflows/${name}`);

const { expectValid, expectError } = openCxContract({
  create: 'workflows/create-workflow-dto.schema',
  version: 'workflows/workflow-version-dto.schema',
});

/** A golden body with its generated parts matched by shape, "<webhook-url>" too. */
const structural = (value: unknown): unknown =>
  byShape(value, (text) =>
    text === '<webhook-url>'
      ? expect.stringMatching(new RegExp(`^http://${HOST.replaceAll('.', '\\.')}/v1/hooks/[\\w-]{20,}$`))
      : undefined,
  );

describe.each(STORE_KINDS)('OpenCX workflows API on %s', (kind) => {
  let t: TestApp;
  let writer: string;
  let reader: string;
  let counter = 0;
  const unique = (name: string) => `${name} ${++counter}`;

  const create = (body: unknown, key: string | null = writer) =>
    t.request('POST', '/workflows', { key, body, headers: { host: HOST } });
  const manual = (overrides: Record<string, unknown> = {}) => ({
    ...golden('create-manual.request'),
    name: unique('Order follow-up'),
    ...overrides,
  });
  const finished = (runId: string) =>
    until(
      () => t.request('GET', `/v1/runs/${runId}`, { key: writer }).then((r) => r.body),
      (run) => FINISHED.has(run.status as string),
    );

  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_JOB_RETRY_BASE_MS: '20',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
    writer = await createKey(t, ['workflows:read', 'workflows:write', 'workflows:execute']);
    reader = await createKey(t, ['workflows:read']);
  });
  afterAll(async () => t?.close());

  it('answers the golden manual-trigger create with OpenCX’s version, and the request is valid', async () => {
    const request = golden('create-manual.request');
    expectValid('create', request);
    const created = await create(request);
    expect(created.status, created.text).toBe(201);
    expectValid('version', created.body);
    expect(created.body).toEqual(structural(golden('create-manual.response')));
    expect(Number.isSafeInteger(created.body.id)).toBe(true);
    const read = await t.request('GET', `/workflows/${created.body.workflow_id}`, {
      key: reader,
      headers: { host: HOST },
    });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    // the editor state is kept as given, and read natively (OpenCX's answer has no field for it)
    const native = await t.request('GET', `/v1/workflows/${created.body.workflow_id}`, { key: reader });
    expect(native.body.workflow_editor_state).toEqual(request.workflow_editor_state);
  });

  it('runs a workflow made here through POST /v1/workflows/{workflow_id}/runs, branch and references included', async () => {
    const made = await create(manual());
    const started = await t.request('POST', `/v1/workflows/${made.body.workflow_id}/runs`, {
      key: writer,
      body: { input: { order_id: 'A17', status: 'shipped' } },
    });
    expect(started.status, started.text).toBe(202);
    const run = await finished(started.body.id);
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.steps.map((step: any) => step.id)).toEqual(['order', 'is_shipped', 'shipped_note', 'summary']);
    const output = (id: string) => run.steps.find((step: any) => step.id === id).output;
    expect(output('shipped_note')).toEqual({ message: 'Order A17 is on its way' });
    expect(output('summary')).toEqual({ order: 'A17', status: 'shipped' });
  });

  it('gives a webhook workflow an absolute webhook_url that starts a run without a key', async () => {
    const request = golden('create-webhook.request');
    expectValid('create', request);
    const created = await create(request);
    expect(created.status, created.text).toBe(201);
    expectValid('version', created.body);
    expect(created.body).toEqual(structural(golden('create-webhook.response')));
    const hook = new URL(created.body.webhook_url as string);
    const delivered = await t.request('POST', hook.pathname, { key: null, body: { subject: 'Broken' } });
    expect(delivered.status, delivered.text).toBe(202);
    const run = await finished(delivered.body.run_ids[0]);
    expect(run.status).toBe('succeeded');
    expect(run.steps[0].output).toEqual({ subject: 'Broken' });
  });

  it('lists the active version of every workflow, native ones too; another organization sees none', async () => {
    const made = await create(manual());
    const native = await t.request('POST', '/v1/workflows', {
      key: writer,
      body: { name: unique('Native'), trigger_type: 'ticket-created', workflow_blocks: [] },
    });
    expect(native.status, native.text).toBe(201);
    const list = await t.request('GET', '/workflows', { key: reader, headers: { host: HOST } });
    expect(list.status).toBe(200);
    for (const workflow of list.body) expectValid('version', workflow);
    const byId = new Map(list.body.map((workflow: any) => [workflow.workflow_id, workflow]));
    expect(byId.get(made.body.workflow_id)).toEqual(made.body);
    expect(byId.get(native.body.workflow_id)).toMatchObject({
      id: expect.any(Number),
      trigger_type: 'ticket-created',
      workflow_blocks: [],
      webhook_url: null,
    });
    expect(new Set(list.body.map((workflow: any) => workflow.id)).size).toBe(list.body.length);

    const other = await t.newTenant(['workflows:read']);
    expect((await t.request('GET', '/workflows', { key: other.key })).body).toEqual([]);
    expectError(await t.request('GET', `/workflows/${made.body.workflow_id}`, { key: other.key }), 404);
  });

  it('changes a workflow with PATCH: version 2 from the fields given, active; version 1 inactive', async () => {
    const made = await create(manual({ name: 'Order follow-up' }));
    const workflowId = made.body.workflow_id as string;
    const v1 = await t.request('GET', `/v1/workflows/${workflowId}`, { key: reader });
    const request = golden('update.request');
    const updated = await t.request('PATCH', `/workflows/${workflowId}`, {
      key: writer,
      body: request,
      headers: { host: HOST },
    });
    expect(updated.status, updated.text).toBe(200);
    expectValid('version', updated.body);
    expect(updated.body).toEqual(structural(golden('update.response')));
    expect(updated.body).toMatchObject({ workflow_id: workflowId, created_at: made.body.created_at });
    expect(updated.body.id).toBeGreaterThan(made.body.id);
    const stored = await t.container.store.workflows.getVersion(
      t.container.defaultOrganizationId,
      v1.body.id,
    );
    expect(stored).toMatchObject({ versionNumber: 1, isActive: false, serial: made.body.id });
    expect((await t.request('GET', `/workflows/${workflowId}`, { key: reader })).body).toMatchObject({
      id: updated.body.id,
      version_number: 2,
    });
    // the editor state given at first stays
    const native = await t.request('GET', `/v1/workflows/${workflowId}`, { key: reader });
    expect(native.body.workflow_editor_state).toEqual(golden('create-manual.request').workflow_editor_state);
  });

  it('keeps a webhook workflow’s URL across versions', async () => {
    const made = await create({ ...golden('create-webhook.request'), name: unique('Hook') });
    const updated = await t.request('PATCH', `/workflows/${made.body.workflow_id}`, {
      key: writer,
      body: { description: 'Now described' },
      headers: { host: HOST },
    });
    expect(updated.body).toMatchObject({ version_number: 2, webhook_url: made.body.webhook_url });
  });

  it('deletes a workflow, answering it as it was; then it is gone', async () => {
    const made = await create(manual());
    const deleted = await t.request('DELETE', `/workflows/${made.body.workflow_id}`, {
      key: writer,
      headers: { host: HOST },
    });
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body).toEqual(made.body);
    const gone = await t.request('GET', `/workflows/${made.body.workflow_id}`, { key: reader });
    expect(gone.body).toEqual(golden('not-found.response'));
    expectError(await t.request('DELETE', `/workflows/${made.body.workflow_id}`, { key: writer }), 404);
    expectError(await t.request('PATCH', `/workflows/${MISSING}`, { key: writer, body: { name: 'x' } }), 404);
    const list = await t.request('GET', '/workflows', { key: reader });
    expect(list.body.some((workflow: any) => workflow.workflow_id === made.body.workflow_id)).toBe(false);
  });

  it('answers the golden 400 naming the step for a block that reads a later step, and saves nothing', async () => {
    const request = golden('bad-block.request');
    expectValid('create', request);
    const refused = await create(request);
    expectError(refused, 400);
    expect(refused.body).toEqual(golden('bad-block.response'));
    const list = await t.request('GET', '/workflows', { key: reader });
    expect(list.body.some((workflow: any) => workflow.name === request.name)).toBe(false);
  });

  it.each([
    ['no name', { name: undefined }, /name/],
    ['an empty name', { name: '' }, /name/],
    ['an unknown trigger_type', { trigger_type: 'fax-received' }, /trigger_type/],
    ['no workflow_blocks', { workflow_blocks: undefined }, /workflow_blocks/],
    ['workflow_blocks that are no array', { workflow_blocks: {} }, /workflow_blocks/],
    ['a block without $kind', { workflow_blocks: [{ id: 'a', type: 'set', input: {} }] }, /\$kind/],
    [
      'a step naming no action',
      { workflow_blocks: [{ $kind: 'Action', id: 'look', type: 'action', input: { action_id: MISSING } }] },
      /step "look".*no action/,
    ],
    [
      'an unknown condition operator',
      {
        workflow_blocks: [
          {
            $kind: 'Block',
            type: 'if-else',
            id: 'check',
            inputs: { condition: { operatorName: 'resembles', left: '{{trigger.a}}', right: 1 } },
            branches: { then: [], else: [] },
          },
        ],
      },
      /if-else "check": condition.operatorName must be one of equals/,
    ],
    [
      'trigger_constraints that are no JSON Logic',
      { trigger_constraints: { nope: [1] } },
      /trigger_constraints/,
    ],
    [
      'a webhook signing secret that does not exist',
      { trigger_type: 'webhook', trigger_configuration: { signing_secret_id: MISSING } },
      /signing_secret_id|secret/,
    ],
  ])('answers 400 for %s', async (_name, overrides, message) => {
    const body = Object.fromEntries(Object.entries(manual(overrides)).filter(([, v]) => v !== undefined));
    expectError(await create(body), 400, message);
  });

  it('answers 400 for a PATCH that changes nothing it knows', async () => {
    const made = await create(manual());
    expectError(
      await t.request('PATCH', `/workflows/${made.body.workflow_id}`, {
        key: writer,
        body: { color: 'red' },
      }),
      400,
      /at least one/,
    );
  });

  it('answers 401 without a valid key, 403 without the scope, 404 for an unknown workflow', async () => {
    const anonymous = await create(manual(), null);
    expectError(anonymous, 401);
    expect(anonymous.body).toEqual(structural(golden('unauthenticated.response')));
    expectError(await t.request('GET', '/workflows', { key: 'sb_not-a-key' }), 401);
    const forbidden = await create(manual(), reader);
    expectError(forbidden, 403, /workflows:write/);
    expect(forbidden.body).toEqual(golden('forbidden.response'));
    const actionsOnly = await t.newTenant(['actions:read']);
    expectError(await t.request('GET', '/workflows', { key: actionsOnly.key }), 403, /workflows:read/);
    const missing = await t.request('GET', `/workflows/${MISSING}`, { key: reader });
    expectError(missing, 404);
    expect(missing.body).toEqual(golden('not-found.response'));
  });

  it('documents the routes in /openapi.json under the opencx tag', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(doc.paths['/workflows'])).toEqual(expect.arrayContaining(['post', 'get']));
    expect(Object.keys(doc.paths['/workflows/{workflow_id}'])).toEqual(
      expect.arrayContaining(['get', 'patch', 'delete']),
    );
    expect(doc.paths['/workflows'].post.tags).toEqual(['opencx']);
  });
});
