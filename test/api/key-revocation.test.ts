/**
 * On SQLite a server keeps the API keys it has looked up, and trusts them only while the database says
 * nothing changed (PRAGMA data_version, asked on every request): a key revoked by another connection or
 * another process (the CLI) is refused from the very next request, with no wait, while the keys it still
 * knows keep working.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/adapters/db/store.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/process.ts';

describe('API keys revoked outside this process on SQLite', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  async function liveKey(): Promise<{ id: string; key: string }> {
    const created = await t.request('POST', '/v1/keys', {
      body: { name: 'other', scopes: ['actions:read'] },
    });
    expect(created.status).toBe(201);
    const key = created.body as { id: string; key: string };
    // used, so this process has it in hand
    for (let i = 0; i < 3; i++) expect((await t.request('GET', '/v1/me', { key: key.key })).status).toBe(200);
    return key;
  }

  it('refuses a key revoked through a second connection from the next request on', async () => {
    const revoked = await liveKey();
    const kept = await liveKey();
    const second = new DatabaseSync(join(t.db.dataDir, SQLITE_FILE_NAME));
    const revoke = second.prepare('update api_keys set revoked_at = ? where id = ?');
    try {
      // used a moment before, revoked, used again: no time for anything to expire in between
      expect((await t.request('GET', '/v1/me', { key: revoked.key })).status).toBe(200);
      revoke.run(new Date().toISOString(), revoked.id);
      expect((await t.request('GET', '/v1/me', { key: revoked.key })).status).toBe(401);
    } finally {
      second.close();
    }
    expect((await t.request('GET', '/v1/me', { key: kept.key })).status).toBe(200);
  });

  it('refuses a key revoked by the CLI in another process from the next request on', async () => {
    const revoked = await liveKey();
    const cli = await runCli(['keys', 'revoke', revoked.id], t.db.env, t.db.dataDir);
    expect(cli.code, cli.stderr).toBe(0);
    expect((await t.request('GET', '/v1/me', { key: revoked.key })).status).toBe(401);
  });
});
