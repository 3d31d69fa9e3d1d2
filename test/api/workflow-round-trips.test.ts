/**
 * What one workflow step costs the store, on both stores: the statements (each a round trip on
 * PostgreSQL) and commits a run makes, counted at the driver, for runs of one and of six `http` steps,
 * so that the difference divided by five is what each further step adds. An `http` step writes nothing
 * of its own, so everything counted is the engine's: claiming the step, committing it, planning and
 * recording the next one. `set` steps, which have no effect outside the run, commit with the step before.
 */
import { join } from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/adapters/db/store.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

interface Tally {
  statements: number;
  commits: number;
  /** Commits that wait for the disk (PostgreSQL: not relaxed by synchronous_commit = off). */
  durable: number;
  texts: string[];
}

const tally: Tally = { statements: 0, commits: 0, durable: 0, texts: [] };
let counting = false;

/** Connections inside an explicit transaction (a write outside one commits on its own). */
const inTransaction = new WeakSet<object>();
/** Connections whose open transaction turned synchronous_commit off. */
const relaxed = new WeakSet<object>();
const RELAXES = /set_config\('synchronous_commit', 'off', true\)|set local synchronous_commit = off/i;
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
  if (RELAXES.test(text) && !implicitCommit) relaxed.add(connection);
  const commits = /(^|;)\s*commit\b/i.test(text) || implicitCommit;
  const durable = commits && !relaxed.has(connection) && !(implicitCommit && RELAXES.test(text));
  if (ends) {
    inTransaction.delete(connection);
    relaxed.delete(connection);
  }
  if (!counting) return;
  tally.statements++;
  if (commits) tally.commits++;
  if (durable) tally.durable++;
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

describe.each(STORE_KINDS)('round trips per workflow step on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  /** The run's status, read on a connection of the test's own. */
  let statusOf: (runId: string) => Promise<string | undefined>;
  let closeWatch: () => Promise<void>;
  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.setHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"n":1}');
      return true;
    });
    t = await startTestApp(kind, {
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
    });
    await t.startWork();
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
    await upstream?.close();
  });

  /** `http` steps, each sending the output of the one before, then `set` steps reading the last. */
  const blocks = (http: number, set = 0) => [
    ...Array.from({ length: http }, (_, i) => ({
      $kind: 'Action',
      id: `h${i}`,
      type: 'http',
      input: {
        method: 'POST',
        url: `${upstream.url}/steps/${i}`,
        body: { before: i === 0 ? '{{trigger.n}}' : `{{h${i - 1}.output.n}}` },
      },
    })),
    ...Array.from({ length: set }, (_, i) => ({
      $kind: 'Action',
      id: `s${i}`,
      type: 'set',
      input: { values: { n: i, last: `{{h${http - 1}.output.n}}` } },
    })),
  ];

  /** Statements and commits from starting a run of these blocks to its end, the fewest of `tries`. */
  async function measure(workflowBlocks: unknown[], tries = 5): Promise<Tally> {
    const workflow = await t.request('POST', '/v1/workflows', {
      body: {
        name: `rt ${Math.random()}`,
        trigger_type: 'manual-trigger',
        workflow_blocks: workflowBlocks,
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    const principal = { organizationId: t.container.defaultOrganizationId, keyId: 'test', scopes: [] };
    let best: Tally | undefined;
    for (let i = 0; i < tries; i++) {
      // the queue's own polling counts too: let it settle into its idle backoff first
      await new Promise((resolve) => setTimeout(resolve, 300));
      Object.assign(tally, { statements: 0, commits: 0, durable: 0, texts: [] });
      counting = true;
      const started = await t.container.services.workflowRuns.start(
        principal,
        workflow.body.workflow_id as string,
        { n: 1 },
      );
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

  // SQLite's commits do not wait for the disk (WAL, synchronous = NORMAL)
  const line = (name: string, tally: Tally) =>
    `${name}: ${tally.statements} statements, ${tally.commits} commits` +
    (kind === 'postgres' ? ` (${tally.durable} waiting for the disk)` : '');

  it('one more http step adds a claim and one transaction, with one commit that waits for the disk', async () => {
    const one = await measure(blocks(1));
    const six = await measure(blocks(6));
    const per = (key: 'statements' | 'commits' | 'durable') => (six[key] - one[key]) / 5;
    console.info(
      [
        `${kind}:`,
        line('  run of 1 http step', one),
        line('  run of 6 http steps', six),
        `  each further http step: ${per('statements')} statements, ${per('commits')} commits` +
          (kind === 'postgres' ? ` (${per('durable')} waiting for the disk)` : ''),
        ...six.texts.map((text) => `    ${text}`),
      ].join('\n'),
    );
    // claim; begin, lock the run, commit the step, record the next, commit (the queue's polls add noise)
    expect(per('statements')).toBeLessThanOrEqual(6.4);
    expect(per('commits')).toBeLessThanOrEqual(2.4);
    // on PostgreSQL the step's claim commits without waiting for the disk
    if (kind === 'postgres') expect(per('durable')).toBeLessThanOrEqual(1.4);
  });

  it('set steps after an http step commit with it, in its transaction', async () => {
    const alone = await measure(blocks(1));
    const followed = await measure(blocks(1, 5));
    console.info(
      `${kind}:\n${line('  1 http step', alone)}\n${line('  1 http step and 5 set steps', followed)}`,
    );
    expect(followed.commits - alone.commits).toBeLessThanOrEqual(1);
    expect(followed.statements - alone.statements).toBeLessThanOrEqual(2);
  });
});
