/**
 * A stored secret that does not decrypt under the right master key (its ciphertext altered, or the row
 * restored from another database), on both stores: executions that need it fail with the typed category
 * secret_unavailable instead of a 500, the server starts anyway and reports the row by id, the other
 * secrets keep working, and storing the value again mends it. A wrong master key is still refused, by
 * the check value kept for each key version.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../src/adapters/crypto/keyring.ts';
import { secretCommands } from '../../src/cli/secrets.ts';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** Tests that start a server twice on one database: under load each start takes seconds. */
const RESTARTS_MS = 90_000;
const BAD_VALUE = 'unavailable-canary-4d6f8a0c2e4b6d8f0a2c4e6b';
const GOOD_VALUE = 'available-canary-9e7c5a3f1d9b7e5c3a1f9d7b5';

type Breakage = (
  sealed: { ciphertext: Uint8Array; nonce: Uint8Array },
  organizationId: string,
  id: string,
) => {
  ciphertext: Uint8Array;
  nonce: Uint8Array;
};

const BREAKAGES: [string, Breakage][] = [
  [
    'its ciphertext altered',
    ({ ciphertext, nonce }) => {
      const altered = new Uint8Array(ciphertext);
      altered[0] = (altered[0] ?? 0) ^ 0xff;
      return { ciphertext: altered, nonce };
    },
  ],
  [
    'the row restored from another database',
    (_sealed, organizationId, id) =>
      new Keyring(new Map([[1, new Uint8Array(randomBytes(32))]]), 1).seal(BAD_VALUE, {
        organizationId,
        secretId: id,
      }),
  ],
];

describe.each(STORE_KINDS)('a secret that does not decrypt, on %s', (kind) => {
  let upstream: Upstream;
  const env = { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' };
  const cleanups: (() => Promise<unknown>)[] = [];
  /** The server the breakage cases share. */
  let shared: TestApp;
  beforeAll(async () => {
    upstream = await startUpstream();
    shared = (await fresh()).t;
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await upstream.close();
  });

  /** A server on `db`, which outlives it (a restart is another serve on the same db). */
  async function serve(db: TestDatabase, adminKey: string, extra: Record<string, string> = {}) {
    const t = await startTestApp(kind, { ...env, ...extra }, { reuse: { db, adminKey } });
    let closed: Promise<void> | undefined;
    const close = () => (closed ??= t.close());
    cleanups.push(close);
    return { ...t, close };
  }

  /** A server on a fresh database, and how to start another on the same one. */
  async function fresh() {
    const db = await createTestDatabase(kind);
    cleanups.unshift(() => db.drop());
    const adminKey = `test-admin-${randomBytes(16).toString('hex')}`;
    const t = await serve(db, adminKey);
    return { t, restart: (extra?: Record<string, string>) => serve(db, adminKey, extra) };
  }

  let seeds = 0;
  /** BAD (created first: on a fresh server, the first row of its key version) and GOOD, and actions using them. */
  async function seed(t: TestApp) {
    const n = ++seeds;
    const secret = async (name: string, value: string) =>
      (
        await t.request('POST', '/v1/secrets', {
          body: { name: `${name}_${n}`, value, allowed_hosts: ['127.0.0.2'] },
        })
      ).body.id as string;
    const bad = await secret('BAD', BAD_VALUE);
    const good = await secret('GOOD', GOOD_VALUE);
    const action = async (body: Record<string, unknown>) => {
      const response = await t.request('POST', '/v1/actions', {
        body: { name: `A ${Math.random()}`, description: 'd', ...body },
      });
      expect(response.status, response.text).toBe(201);
      return response.body.id as string;
    };
    const bearer = (secretId: string) => ({
      kind: 'http',
      http: {
        method: 'GET',
        url: `${upstream.url}/status/200`,
        auth: { type: 'bearer', secret_id: secretId },
      },
    });
    return {
      bad,
      good,
      badHttp: await action(bearer(bad)),
      goodHttp: await action(bearer(good)),
      badCode: await action({
        kind: 'code',
        code: { source: 'return secrets.BAD.length' },
        secrets: { BAD: bad },
      }),
    };
  }

  async function breakSecret(t: TestApp, id: string, breakage: Breakage) {
    const organizationId = t.container.defaultOrganizationId;
    const row = await t.infrastructure.store.db
      .selectFrom('secrets')
      .select(['ciphertext', 'nonce'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const broken = breakage(
      { ciphertext: new Uint8Array(row.ciphertext), nonce: new Uint8Array(row.nonce) },
      organizationId,
      id,
    );
    await t.infrastructure.store.db
      .updateTable('secrets')
      .set({ ciphertext: broken.ciphertext, nonce: broken.nonce })
      .where('id', '=', id)
      .execute();
  }

  const execute = (t: TestApp, id: string) => t.request('POST', `/v1/actions/${id}/execute`, { body: {} });

  it.each(BREAKAGES)(
    'with %s: fails the executions that need it, typed, and serves the rest',
    async (_name, breakage) => {
      const t = shared;
      const ids = await seed(t);
      await breakSecret(t, ids.bad, breakage);

      for (const actionId of [ids.badHttp, ids.badCode]) {
        const response = await execute(t, actionId);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toMatchObject({
          status: 'failed',
          error: {
            category: 'secret_unavailable',
            message: expect.any(String),
            detail: expect.stringContaining(`PATCH /v1/secrets/${ids.bad}`),
          },
        });
        const record = await t.request('GET', `/v1/executions/${response.body.id}`);
        expect(record.body.error.category).toBe('secret_unavailable');
      }
      expect(upstream.requests.filter((r) => r.headers.authorization?.includes(BAD_VALUE))).toHaveLength(0);
      const good = await execute(t, ids.goodHttp);
      expect(good.body.status).toBe('succeeded');
    },
  );

  it(
    'starts with such a row, reports it by id and never its value, and mends when the value is stored again',
    async () => {
      const first = await fresh();
      const ids = await seed(first.t);
      await breakSecret(first.t, ids.bad, BREAKAGES[0]![1]);
      await first.t.close();

      const t = await first.restart();
      expect(t.container.undecryptableSecrets.map((s) => s.id)).toEqual([ids.bad]);
      const report = t.logs.find((line) => line.includes('do not decrypt'));
      expect(report).toContain(ids.bad);
      expect(t.logs.join('\n')).not.toContain(BAD_VALUE);
      expect(t.logs.join('\n')).not.toContain(ids.good);

      expect((await execute(t, ids.goodHttp)).body.status).toBe('succeeded');
      expect((await execute(t, ids.badHttp)).body.error.category).toBe('secret_unavailable');

      // re-encrypting would leave the row under the old key version, so it is refused before anything changes
      for (const command of ['secrets rotate-key', 'secrets reencrypt'])
        await expect(
          secretCommands[command]!.run({
            container: t.container,
            infrastructure: t.infrastructure,
            args: [],
            options: {},
            json: true,
          }),
        ).rejects.toThrow(new RegExp(`do not decrypt.*${ids.bad}`));

      const mended = await t.request('PATCH', `/v1/secrets/${ids.bad}`, { body: { value: BAD_VALUE } });
      expect(mended.status).toBe(200);
      const run = await execute(t, ids.badHttp);
      expect(run.body.status).toBe('succeeded');
    },
    RESTARTS_MS,
  );

  it(
    'still refuses to start with a wrong master key, told by its check value',
    async () => {
      const first = await fresh();
      await seed(first.t);
      await first.t.close();
      const wrong = randomBytes(32).toString('base64');
      await expect(first.restart({ SWITCHBOARD_SECRET_KEY: wrong })).rejects.toThrow(
        /master key is wrong or missing/,
      );
      const restarted = await first.restart();
      expect(restarted.container.undecryptableSecrets).toEqual([]);
    },
    RESTARTS_MS,
  );
});
