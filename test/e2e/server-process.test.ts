/**
 * The server and CLI as separate processes: start-up refusals, graceful shutdown, the CLI against a
 * running server, master key rotation, and (on PostgreSQL) one rate limit shared by two servers.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../helpers/databases.ts';
import { call, runCli, runServerUntilExit, startServer, type ServerProcess } from '../helpers/process.ts';

const adminKey = () => `e2e-admin-${randomBytes(12).toString('hex')}`;
const masterKey = () => randomBytes(32).toString('base64');

describe.each(STORE_KINDS)('server process on %s', (kind) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function fresh(): Promise<TestDatabase> {
    const db = await createTestDatabase(kind);
    cleanups.push(() => db.drop());
    return db;
  }

  async function serve(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
    const server = await startServer(env, cwd);
    cleanups.push(() => server.stop('SIGKILL'));
    return server;
  }

  it('starts, prints where the docs are and how to get a key, and stops cleanly on SIGTERM', async () => {
    const db = await fresh();
    const server = await serve(db.env, db.dataDir);
    expect(server.output()).toMatch(/API docs: +http:\/\/127\.0\.0\.1:\d+\/docs/);
    expect(server.output()).toContain('npx switchboard keys create');
    expect((await call(`${server.url}/healthz`, undefined)).body).toEqual({ status: 'ok' });
    if (kind === 'sqlite') expect(statSync(join(db.dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
  });

  it('finishes an in-flight request on SIGTERM, and takes no new connection', async () => {
    const db = await fresh();
    const key = adminKey();
    const server = await serve({ ...db.env, SWITCHBOARD_ADMIN_KEY: key }, db.dataDir);
    const { hostname, port } = new URL(server.url);
    const body = JSON.stringify({ name: 'IN_FLIGHT', value: 'sent while the server stops' });
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.write(
      `POST /v1/secrets HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${key}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const exited = server.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await expect(call(`${server.url}/healthz`, undefined)).rejects.toThrow(); // the port is closed
    socket.write(body.slice(10)); // the client keeps its connection open, as keep-alive clients do
    expect(await exited).toBe(0);
    expect(answer).toMatch(/^HTTP\/1\.1 201/);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('commits every execution record before a SIGTERM exits', async () => {
    const db = await fresh();
    const key = adminKey();
    const env = { ...db.env, SWITCHBOARD_ADMIN_KEY: key, SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' };
    const server = await serve(env, db.dataDir);
    const action = await call(`${server.url}/v1/actions`, key, {
      body: {
        name: 'Quick',
        description: 'd',
        kind: 'http',
        http: { method: 'GET', url: 'http://127.0.0.2:9/', retry: { max_attempts: 1 } },
      },
    });
    const ids = await Promise.all(
      Array.from(
        { length: 20 },
        async () =>
          (await call(`${server.url}/v1/actions/${action.body.id}/execute`, key, { body: {} })).body
            .id as string,
      ),
    );
    expect(await server.stop('SIGTERM')).toBe(0);
    const restarted = await serve(env, db.dataDir);
    for (const id of ids) expect((await call(`${restarted.url}/v1/executions/${id}`, key)).status).toBe(200);
  });

  it('refuses to start with a wrong master key, and without one once secrets exist', async () => {
    const db = await fresh();
    const key = adminKey();
    const right = masterKey();
    const server = await serve(
      { ...db.env, SWITCHBOARD_ADMIN_KEY: key, SWITCHBOARD_SECRET_KEY: right },
      db.dataDir,
    );
    expect((await call(`${server.url}/v1/secrets`, key, { body: { name: 'S', value: 'v' } })).status).toBe(
      201,
    );
    await server.stop();

    const wrong = await runServerUntilExit({ ...db.env, SWITCHBOARD_SECRET_KEY: masterKey() }, db.dataDir);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/master key is wrong or missing/i);
    expect(wrong.stderr).toContain('SWITCHBOARD_SECRET_KEY');

    const missing = await runServerUntilExit(db.env, db.dataDir);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/Refusing to generate a new key/);

    const restarted = await serve(
      { ...db.env, SWITCHBOARD_ADMIN_KEY: key, SWITCHBOARD_SECRET_KEY: right },
      db.dataDir,
    );
    expect((await call(`${restarted.url}/v1/secrets`, key)).body.data).toHaveLength(1);
  });

  it('names a bad variable and exits', async () => {
    const db = await fresh();
    const result = await runServerUntilExit({ ...db.env, SWITCHBOARD_PORT: 'eighty' }, db.dataDir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SWITCHBOARD_PORT');
  });

  it('retires the previous SWITCHBOARD_ADMIN_KEY when it changes', async () => {
    const db = await fresh();
    const first = adminKey();
    const second = adminKey();
    const one = await serve({ ...db.env, SWITCHBOARD_ADMIN_KEY: first }, db.dataDir);
    expect((await call(`${one.url}/v1/me`, first)).status).toBe(200);
    await one.stop();
    const two = await serve({ ...db.env, SWITCHBOARD_ADMIN_KEY: second }, db.dataDir);
    expect((await call(`${two.url}/v1/me`, second)).status).toBe(200);
    expect((await call(`${two.url}/v1/me`, first)).status).toBe(401);
  });

  it('manages keys from the CLI against a running server', async () => {
    const db = await fresh();
    const server = await serve(db.env, db.dataDir);
    const created = await runCli(
      ['keys', 'create', '--name', 'ops', '--scopes', 'admin', '--json'],
      db.env,
      db.dataDir,
    );
    expect(created.code).toBe(0);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    expect((await call(`${server.url}/v1/me`, key)).status).toBe(200);

    const listed = await runCli(['keys', 'list'], db.env, db.dataDir);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key);

    expect((await runCli(['keys', 'revoke', id], db.env, db.dataDir)).code).toBe(0);
    if (kind === 'postgres') await new Promise((r) => setTimeout(r, 1_100)); // the documented cache bound
    expect((await call(`${server.url}/v1/me`, key)).status).toBe(401);

    const bad = await runCli(['keys', 'create', '--name', 'x'], db.env, db.dataDir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scopes');
  });

  it('re-encrypts every secret under a new master key from the CLI', async () => {
    const db = await fresh();
    const key = adminKey();
    const server = await serve({ ...db.env, SWITCHBOARD_ADMIN_KEY: key }, db.dataDir);
    const secret = await call(`${server.url}/v1/secrets`, key, {
      body: { name: 'ROTATE_ME', value: 'before-rotation' },
    });
    await server.stop();

    const rotated = await runCli(['secrets', 'rotate-key', '--json'], db.env, db.dataDir);
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({ master_key_version: 2, secrets_reencrypted: 1 });

    // the new key file decrypts everything (the server checks at start), and the old key no longer starts it
    const after = await serve({ ...db.env, SWITCHBOARD_ADMIN_KEY: key }, db.dataDir);
    expect((await call(`${after.url}/v1/secrets/${secret.body.id}`, key)).body.key_version).toBe(2);
  });
});

describe.runIf(STORE_KINDS.includes('postgres'))('several server processes on one PostgreSQL', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('share one rate limit', async () => {
    const db = await createTestDatabase('postgres');
    cleanups.push(() => db.drop());
    const key = adminKey();
    const env = {
      ...db.env,
      SWITCHBOARD_ADMIN_KEY: key,
      SWITCHBOARD_SECRET_KEY: masterKey(),
      SWITCHBOARD_RATE_LIMIT_PER_KEY: '10',
    };
    const a = await startServer(env, db.dataDir);
    cleanups.push(() => a.stop('SIGKILL'));
    const b = await startServer(env, db.dataDir);
    cleanups.push(() => b.stop('SIGKILL'));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await call(`${(i % 2 === 0 ? a : b).url}/v1/me`, key)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
  });

  it('share one count of failed authentications per client, an IPv6 /64 being one client', async () => {
    const db = await createTestDatabase('postgres');
    cleanups.push(() => db.drop());
    const env = {
      ...db.env,
      SWITCHBOARD_SECRET_KEY: masterKey(),
      SWITCHBOARD_AUTH_FAILURE_LIMIT: '4',
      SWITCHBOARD_TRUSTED_PROXIES: '127.0.0.1',
    };
    const a = await startServer(env, db.dataDir);
    cleanups.push(() => a.stop('SIGKILL'));
    const b = await startServer(env, db.dataDir);
    cleanups.push(() => b.stop('SIGKILL'));
    const failFrom = async (server: ServerProcess, address: string) =>
      (await call(`${server.url}/v1/me`, 'sbk_wrong', { headers: { 'x-forwarded-for': address } })).status;
    // eight addresses of one /64, alternating between the processes
    const statuses: number[] = [];
    for (let i = 1; i <= 8; i++) statuses.push(await failFrom(i % 2 ? a : b, `2001:db8:7:9::${i}`));
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429, 429, 429]);
    // another /64 and an IPv4 client are clients of their own
    expect(await failFrom(b, '2001:db8:7:a::1')).toBe(401);
    expect(await failFrom(a, '198.51.100.7')).toBe(401);
  });
});

describe('npm start from a fresh directory', () => {
  it('creates ./data under the working directory by default', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      writeFileSync(join(db.dataDir, '.env'), 'SWITCHBOARD_LOG_LEVEL=warn\n');
      const server = await startServer({}, db.dataDir);
      expect(statSync(join(db.dataDir, 'data', 'switchboard.db')).isFile()).toBe(true);
      expect(await server.stop()).toBe(0);
      rmSync(join(db.dataDir, 'data'), { recursive: true });
    } finally {
      await db.drop();
    }
  });
});
