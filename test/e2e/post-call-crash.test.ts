/**
 * A post-call webhook survives a `kill -9` of the server between the end of the call and the delivery
 * (docs/security.md H): the delivery is under way (the upstream has the request and holds it) when the
 * process dies; a new process picks the job up once its lease lapses and delivers it again with the same
 * Idempotency-Key, and the upstream, which deduplicates on that key, sees one effect.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS } from '../helpers/databases.ts';
import { call, startServer, startWorker, type ServerProcess } from '../helpers/process.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { until } from '../helpers/wait.ts';

describe.each(STORE_KINDS)('post-call delivery across a crash on %s', (kind) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers after kill -9, with exactly one effect at a deduplicating upstream', async () => {
    const db = await createTestDatabase(kind);
    cleanups.push(() => db.drop());
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());

    // the upstream: applies an effect once per Idempotency-Key; holds its first request unanswered
    const effects = new Map<string, number>();
    const held: ServerResponse[] = [];
    let deliveries = 0;
    upstream.setHandler((req, res) => {
      if (req.url !== '/crm/notes') return false;
      deliveries++;
      const key = String(req.headers['idempotency-key'] ?? '');
      if (!effects.has(key)) effects.set(key, 1);
      if (deliveries === 1) {
        held.push(res);
        return true;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ stored: true }));
      return true;
    });
    cleanups.push(async () => held.forEach((res) => res.destroy()));

    const key = `e2e-admin-${randomBytes(12).toString('hex')}`;
    const env = {
      ...db.env,
      SWITCHBOARD_ADMIN_KEY: key,
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
      SWITCHBOARD_JOB_LEASE_MS: kind === 'postgres' ? '10000' : '2000',
      SWITCHBOARD_JOB_RETRY_BASE_MS: '50',
    };
    const serve = async (): Promise<ServerProcess> => {
      const server = await startServer(env, db.dataDir);
      cleanups.push(() => server.stop('SIGKILL'));
      return server;
    };

    const first = await serve();
    const action = await call(`${first.url}/v1/actions`, key, {
      body: {
        name: 'Save call notes',
        description: 'Stores the call summary in the CRM after the call',
        kind: 'http',
        execution_mode: 'post_call',
        variables: [{ name: 'summary', type: 'string', required: true }],
        http: { method: 'POST', url: `${upstream.url}/crm/notes`, body: { summary: '{{summary}}' } },
      },
    });
    expect(action.status).toBe(201);
    const queued = await call(`${first.url}/v1/actions/${action.body.id}/execute`, key, {
      body: { inputs: { summary: 'Refund approved' }, conversation_id: 'call-42' },
    });
    expect(queued.body.status).toBe('queued');
    const ended = await call(`${first.url}/v1/conversations/call-42/end`, key, { method: 'POST', body: {} });
    expect(ended.status).toBe(202);

    await until(
      async () => deliveries,
      (n) => n === 1,
      10_000,
    );
    expect(await first.stop('SIGKILL')).toBe(null);

    const second = await serve();
    await until(
      async () => deliveries,
      (n) => n >= 2,
      30_000,
    );
    const done = await until(
      async () => (await call(`${second.url}/v1/executions/${queued.body.id}`, key)).body,
      (e) => e.status === 'succeeded',
      10_000,
    );
    expect(done).toMatchObject({ status: 'succeeded', output: { stored: true } });
    expect([...effects.entries()]).toEqual([[`post-call:${queued.body.id}`, 1]]);
  }, 60_000);

  it('leaves the queue to a separate worker process when the server does not work it', async () => {
    const db = await createTestDatabase(kind);
    cleanups.push(() => db.drop());
    const upstream = await startUpstream();
    cleanups.push(() => upstream.close());
    const key = `e2e-admin-${randomBytes(12).toString('hex')}`;
    const env = { ...db.env, SWITCHBOARD_ADMIN_KEY: key, SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' };
    const server = await startServer({ ...env, SWITCHBOARD_WORK_QUEUE: 'false' }, db.dataDir);
    cleanups.push(() => server.stop('SIGKILL'));

    const action = await call(`${server.url}/v1/actions`, key, {
      body: {
        name: 'Save call notes',
        description: 'Stores the call summary in the CRM after the call',
        kind: 'http',
        execution_mode: 'post_call',
        variables: [{ name: 'summary', type: 'string', required: true }],
        http: { method: 'POST', url: `${upstream.url}/effects`, body: { summary: '{{summary}}' } },
      },
    });
    const queued = await call(`${server.url}/v1/actions/${action.body.id}/execute`, key, {
      body: { inputs: { summary: 'Refund approved' }, conversation_id: 'call-7' },
    });
    await call(`${server.url}/v1/conversations/call-7/end`, key, { method: 'POST', body: {} });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(upstream.effects.size).toBe(0); // nobody works the queue yet

    const worker = await startWorker(env, db.dataDir);
    cleanups.push(() => worker.stop('SIGKILL'));
    await until(
      async () => upstream.effects.get(`post-call:${queued.body.id}`) ?? 0,
      (n) => n === 1,
      20_000,
    );
    const done = await until(
      async () => (await call(`${server.url}/v1/executions/${queued.body.id}`, key)).body,
      (e) => e.status === 'succeeded',
      10_000,
    );
    expect(done.attempts).toBe(1);
    expect(await worker.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
