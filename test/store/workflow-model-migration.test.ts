/**
 * Migration 0018 on both stores: a workflow version stored before the workflow model had its own shape
 * (blocks as the API sends them) is rewritten in the model's shape, answers the same blocks through the
 * API as before, and runs.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/adapters/db/migrations/index.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { until } from '../helpers/wait.ts';

/** Every wire feature: names, step policy, error blocks, an if-else, and fields an editor adds. */
const WIRE = [
  {
    $kind: 'Action',
    id: 'order',
    type: 'set',
    name: 'Read the order',
    input: { values: { status: '{{trigger.status}}' } },
    timeout_seconds: 30,
    retry: { max_attempts: 2, backoff_seconds: 1 },
    on_error: [{ $kind: 'Action', id: 'fallback', type: 'set', input: { values: { status: 'unknown' } } }],
    position: { x: 10, y: 20 },
  },
  {
    $kind: 'Block',
    type: 'if-else',
    id: 'is_shipped',
    name: 'Shipped?',
    inputs: {
      condition: { operatorName: 'equals', left: '{{order.output.status}}', right: 'shipped', note: 'n' },
      label: 'check',
    },
    branches: {
      then: [{ $kind: 'Action', id: 'yes', type: 'set', input: { values: { shipped: true } } }],
      else: [{ $kind: 'Action', id: 'no', type: 'set', name: 7, input: { values: { shipped: false } } }],
    },
  },
];

const MODEL = [
  {
    kind: 'step',
    id: 'order',
    name: 'Read the order',
    type: 'set',
    input: { values: { status: '{{trigger.status}}' } },
    timeoutSeconds: 30,
    retry: { maxAttempts: 2, backoffSeconds: 1 },
    onError: [{ kind: 'step', id: 'fallback', type: 'set', input: { values: { status: 'unknown' } } }],
    extra: { position: { x: 10, y: 20 } },
  },
  {
    kind: 'if-else',
    id: 'is_shipped',
    name: 'Shipped?',
    condition: { operator: 'equals', left: '{{order.output.status}}', right: 'shipped' },
    then: [{ kind: 'step', id: 'yes', type: 'set', input: { values: { shipped: true } } }],
    else: [
      { kind: 'step', id: 'no', type: 'set', input: { values: { shipped: false } }, extra: { name: 7 } },
    ],
    extra: { inputs: { label: 'check', condition: { note: 'n' } } },
  },
];

describe.each(STORE_KINDS)('workflow blocks stored before the workflow model, on %s', (kind) => {
  let t: TestApp;
  let db: Kysely<unknown>;
  beforeAll(async () => {
    t = await startTestApp(kind);
    await t.startWork();
    db = t.infrastructure.store.db as unknown as Kysely<unknown>;
  });
  afterAll(async () => t?.close());

  it('stores the model, and answers the blocks as they were sent', async () => {
    const created = await t.request('POST', '/v1/workflows', {
      body: { name: 'Model', trigger_type: 'manual-trigger', workflow_blocks: WIRE },
    });
    expect(created.status).toBe(201);
    expect(created.body.workflow_blocks).toEqual(WIRE);
    const stored = await t.container.store.workflows.active(
      t.container.defaultOrganizationId,
      created.body.workflow_id,
    );
    expect(stored?.blocks).toEqual(MODEL);
  });

  it('upgrades a version stored in the wire shape, which answers the same blocks and runs', async () => {
    const created = await t.request('POST', '/v1/workflows', {
      body: { name: 'Old', trigger_type: 'manual-trigger', workflow_blocks: WIRE },
    });
    const workflowId = created.body.workflow_id as string;
    // what a store written before migration 0018 holds, and that migration not yet applied
    await sql`update workflow_versions set blocks = ${JSON.stringify(WIRE)} where workflow_id = ${workflowId}`.execute(
      db,
    );
    await sql`delete from kysely_migration where name = '0018-workflow-model'`.execute(db);

    expect(await migrateToLatest(db, kind)).toEqual(['0018-workflow-model']);

    const stored = await t.container.store.workflows.active(t.container.defaultOrganizationId, workflowId);
    expect(stored?.blocks).toEqual(MODEL);
    const read = await t.request('GET', `/v1/workflows/${workflowId}`);
    expect(read.body.workflow_blocks).toEqual(WIRE);
    const started = await t.request('POST', `/v1/workflows/${workflowId}/runs`, {
      body: { input: { status: 'shipped' } },
    });
    expect(started.status).toBe(202);
    const run = await until(
      () => t.request('GET', `/v1/runs/${started.body.id}`).then((r) => r.body),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status as string),
    );
    expect(run.status).toBe('succeeded');
    expect(run.steps.map((step: { id: string }) => step.id)).toEqual(['order', 'is_shipped', 'yes']);
  });
});
