/**
 * A flood at one webhook URL (docs/security.md G05, scaled to a test): the URL's own limit answers 429 with
 * Retry-After past it, so the runs it can start are bounded; the organization's limit caps its other
 * webhooks (and its API traffic) together; another organization's webhook is untouched throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';

const PER_URL = 40;
const PER_ORG = 60;
const FLOOD = 600;

describe.each(STORE_KINDS)('a flood at one webhook on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, {
      SWITCHBOARD_RATE_LIMIT_PER_KEY: String(PER_URL),
      SWITCHBOARD_RATE_LIMIT_PER_ORG: String(PER_ORG),
    });
  });
  afterAll(async () => t?.close());

  const hook = async (key?: string) => {
    const workflow = await t.request('POST', '/v1/workflows', {
      ...(key ? { key } : {}),
      body: {
        name: `Hook ${Math.random()}`,
        trigger_type: 'webhook',
        workflow_blocks: [{ $kind: 'Action', id: 'note', type: 'set', input: { values: { ok: true } } }],
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    return { id: workflow.body.workflow_id as string, url: workflow.body.webhook_url as string };
  };
  const deliver = (url: string) => t.request('POST', url, { key: null, body: { n: 1 } });

  it('answers 429 past the URL’s and the organization’s limits, and not to another organization', async () => {
    const other = await t.newTenant(['workflows:read', 'workflows:write']);
    const [flooded, sibling] = [await hook(), await hook()];
    const bystander = await hook(other.key);
    // the organization's API requests count against its limit too: the two that made the tenant, the
    // two that made its webhooks, and the read of the runs below
    const madeByX = 5;

    const statuses: number[] = [];
    const bystanderStatuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < FLOOD) {
          const n = ++next;
          const response = await deliver(flooded.url);
          statuses.push(response.status);
          if (response.status === 429) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
          // the other organization's webhook, now and then during the flood
          if (n % 50 === 0) bystanderStatuses.push((await deliver(bystander.url)).status);
        }
      }),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(PER_URL);
    expect(statuses.filter((s) => s === 429)).toHaveLength(FLOOD - PER_URL);
    expect(bystanderStatuses.length).toBeGreaterThan(5);
    expect(bystanderStatuses).toEqual(Array(bystanderStatuses.length).fill(202));

    // queue admission was bounded: only the admitted deliveries became runs
    const runs = await t.request('GET', `/v1/workflows/${flooded.id}/runs?limit=100`);
    expect(runs.body.data).toHaveLength(PER_URL);

    // the organization's other webhook has what is left of the organization's minute
    const siblingStatuses: number[] = [];
    for (let i = 0; i < 20; i++) siblingStatuses.push((await deliver(sibling.url)).status);
    const left = PER_ORG - PER_URL - madeByX;
    expect(siblingStatuses.filter((s) => s === 202)).toHaveLength(left);
    expect((await deliver(sibling.url)).body.error.message).toMatch(/organization/);
    expect((await deliver(bystander.url)).status).toBe(202);
  });
});
