/**
 * What durable runs ask of the store, on both stores: a step is held by one job attempt at a time (its
 * fencing token), and an organization's slots are handed out in order and up to its cap.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';
import { openStore, type KyselyStore } from '../../src/adapters/db/store.ts';
import { queuedRun, type RunStep, type WorkflowVersion } from '../../src/core/workflows/model.ts';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const crypto = createNodeCrypto();
const now = () => new Date().toISOString();

describe.each(STORE_KINDS)('workflow runs in the store on %s', (kind) => {
  let db: TestDatabase;
  let store: KyselyStore;
  let version: WorkflowVersion;
  const organizationId = crypto.newId();

  const newRun = async () => {
    const run = queuedRun(crypto.newId(), version, {}, null, now());
    await store.workflowRuns.insert(run);
    return run;
  };
  const queuedStep = (runId: string, owner: RunStep['owner']): RunStep => ({
    runId,
    organizationId,
    stepId: 'a',
    position: 0,
    type: 'http',
    name: null,
    status: 'queued',
    input: null,
    output: null,
    error: null,
    attempts: 0,
    executionId: null,
    startedAt: null,
    finishedAt: null,
    owner,
  });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    await store.organizations.insert({ id: organizationId, name: 'O', createdAt: now() });
    version = {
      id: crypto.newId(),
      organizationId,
      workflowId: crypto.newId(),
      versionNumber: 1,
      isActive: true,
      createdBy: null,
      createdAt: now(),
      updatedAt: now(),
      name: 'W',
      description: null,
      triggerType: 'manual-trigger',
      triggerConfiguration: null,
      triggerConstraints: null,
      blocks: [],
      editorState: null,
      webhookToken: null,
    };
    await store.workflows.insertVersion(version);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('lets only the attempt holding a step begin it or commit it; a later attempt of its job takes it over', async () => {
    const run = await newRun();
    const runs = store.workflowRuns;
    await runs.insertStep(queuedStep(run.id, { jobId: 'J', attempt: 0 }));
    const begin = (jobId: string, attempt: number) =>
      runs.claimStep(
        organizationId,
        run.id,
        'a',
        { jobId, attempt },
        { status: 'running', attempts: attempt },
      );
    const commit = (jobId: string, attempt: number) =>
      runs.updateStep(
        organizationId,
        run.id,
        'a',
        { status: 'succeeded', output: { by: attempt } },
        ['running'],
        {
          jobId,
          attempt,
        },
      );

    expect(await begin('J', 1)).toBe(true);
    expect(await begin('K', 5)).toBe(false); // another job never takes the step
    expect(await begin('J', 2)).toBe(true); // the queue gave J's lease to attempt 2
    expect(await commit('J', 1)).toBe(false); // attempt 1 woke up: refused, nothing written
    expect(await begin('J', 1)).toBe(false);
    expect(await runs.getStep(organizationId, run.id, 'a')).toMatchObject({
      status: 'running',
      attempts: 2,
      output: null,
      owner: { jobId: 'J', attempt: 2 },
    });
    expect(await commit('J', 2)).toBe(true);
    expect(await commit('J', 2)).toBe(false); // once
    expect(await begin('J', 3)).toBe(false); // finished
    expect(await runs.getStep(organizationId, run.id, 'a')).toMatchObject({
      status: 'succeeded',
      output: { by: 2 },
    });
  });

  it('hands a step held by a lost job to its replacement, and lets a step with no holder be taken', async () => {
    const runs = store.workflowRuns;
    const lost = await newRun();
    await runs.insertStep(queuedStep(lost.id, { jobId: 'gone', attempt: 3 }));
    expect(await runs.handOver(organizationId, lost.id, 'a', 'other', { jobId: 'N', attempt: 0 })).toBe(
      false,
    );
    expect(await runs.handOver(organizationId, lost.id, 'a', 'gone', { jobId: 'N', attempt: 0 })).toBe(true);
    const claim = (runId: string, jobId: string, attempt: number) =>
      runs.claimStep(organizationId, runId, 'a', { jobId, attempt }, { status: 'running' });
    expect(await claim(lost.id, 'gone', 4)).toBe(false);
    expect(await claim(lost.id, 'N', 1)).toBe(true);
    expect((await runs.heldSteps([lost.id])).map((s) => s.owner)).toEqual([{ jobId: 'N', attempt: 1 }]);

    const legacy = await newRun();
    await runs.insertStep(queuedStep(legacy.id, null));
    expect(await claim(legacy.id, 'L', 1)).toBe(true);
    expect(await claim(legacy.id, 'M', 9)).toBe(false);
  });

  it('admits waiting runs oldest first up to the cap, one transaction at a time', async () => {
    const org = crypto.newId();
    await store.organizations.insert({ id: org, name: 'Capped', createdAt: now() });
    const v = { ...version, id: crypto.newId(), organizationId: org, workflowId: crypto.newId() };
    await store.workflows.insertVersion(v);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = queuedRun(crypto.newId(), v, {}, null, now());
      await store.workflowRuns.insert(run);
      ids.push(run.id);
    }
    const slots = store.workflowRunSlots;
    const admit = () => store.transaction((tx) => tx.workflowRunSlots.admit(org, 2, now()));
    const finish = async (id: string) => {
      await store.workflowRuns.update(org, id, { status: 'succeeded' }, ['queued', 'running']);
      await slots.release(org, id);
    };
    await expect(slots.admit(org, 2, now())).rejects.toThrow(/transaction/);
    expect(await admit()).toEqual(ids.slice(0, 2));
    expect(await admit()).toEqual([]);
    await finish(ids[0]!);
    expect(await admit()).toEqual([ids[2]]);
    // a run asleep in its first delay (queued, with a step) gives its slot up and does not wait for one
    await store.workflowRuns.insertStep({ ...queuedStep(ids[1]!, null), organizationId: org });
    await slots.release(org, ids[1]!);
    expect(await admit()).toEqual([ids[3]]);
    // woken, it holds a slot again whatever the cap, which then holds the next run back
    await slots.occupy(org, ids[1]!);
    await slots.occupy(org, ids[1]!);
    await finish(ids[2]!);
    expect(await admit()).toEqual([]);
    await finish(ids[3]!);
    expect(await admit()).toEqual([ids[4]]);
    expect(await store.transaction((tx) => tx.workflowRunSlots.admit(org, 0, now()))).toEqual([]);
  });
});
