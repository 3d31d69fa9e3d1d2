/**
 * cron-trigger workflows on both stores (docs/security.md I01, I02, I05, I06, I08, G-19): checks at save,
 * each occurrence fired once on a fake clock, three schedulers on one database, the missed-occurrence policy,
 * and schedules stopped by a delete or a change of trigger type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createLogger } from '../../src/infrastructure.ts';
import type { WorkflowRun } from '../../src/core/workflows/model.ts';
import { occurrenceAfter } from '../../src/core/workflows/schedule.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const echo = [
  { $kind: 'Action', id: 'echo', type: 'set', input: { values: { at: '{{trigger.scheduled_at}}' } } },
];

describe('cron occurrences (cron-parser, I08)', () => {
  it.each([
    ['0 0 29 2 *', 'UTC', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 * * 1', 'UTC', '2026-12-29T00:00:00Z', '2027-01-04T00:00:00.000Z'],
    ['0 0 31 * *', 'UTC', '2026-11-01T00:00:00Z', '2026-12-31T00:00:00.000Z'],
    ['0 9 * * 1-5', 'Europe/Berlin', '2026-03-27T09:00:00Z', '2026-03-30T07:00:00.000Z'],
    // 02:30 does not exist on the day clocks go forward: it fires once, at 03:30 CEST
    ['30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', '2026-03-29T01:30:00.000Z'],
  ])('%s in %s after %s is %s', (cron, timezone, from, next) => {
    expect(new Date(occurrenceAfter({ cron, timezone }, Date.parse(from)) ?? 0).toISOString()).toBe(next);
  });
});

describe.each(STORE_KINDS)('cron-trigger workflows on %s', (kind) => {
  let t: TestApp;
  let now = Date.parse('2026-06-01T10:10:00.000Z');
  const clock = { now: () => now };

  const create = async (configuration: unknown, extra: Record<string, unknown> = {}) =>
    t.request('POST', '/v1/workflows', {
      body: {
        name: `cron ${Math.random()}`,
        trigger_type: 'cron-trigger',
        trigger_configuration: configuration,
        workflow_blocks: echo,
        ...extra,
      },
    });
  /** Workflows made so far, so that a test ticking through whole days can stop the others' schedules. */
  const made: string[] = [];
  const created = async (configuration: unknown) => {
    const response = await create(configuration);
    if (response.status !== 201) throw new Error(response.text);
    made.push(response.body.workflow_id as string);
    return response.body.workflow_id as string;
  };
  const deleteMade = async () => {
    for (const id of made.splice(0)) await t.request('DELETE', `/v1/workflows/${id}`);
  };
  const runsOf = async (workflowId: string) => {
    const runs: WorkflowRun[] = [];
    for (let cursor: string | null | undefined; cursor !== null;) {
      const page = await t.container.store.workflowRuns.list(t.container.defaultOrganizationId, workflowId, {
        limit: 500,
        cursor,
      });
      runs.push(...page.items);
      cursor = page.nextCursor;
    }
    return runs;
  };
  const scheduledOf = async (workflowId: string) =>
    (await runsOf(workflowId)).map((r) => String(r.input.scheduled_at)).sort();

  beforeAll(async () => {
    // no background ticks: the tests tick by hand
    t = await startTestApp(kind, { SWITCHBOARD_WORK_QUEUE: 'false' }, { clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['61 * * * *', undefined, 422, '/trigger_configuration/cron', /range/],
    ['0 0 * * * * *', undefined, 422, '/trigger_configuration/cron', /5 fields/],
    ['* * * * * *', undefined, 422, '/trigger_configuration/cron', /seconds/],
    ['*/0 * * * *', undefined, 422, '/trigger_configuration/cron', /repeat/],
    ['@secondly', undefined, 422, '/trigger_configuration/cron', /nickname/],
    ['0 0 30 2 *', undefined, 422, '/trigger_configuration/cron', /never fires/],
    ['0 9 * * *', 'Mars/Olympus', 422, '/trigger_configuration/timezone', /Unknown time zone/],
  ])('rejects cron %s (timezone %s) with %i at %s', async (cron, timezone, status, path, message) => {
    const response = await create({ cron, ...(timezone ? { timezone } : {}) });
    expect(response.status).toBe(status);
    expect(response.body.error.path).toBe(path);
    expect(response.body.error.message).toMatch(message);
  });

  it.each([
    [null, '/trigger_configuration'],
    [{ timezone: 'UTC' }, '/trigger_configuration/cron'],
    [{ cron: '0 * * * *', missed: 'sometimes' }, '/trigger_configuration/missed'],
  ])('rejects configuration %j with 400 at %s', async (configuration, path) => {
    const response = await create(configuration);
    expect(response.status).toBe(400);
    expect(response.body.error.path).toBe(path);
  });

  it('accepts `expression` for `cron` and stores the defaults', async () => {
    const response = await create({ expression: '0 9 * * 1-5' });
    expect(response.status).toBe(201);
    expect(response.body.trigger_configuration).toEqual({
      expression: '0 9 * * 1-5',
      timezone: 'UTC',
      missed: 'skip',
    });
  });

  it('previews the next occurrences on GET (I08): the 29th of February fires in 2028 only', async () => {
    now = Date.parse('2026-06-01T10:10:00.000Z');
    const leap = await created({ cron: '0 0 29 2 *' });
    const read = await t.request('GET', `/v1/workflows/${leap}`);
    expect(read.body.next_runs.slice(0, 2)).toEqual(['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']);
    const weekdays = await created({ cron: '30 9 * * 1-5', timezone: 'Europe/Berlin' });
    expect((await t.request('GET', `/v1/workflows/${weekdays}`)).body.next_runs).toEqual([
      // Monday 1 June 10:10 UTC is past 09:30 in Berlin (07:30 UTC): Tuesday to Friday, then Monday
      '2026-06-02T07:30:00.000Z',
      '2026-06-03T07:30:00.000Z',
      '2026-06-04T07:30:00.000Z',
      '2026-06-05T07:30:00.000Z',
      '2026-06-08T07:30:00.000Z',
    ]);
    const manual = await t.request('POST', '/v1/workflows', {
      body: { name: 'by hand', trigger_type: 'manual-trigger', workflow_blocks: echo },
    });
    expect((await t.request('GET', `/v1/workflows/${manual.body.workflow_id}`)).body.next_runs).toBeNull();
  });

  it('fires each occurrence of an hourly schedule in Asia/Kolkata exactly once over 6 hours', async () => {
    now = Date.parse('2026-06-01T10:10:00.000Z');
    const id = await created({ cron: '0 * * * *', timezone: 'Asia/Kolkata' });
    for (let step = 0; step < 72; step++) {
      now += 5 * MINUTE;
      await t.container.scheduler.tick();
      await t.container.scheduler.tick();
    }
    // 10:10Z to 16:10Z; Kolkata is UTC+5:30, so its full hours are at :30 UTC
    expect(await scheduledOf(id)).toEqual([10, 11, 12, 13, 14, 15].map((h) => `2026-06-01T${h}:30:00.000Z`));
    const [run] = await runsOf(id);
    expect(run?.input).toEqual({ scheduled_at: '2026-06-01T15:30:00.000Z', workflow_id: id });
    expect(run?.callerKeyId).toBeNull();
  });

  /**
   * PostgreSQL: the three tick concurrently. SQLite: node:sqlite waits for a lock synchronously, so three
   * connections in one thread cannot interleave transactions; there they share the file and tick in turn.
   */
  it('with three schedulers on the same database, gives one run per occurrence', async () => {
    now = Date.parse('2026-06-02T00:00:30.000Z');
    const id = await created({ cron: '* * * * *' });
    const replicas: Container[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const config = loadConfig({ env: { ...t.db.env, SWITCHBOARD_WORK_QUEUE: 'false' }, envFile: false });
        replicas.push(await createContainer(config, { logger: createLogger({ logLevel: 'silent' }), clock }));
      }
      const schedulers = [t.container.scheduler, ...replicas.map((r) => r.scheduler)];
      for (let step = 0; step < 40; step++) {
        now += 30_000;
        if (kind === 'postgres') await Promise.all(schedulers.map((s) => s.tick()));
        else for (const s of schedulers) await s.tick();
      }
    } finally {
      for (const replica of replicas) await replica.close();
    }
    const scheduled = await scheduledOf(id);
    expect(scheduled).toHaveLength(20);
    expect(new Set(scheduled).size).toBe(20);
    expect(scheduled[0]).toBe('2026-06-02T00:01:00.000Z');
  });

  it.each([
    ['skip', 0, 3],
    ['once', 1, 2],
    ['all', 3, 0],
  ])('after 3 h without a scheduler, policy %s fires %i run(s)', async (missed, fired, skipped) => {
    now = Date.parse('2026-06-03T10:10:00.000Z');
    const id = await created({ cron: '0 * * * *', missed });
    const logged = t.logs.length;
    now = Date.parse('2026-06-03T13:59:00.000Z'); // 11:00, 12:00 and 13:00 were missed
    await t.container.scheduler.tick();
    const runs = await scheduledOf(id);
    expect(runs).toHaveLength(fired);
    if (missed === 'once') expect(runs).toEqual(['2026-06-03T13:00:00.000Z']);
    const warnings = t.logs.slice(logged).filter((l) => l.includes(id) && l.includes('skipped'));
    expect(warnings.length).toBe(skipped > 0 ? 1 : 0);
    if (skipped > 0) expect(JSON.parse(warnings[0] ?? '{}').skipped).toBe(skipped);
    // back on time: the next occurrence fires normally
    now = Date.parse('2026-06-03T14:00:05.000Z');
    await t.container.scheduler.tick();
    expect(await scheduledOf(id)).toHaveLength(fired + 1);
  });

  it('under `all`, fires at most 100 occurrences per tick and keeps only the latest 1000', async () => {
    now = Date.parse('2026-06-04T00:00:30.000Z');
    const id = await created({ cron: '* * * * *', missed: 'all' });
    now += 2 * 24 * HOUR; // 2880 minutes missed
    const first = await t.container.scheduler.tick();
    expect(first.filter((r) => r.workflowId === id)).toHaveLength(100);
    for (let i = 0; i < 12; i++) await t.container.scheduler.tick();
    const scheduled = await scheduledOf(id);
    expect(scheduled).toHaveLength(1000);
    expect(new Set(scheduled).size).toBe(1000);
    expect(scheduled.at(-1)).toBe(new Date(Math.floor(now / MINUTE) * MINUTE).toISOString());
    await t.request('DELETE', `/v1/workflows/${id}`);
  }, 60_000);

  it.each([
    ['deleting the workflow', (id: string) => t.request('DELETE', `/v1/workflows/${id}`)],
    [
      'changing its trigger type',
      (id: string) => t.request('PATCH', `/v1/workflows/${id}`, { body: { trigger_type: 'manual-trigger' } }),
    ],
  ])('%s stops the schedule', async (_, stop) => {
    now = Date.parse('2026-06-05T00:00:30.000Z');
    const id = await created({ cron: '* * * * *' });
    now += MINUTE;
    await t.container.scheduler.tick();
    expect(await runsOf(id)).toHaveLength(1);
    expect((await stop(id)).status).toBeLessThan(300);
    now += 10 * MINUTE;
    await t.container.scheduler.tick();
    expect(await runsOf(id)).toHaveLength(1);
  });

  it('keeps the next occurrence across an edit that keeps the cron, and skips runs its constraints refuse', async () => {
    now = Date.parse('2026-06-06T00:00:30.000Z');
    const id = await created({ cron: '*/2 * * * *' });
    now = Date.parse('2026-06-06T00:02:10.000Z'); // 00:02 is due, not yet fired
    const patched = await t.request('PATCH', `/v1/workflows/${id}`, {
      body: {
        name: 'renamed',
        trigger_constraints: { '!=': [{ var: 'scheduled_at' }, '2026-06-06T00:04:00.000Z'] },
      },
    });
    expect(patched.status).toBe(200);
    await t.container.scheduler.tick();
    now = Date.parse('2026-06-06T00:04:10.000Z');
    await t.container.scheduler.tick();
    now = Date.parse('2026-06-06T00:06:10.000Z');
    await t.container.scheduler.tick();
    expect(await scheduledOf(id)).toEqual(['2026-06-06T00:02:00.000Z', '2026-06-06T00:06:00.000Z']);
    expect((await runsOf(id)).every((r) => r.versionNumber === 2)).toBe(true);
  });

  /**
   * Daylight saving in America/New_York: on 2027-03-14 clocks go from 02:00 EST to 03:00 EDT (02:30 does
   * not exist), on 2027-11-07 from 02:00 EDT back to 01:00 EST (01:30 happens twice). Each day is ticked
   * every 5 minutes (as a scheduler does every 5 s) from local midnight to the next.
   */
  it.each([
    ['30 2 * * *', 'spring', ['2027-03-14T07:30:00.000Z']], // once, at 03:30 EDT
    ['30 1 * * *', 'fall', ['2027-11-07T05:30:00.000Z']], // once, at its first pass (01:30 EDT)
    ['30 * * * *', 'spring', 23], // every real hour: a 23-hour day
    ['30 * * * *', 'fall', 25],
  ] as const)(
    'fires %s in America/New_York on the %s clock change as cron does: %j',
    async (cron, change, expected) => {
      const [dayStart, dayEnd] =
        change === 'spring'
          ? ['2027-03-14T05:00:00.000Z', '2027-03-15T04:00:00.000Z']
          : ['2027-11-07T04:00:00.000Z', '2027-11-08T05:00:00.000Z'];
      await deleteMade();
      now = Date.parse(dayStart) - MINUTE;
      const id = await created({ cron, timezone: 'America/New_York' });
      for (now = Date.parse(dayStart); now < Date.parse(dayEnd); now += 5 * MINUTE)
        await t.container.scheduler.tick();
      const scheduled = await scheduledOf(id);
      if (typeof expected === 'number') expect(scheduled).toHaveLength(expected);
      else expect(scheduled).toEqual(expected);
      expect(new Set(scheduled).size).toBe(scheduled.length);
      await t.request('DELETE', `/v1/workflows/${id}`);
    },
    120_000,
  );

  it.each([
    // the scheduler was down across the change; `all` catches up on every occurrence missed, once each
    ['30 2 * * *', '2027-03-14T05:00:00.000Z', '2027-03-14T09:00:00.000Z', ['2027-03-14T07:30:00.000Z']],
    ['30 1 * * *', '2027-11-07T04:00:00.000Z', '2027-11-07T08:00:00.000Z', ['2027-11-07T05:30:00.000Z']],
  ])('catches %s up once after being down from %s to %s', async (cron, down, up, expected) => {
    now = Date.parse(down);
    const id = await created({ cron, timezone: 'America/New_York', missed: 'all' });
    now = Date.parse(up);
    await t.container.scheduler.tick();
    await t.container.scheduler.tick();
    expect(await scheduledOf(id)).toEqual(expected);
    await t.request('DELETE', `/v1/workflows/${id}`);
  });

  it('fires by the database’s clock: a process whose clock runs ahead fires nothing early', async () => {
    now = Date.parse('2026-06-07T00:00:30.000Z');
    const id = await created({ cron: '* * * * *' });
    // the schedule's next occurrence in real time, a minute or so away
    const databaseNow = (await t.container.store.databaseNow()) + 5_000;
    const schedule = await t.container.store.workflowSchedules.get(t.container.defaultOrganizationId, id);
    const nextAt = new Date(occurrenceAfter({ cron: '* * * * *', timezone: 'UTC' }, databaseNow) ?? 0);
    await t.container.store.workflowSchedules.put({ ...schedule!, nextAt: nextAt.toISOString() });
    const ahead = { now: () => Date.now() + 10 * MINUTE };
    const replicas: Container[] = [];
    try {
      for (const scheduleTime of ['database', 'clock'] as const) {
        const config = loadConfig({ env: { ...t.db.env, SWITCHBOARD_WORK_QUEUE: 'false' }, envFile: false });
        const logger = createLogger({ logLevel: 'silent' });
        replicas.push(await createContainer(config, { logger, clock: ahead, scheduleTime }));
      }
      const [byDatabase, byOwnClock] = replicas;
      await byDatabase!.scheduler.tick();
      expect(await runsOf(id)).toHaveLength(0);
      // the same process going by its own clock fires an occurrence still minutes away
      await byOwnClock!.scheduler.tick();
      const early = await scheduledOf(id);
      expect(early).toHaveLength(1);
      expect(Date.parse(early[0]!)).toBeGreaterThan(Date.now() + 5 * MINUTE);
    } finally {
      for (const replica of replicas) await replica.close();
    }
    await t.request('DELETE', `/v1/workflows/${id}`);
  });
});
