/**
 * `set` steps have no effect outside the run, so a job runs those that follow a step while committing
 * that step, in the same transaction. Their records read as any step's: in the order the run reached
 * them, one attempt each, their outputs readable by later steps; one that fails takes its on_error
 * branch, or fails the run with its own error, and nothing after it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

describe.each(STORE_KINDS)('set steps after a step on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"n":7}');
      return true;
    });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const run = async (blocks: unknown[]) => {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: { name: `set ${Math.random()}`, trigger_type: 'manual-trigger', workflow_blocks: blocks },
    });
    expect(workflow.status, workflow.text).toBe(201);
    const started = await t.request('POST', `/v1/workflows/${workflow.body.workflow_id}/runs`, {
      body: { input: { who: 'Ada' } },
    });
    expect(started.status).toBe(202);
    return until(
      () => t.request('GET', `/v1/runs/${started.body.id}`).then((r) => r.body),
      (r) => FINISHED.has(r.status as string),
    );
  };
  const fetchN = () => ({ $kind: 'Action', id: 'fetch', type: 'http', input: { url: `${upstream.url}/n` } });
  const set = (id: string, values: Record<string, unknown>, extra: object = {}) => ({
    $kind: 'Action',
    id,
    type: 'set',
    input: { values },
    ...extra,
  });
  const summary = (r: { steps: { id: string; status: string; attempts: number }[] }) =>
    r.steps.map((s) => [s.id, s.status, s.attempts]);

  it('records each in order, once, readable by the steps after it', async () => {
    const done = await run([
      fetchN(),
      set('double', { n: '{{fetch.output.n}}', who: '{{trigger.who}}' }),
      set('again', { from: '{{double.output.n}}' }),
    ]);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(summary(done)).toEqual([
      ['fetch', 'succeeded', 1],
      ['double', 'succeeded', 1],
      ['again', 'succeeded', 1],
    ]);
    expect(done.steps[1].output).toEqual({ n: 7, who: 'Ada' });
    expect(done.steps[2].output).toEqual({ from: 7 });
  });

  it('takes the on_error branch of a set step that fails, then goes on', async () => {
    const done = await run([
      fetchN(),
      set('broken', { v: '{{fetch.output.missing}}' }, { on_error: [set('handled', { ok: true })] }),
      set('after', { v: '{{handled.output.ok}}' }),
    ]);
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    expect(summary(done)).toEqual([
      ['fetch', 'succeeded', 1],
      ['broken', 'failed', 1],
      ['handled', 'succeeded', 1],
      ['after', 'succeeded', 1],
    ]);
    expect(done.steps[1].error).toMatchObject({ category: 'invalid_input' });
    expect(done.steps[3].output).toEqual({ v: true });
  });

  it('fails the run with a set step that fails with no on_error; nothing after it runs', async () => {
    const done = await run([
      fetchN(),
      set('broken', { v: '{{fetch.output.missing}}' }),
      set('never', { v: 1 }),
    ]);
    expect(done.status, JSON.stringify(done)).toBe('failed');
    expect(done.error).toMatchObject({ step_id: 'broken', category: 'invalid_input' });
    expect(summary(done)).toEqual([
      ['fetch', 'succeeded', 1],
      ['broken', 'failed', 1],
    ]);
  });
});
