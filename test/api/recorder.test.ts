/**
 * Execution records are written behind the response (app/executions/recorder.ts): readable at once in
 * this process, committed in batches, kept and retried while the database refuses them.
 */
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_ACTIVITY_FILE_NAME } from '../../src/adapters/db/store.ts';
import { ExecutionRecorder } from '../../src/app/executions/recorder.ts';
import { STORE_KINDS, type StoreKind } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/** An app whose one action fails at once (a port nothing listens on) and is recorded all the same. */
async function appWithQuickAction(kind: StoreKind): Promise<{ t: TestApp; actionId: string }> {
  const t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
  const created = await t.request('POST', '/v1/actions', {
    body: {
      name: 'Unreachable',
      description: 'd',
      kind: 'http',
      http: { method: 'GET', url: 'http://127.0.0.2:9/', retry: { max_attempts: 1 } },
    },
  });
  return { t, actionId: created.body.id as string };
}

describe.each(STORE_KINDS)('execution recording on %s', (kind) => {
  let t: TestApp;
  let actionId: string;
  beforeAll(async () => {
    ({ t, actionId } = await appWithQuickAction(kind));
  });
  afterAll(async () => t.close());

  it('reads an execution back at once, and lists it', async () => {
    const executed = await t.request('POST', `/v1/actions/${actionId}/execute`, { body: {} });
    expect((await t.request('GET', `/v1/executions/${executed.body.id}`)).status).toBe(200);
    const listed = await t.request('GET', `/v1/executions?action_id=${actionId}`);
    expect(listed.body.data.map((e: { id: string }) => e.id)).toContain(executed.body.id);
  });

  it('commits many executions in few transactions, losing none', async () => {
    const ids = (
      await Promise.all(
        Array.from({ length: 60 }, () => t.request('POST', `/v1/actions/${actionId}/execute`, { body: {} })),
      )
    ).map((r) => r.body.id as string);
    const listed: string[] = [];
    let cursor = '';
    do {
      const page = await t.request(
        'GET',
        `/v1/executions?action_id=${actionId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      listed.push(...page.body.data.map((e: { id: string }) => e.id));
      cursor = page.body.next_cursor ?? '';
    } while (cursor);
    for (const id of ids) expect(listed).toContain(id);
  });
});

describe.each(STORE_KINDS)('a record the database refuses, on %s', (kind) => {
  let t: TestApp;
  let actionId: string;
  beforeAll(async () => {
    ({ t, actionId } = await appWithQuickAction(kind));
  });
  afterAll(async () => t.close());

  it('is set aside and logged, and does not hold back the records after it', async () => {
    const executed = await t.request('POST', `/v1/actions/${actionId}/execute`, { body: {} });
    await t.request('GET', '/v1/executions?limit=1'); // committed
    const organizationId = (await t.request('GET', '/v1/me')).body.organization_id;
    const existing = await t.container.store.executions.get(organizationId, executed.body.id);
    const logs: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (data: Record<string, unknown>, message: string) =>
        logs.push(`${message} ${String(data.execution_id)}`),
    };
    const recorder = new ExecutionRecorder(t.container.store, logger, () => false);
    const fresh = (n: number) => ({ ...existing!, id: `01a20000-0000-7000-8000-00000000000${n}` });
    // no start time: the NOT NULL constraint refuses it (a repeated id would replace the record instead)
    const refused = { ...fresh(3), startedAt: null as unknown as string };
    await recorder.record(fresh(1));
    await recorder.record(refused);
    await recorder.record(fresh(2));
    await recorder.settle();
    expect(await t.container.store.executions.get(organizationId, fresh(1).id)).toBeDefined();
    expect(await t.container.store.executions.get(organizationId, fresh(2).id)).toBeDefined();
    expect(await t.container.store.executions.get(organizationId, refused.id)).toBeUndefined();
    expect(logs).toEqual([`the database refused an execution record; it is not stored ${refused.id}`]);
  });
});

describe('execution recording while SQLite is locked', () => {
  let t: TestApp;
  let actionId: string;
  beforeAll(async () => {
    ({ t, actionId } = await appWithQuickAction('sqlite'));
  });
  afterAll(async () => t.close());

  it('keeps records while the database is locked, and commits them once it is free', async () => {
    const blocker = new DatabaseSync(join(t.db.dataDir, SQLITE_ACTIVITY_FILE_NAME), { timeout: 1000 });
    blocker.exec('begin exclusive');
    const executed = await t.request('POST', `/v1/actions/${actionId}/execute`, { body: {} });
    expect(executed.status).toBe(200);
    expect((await t.request('GET', `/v1/executions/${executed.body.id}`)).status).toBe(200); // still pending, still readable
    await new Promise((resolve) => setTimeout(resolve, 6_500)); // past the writer's 5 s busy timeout: its insert fails
    expect(t.logs.some((line) => line.includes('could not record executions; retrying'))).toBe(true);
    blocker.exec('commit');
    blocker.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the retry after 1 s
    const organizationId = (await t.request('GET', '/v1/me')).body.organization_id;
    expect(await t.container.store.executions.get(organizationId, executed.body.id)).toMatchObject({
      id: executed.body.id,
    });
  }, 20_000);
});
