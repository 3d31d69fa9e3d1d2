/**
 * Backlog and fairness (docs/security.md H17), at the scale a test affords: organization X has 400 runs
 * queued of a step that takes 100 ms (about ten seconds of work for the server's four workflow slots)
 * when organization Y starts one run. Y's run starts within a couple of seconds, not behind X's backlog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startLedger, type Ledger } from '../helpers/ledger.ts';
import { until } from '../helpers/wait.ts';

const BACKLOG = 400;

describe.each(STORE_KINDS)('workflow backlog fairness on %s', (kind) => {
  let t: TestApp;
  let ledger: Ledger;

  beforeAll(async () => {
    ledger = await startLedger({ delayMs: 100 });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_RATE_LIMIT_PER_KEY: '100000',
      SWITCHBOARD_RATE_LIMIT_PER_ORG: '100000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await ledger?.upstream.close();
  });

  const createWorkflow = async (key: string | undefined) => {
    const workflow = await t.request('POST', '/v1/workflows', {
      key,
      body: {
        name: 'One slow step',
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          {
            $kind: 'Action',
            id: 'a',
            type: 'http',
            input: { method: 'POST', url: `${ledger.upstream.url}/ledger/a`, body: {} },
          },
        ],
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    return workflow.body.workflow_id as string;
  };

  it(
    'starts another organization’s run within seconds behind a backlog of 400',
    { timeout: 90_000 },
    async () => {
      const other = await t.newTenant(['workflows:read', 'workflows:write', 'workflows:execute']);
      const x = await createWorkflow(undefined);
      const y = await createWorkflow(other.key);

      for (let i = 0; i < BACKLOG; i++) {
        const run = await t.request('POST', `/v1/workflows/${x}/runs`, { body: { input: {} } });
        expect(run.status).toBe(202);
      }
      // the backlog waits in the queue, not in memory: the workers start on it only now
      await t.startWork();
      await until(
        async () => ledger.deliveries.length,
        (n) => n >= 8,
      );

      const started = await t.request('POST', `/v1/workflows/${y}/runs`, {
        key: other.key,
        body: { input: {} },
      });
      expect(started.status).toBe(202);
      const run = await until(
        async () => (await t.request('GET', `/v1/runs/${started.body.id}`, { key: other.key })).body,
        (r) => r.status === 'succeeded',
        30_000,
        50,
      );
      const waitedMs = Date.parse(run.steps[0].started_at) - Date.parse(run.created_at);
      const xDone = ledger.deliveries.length;
      console.info(
        `workflow-fairness on ${kind}: Y's run started ${waitedMs} ms after it was created; X had ${xDone} of ${BACKLOG} done`,
      );
      expect(waitedMs).toBeLessThan(3_000);
      // and it did not wait for the backlog: most of X's runs were still to come
      expect(xDone).toBeLessThan(BACKLOG / 2);
    },
  );
});
