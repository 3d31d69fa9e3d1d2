/**
 * What one workflow step costs the store, on both stores: the statements (each a round trip on
 * PostgreSQL) and commits a run makes, counted at the driver, for runs of one and of six `set` steps,
 * so that the difference divided by five is what each further step adds. A `set` step does no I/O of its
 * own, so everything counted is the engine's: claiming the step, committing it, planning and recording
 * the next one.
 */
import { join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/adapters/db/store.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { until } from '../helpers/wait.ts';

interface Tally {
  statements: number;
  commits: number;
  texts: string[];
}

const tally: Tally = { statements: 0, commits: 0, texts: [] };
let counting = false;

/** Connections inside an explicit transaction (a write outside one commits on its own). */
const inTransaction = new WeakSet<object>();
/** The test's own connection, which watches for the run's end. */
const uncounted = new WeakSet<object>();

function count(connection: object, sql: unknown): void {
  if (uncounted.has(connection)) return;
  const text = typeof sql === 'string' ? sql : ((sql as { text?: string } | null)?.text ?? '');
  const begins = /^\s*begin\b/i.test(text);
  const ends = /^\s*(commit|rollback)\b/i.test(text);
  const writes = !/^\s*(select|with\s[^)]*\)\s*select|pragma|begin|commit|rollback)\b/i.test(text);
  const implicitCommit = writes && !inTransaction.has(connection);
  if (begins) inTransaction.add(connection);
  if (ends) inTransaction.delete(connection);
  if (!counting) return;
  tally.statements++;
  if (/(^|;)\s*commit\b/i.test(text) || implicitCommit) tally.commits++;
  tally.texts.push(text.replace(/\s+/g, ' ').slice(0, 90));
}

/** Wraps a driver method so that each call counts once (the original runs unchanged). */
function wrap<T extends object>(
  proto: T,
  name: keyof T,
  of: (self: any, args: unknown[]) => { connection: object; sql: unknown },
) {
  const original = proto[name] as (...args: unknown[]) => unknown;
  (proto as Record<keyof T, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    const { connection, sql } = of(this, args);
    count(connection, sql);
    return original.apply(this, args);
  };
  return () => {
    (proto as Record<keyof T, unknown>)[name] = original;
  };
}

const prepared = new WeakMap<object, { connection: object; sql: string }>();
const restores: Array<() => void> = [
  wrap(pg.Client.prototype, 'query', (self, args) => ({ connection: self, sql: args[0] })),
];
// node:sqlite statements do not expose their text cheaply: remember it at prepare
const prepare = DatabaseSync.prototype.prepare;
DatabaseSync.prototype.prepare = function (this: DatabaseSync, sql: string) {
  const statement = prepare.call(this, sql);
  prepared.set(statement, { connection: this, sql });
  return statement;
};
restores.push(() => {
  DatabaseSync.prototype.prepare = prepare;
});
for (const method of ['all', 'run', 'get', 'iterate'] as const)
  restores.push(
    wrap(
      StatementSync.prototype,
      method,
      (self) => prepared.get(self as object) ?? { connection: {}, sql: '' },
    ),
  );

afterAll(() => {
  for (const restore of restores) restore();
});

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const setSteps = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    $kind: 'Action',
    id: `s${i}`,
    type: 'set',
    input: { values: { n: i, before: i === 0 ? '{{trigger.n}}' : `{{s${i - 1}.output.n}}` } },
  }));

describe.each(STORE_KINDS)('round trips per workflow step on %s', (kind) => {
  let t: TestApp;
  /** The run's status, read on a connection of the test's own. */
  let statusOf: (runId: string) => Promise<string | undefined>;
  let closeWatch: () => Promise<void>;
  beforeAll(async () => {
    t = await startTestApp(kind, { SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000' });
    await t.container.queue.start();
    if (t.db.databaseUrl) {
      const client = new pg.Client({ connectionString: t.db.databaseUrl });
      uncounted.add(client);
      await client.connect();
      statusOf = async (id) =>
        (await client.query<{ status: string }>('select status from workflow_runs where id = $1', [id]))
          .rows[0]?.status;
      closeWatch = () => client.end();
    } else {
      const db = new DatabaseSync(join(t.db.dataDir, SQLITE_FILE_NAME), { readOnly: true });
      uncounted.add(db);
      const read = db.prepare('select status from workflow_runs where id = ?');
      statusOf = async (id) => (read.get(id) as { status: string } | undefined)?.status;
      closeWatch = async () => db.close();
    }
  });
  afterAll(async () => {
    await closeWatch?.();
    await t?.close();
  });

  const runs = () => t.container.services.workflowRuns;
  const principal = () => ({ organizationId: t.container.defaultOrganizationId, keyId: 'test', scopes: [] });

  /** Statements and commits from starting a run of `steps` set steps to its end, the best of `tries`. */
  async function measure(steps: number, tries = 5) {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: {
        name: `rt ${steps} ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: setSteps(steps),
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    let best: Tally | undefined;
    for (let i = 0; i < tries; i++) {
      // the queue's own polling counts too: let it settle into its idle backoff first
      await new Promise((resolve) => setTimeout(resolve, 300));
      tally.statements = 0;
      tally.commits = 0;
      tally.texts = [];
      counting = true;
      const started = await runs().start(principal(), workflow.body.workflow_id as string, { n: 1 });
      const status = await until(
        () => statusOf(started.id),
        (s) => FINISHED.has(s ?? ''),
        10_000,
        1,
      );
      counting = false;
      expect(status).toBe('succeeded');
      if (!best || tally.statements < best.statements) best = { ...tally, texts: [...tally.texts] };
    }
    return best as Tally;
  }

  it('counts the statements and commits one more step adds', async () => {
    const one = await measure(1);
    const six = await measure(6);
    const perStep = {
      statements: (six.statements - one.statements) / 5,
      commits: (six.commits - one.commits) / 5,
    };
    console.info(
      `${kind}: run of 1 step ${one.statements} statements / ${one.commits} commits; of 6 steps ${six.statements} / ${six.commits}; per step ${perStep.statements} / ${perStep.commits}\n` +
        six.texts.join('\n'),
    );
  });
});
