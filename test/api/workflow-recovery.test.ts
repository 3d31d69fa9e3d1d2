/**
 * The sweep finds runs whose job is gone from the queue or dead without a dead letter (a restore, a lost
 * SQLite activity file, a job that died before dead letters existed), on both stores: a gone job is
 * replaced, on time for a delay, and the run goes on once; a dead one fails the step and the run with an
 * error saying why. The queue's own storage is edited to stage each case.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_EXPIRED } from '../../src/adapters/queue/embedded/embedded-queue.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { until } from '../helpers/wait.ts';

describe.each(STORE_KINDS)('the run sweep on %s', (kind) => {
  let t: TestApp;

  /** A run whose first step is a delay: its job waits in the queue, held by nothing. */
  const sleepingRun = async (seconds: number) => {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: {
        name: `Sleeper ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          { $kind: 'Action', id: 'nap', type: 'delay', input: { seconds } },
          { $kind: 'Action', id: 'after', type: 'set', input: { values: { woke: true } } },
        ],
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    const started = await t.request('POST', `/v1/workflows/${workflow.body.workflow_id}/runs`, { body: {} });
    expect(started.status).toBe(202);
    const runId = started.body.id as string;
    const [nap] = await t.container.store.workflowRuns.heldSteps([runId]);
    expect(nap).toMatchObject({ stepId: 'nap', status: 'queued' });
    return { runId, jobId: nap!.owner!.jobId, wakeAt: (nap!.input as { wake_at: string }).wake_at };
  };
  const read = async (id: string) => (await t.request('GET', `/v1/runs/${id}`)).body;
  const jobs = kind === 'sqlite' ? sql`jobs` : sql`switchboard_jobs.job`;

  beforeAll(async () => {
    t = await startTestApp(kind);
    await t.startWork();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('replaces a job gone from the queue, and the run wakes on time, once', async () => {
    const { runId, jobId, wakeAt } = await sleepingRun(2);
    await sql`delete from ${jobs} where id = ${jobId}`.execute(t.infrastructure.store.db);
    expect((await t.container.queue.statuses([jobId])).length).toBe(0);

    expect(await t.container.services.workflowRuns.sweep(0)).toBeGreaterThanOrEqual(1);
    const replacement = (await t.container.store.workflowRuns.heldSteps([runId]))[0]?.owner?.jobId;
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(jobId);
    // the replacement is alive, so the next sweeps leave the run alone
    await t.container.services.workflowRuns.sweep(0);
    expect((await t.container.store.workflowRuns.heldSteps([runId]))[0]?.owner?.jobId).toBe(replacement);

    const run = await until(
      () => read(runId),
      (r) => r.status !== 'queued' && r.status !== 'running',
      15_000,
    );
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const nap = run.steps.find((s: { id: string }) => s.id === 'nap');
    expect(nap.attempts).toBe(1);
    expect(Date.parse(nap.started_at)).toBeGreaterThanOrEqual(Date.parse(wakeAt) - 1_000);
  });

  it.each([
    [
      'its attempts failed',
      'boom',
      'internal',
      /^The step's job failed 4 times and is not tried again: boom$/,
    ],
    [
      'its worker died on its last attempt',
      kind === 'sqlite' ? LEASE_EXPIRED : 'job heartbeat timeout',
      'worker_died',
      /^The step's worker died 4 times/,
    ],
  ])(
    'fails the step and the run of a job that is dead because %s',
    async (_, lastError, category, message) => {
      const { runId, jobId } = await sleepingRun(300);
      const db = t.infrastructure.store.db;
      if (kind === 'sqlite')
        await sql`update jobs set state = 'dead', attempt = 4, last_error = ${lastError} where id = ${jobId}`.execute(
          db,
        );
      else
        await sql`update switchboard_jobs.job
                   set state = 'failed', retry_count = 3, started_on = now(), completed_on = now(),
                       output = ${JSON.stringify({ message: lastError })}::jsonb
                 where id = ${jobId}`.execute(db);

      expect(await t.container.services.workflowRuns.sweep(0)).toBeGreaterThanOrEqual(1);
      const run = await read(runId);
      const error = { step_id: 'nap', category, message: expect.stringMatching(message) };
      expect(run).toMatchObject({ status: 'failed', error });
      expect(run.steps).toEqual([expect.objectContaining({ id: 'nap', status: 'failed', error })]);
    },
  );
});
