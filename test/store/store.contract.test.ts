/** The Store port's contract, written once and run against both stores (SQLite file, real PostgreSQL). */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStoreUnavailable } from '../../src/adapters/db/errors.ts';
import { SQLITE_FILE_NAME, openStore, type KyselyStore } from '../../src/adapters/db/store.ts';
import { PostgresRateLimiter } from '../../src/adapters/db/rate-limiter.ts';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';
import { AppError } from '../../src/core/errors.ts';
import type { ConfirmationRequest } from '../../src/core/confirmations.ts';
import type { ExecutionRecord } from '../../src/core/executions.ts';
import type { PostCallRequest } from '../../src/core/post-call.ts';
import type { Organization } from '../../src/core/tenancy.ts';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const crypto = createNodeCrypto();
const now = () => new Date().toISOString();
const sealed = (n: number) => ({
  ciphertext: new Uint8Array([n, 1, 2, 3]),
  nonce: new Uint8Array(12).fill(n),
  keyVersion: 1,
});

describe.each(STORE_KINDS)('Store contract on %s', (kind) => {
  let db: TestDatabase;
  let store: KyselyStore;
  let orgA: Organization;
  let orgB: Organization;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    orgA = { id: crypto.newId(), name: 'A', createdAt: now() };
    orgB = { id: crypto.newId(), name: 'B', createdAt: now() };
    await store.organizations.insert(orgA);
    await store.organizations.insert(orgB);
    await store.masterKeys.register('fingerprint-1', now());
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('applies migrations idempotently (a second open finds nothing to do)', async () => {
    const again = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
    await again.ping();
    await again.close();
  });

  // SQLite only: PostgreSQL has no per-connection journal or busy settings to check.
  if (kind === 'sqlite') {
    it('runs SQLite with WAL, a short synchronous busy timeout and foreign keys on', async () => {
      const pragma = async (name: string) =>
        Object.values((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('busy_timeout')).toBe(20);
      expect(await pragma('foreign_keys')).toBe(1);
    });

    it('waits for another process’s write lock on a timer, up to 5 s, then says the database is locked', async () => {
      const other = new DatabaseSync(join(db.dataDir, SQLITE_FILE_NAME));
      await sql`create table if not exists lock_probe (x integer)`.execute(store.db);
      const write = () => sql`insert into lock_probe values (1)`.execute(store.db);
      const ticks: number[] = [];
      const ticking = setInterval(() => ticks.push(Date.now()), 20);
      try {
        other.exec('begin immediate');
        setTimeout(() => other.exec('commit'), 400);
        const began = Date.now();
        await write();
        expect(Date.now() - began).toBeGreaterThanOrEqual(350);
        // the event loop kept turning while the write waited
        expect(ticks.filter((t) => t >= began).length).toBeGreaterThan(5);

        other.exec('begin immediate');
        const again = Date.now();
        const refused = await write().catch((error: unknown) => error);
        expect(Date.now() - again).toBeGreaterThanOrEqual(5_000);
        expect(isStoreUnavailable(refused)).toBe(true);
        other.exec('commit');
        await expect(store.ping()).resolves.toBeUndefined();
      } finally {
        clearInterval(ticking);
        if (other.isTransaction) other.exec('rollback');
        other.close();
      }
    }, 15_000);
  }

  it('enforces foreign keys', async () => {
    const orphan = {
      id: crypto.newId(),
      organizationId: crypto.newId(),
      name: 'orphan',
      prefix: 'p',
      scopes: [],
      source: 'api' as const,
      createdAt: now(),
      tokenHash: crypto.sha256('orphan'),
    };
    await expect(store.apiKeys.insert(orphan)).rejects.toThrow();
  });

  it('reads organizations back and pages them newest first', async () => {
    expect(await store.organizations.get(orgA.id)).toEqual(orgA);
    const first = await store.organizations.list({ limit: 1 });
    expect(first.items.map((o) => o.id)).toEqual([orgB.id]);
    expect(first.nextCursor).toBe(orgB.id);
    const second = await store.organizations.list({ limit: 1, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((o) => o.id)).toEqual([orgA.id]);
  });

  it('finds API keys by hash, scopes reads by organization, and revokes once', async () => {
    const key = {
      id: crypto.newId(),
      organizationId: orgA.id,
      name: 'k',
      prefix: 'sbk_abc',
      scopes: ['actions:read' as const],
      source: 'api' as const,
      createdAt: now(),
      tokenHash: crypto.sha256(`token-${kind}`),
    };
    await store.apiKeys.insert(key);
    expect((await store.apiKeys.findByHash(key.tokenHash))?.id).toBe(key.id);
    expect(await store.apiKeys.get(orgB.id, key.id)).toBeUndefined();
    expect(await store.apiKeys.revoke(orgB.id, key.id, now())).toBe(false);
    expect(await store.apiKeys.revoke(orgA.id, key.id, now())).toBe(true);
    expect(await store.apiKeys.revoke(orgA.id, key.id, now())).toBe(false);
    expect((await store.apiKeys.get(orgA.id, key.id))?.revokedAt).not.toBeNull();
  });

  it('keeps secrets per organization, with unique names and the ciphertext out of metadata reads', async () => {
    const id = crypto.newId();
    const record = {
      id,
      organizationId: orgA.id,
      name: 'TOKEN',
      description: null,
      allowedHosts: ['api.example.com'],
      keyVersion: 1,
      createdAt: now(),
      updatedAt: now(),
    };
    await store.secrets.insert({ ...record, sealed: sealed(1) });
    expect(await store.secrets.get(orgA.id, id)).toEqual(record);
    expect(await store.secrets.get(orgB.id, id)).toBeUndefined();
    expect(await store.secrets.getSealed(orgB.id, id)).toBeUndefined();
    expect(await store.secrets.getSealed(orgA.id, id)).toEqual(sealed(1));

    const duplicate = store.secrets.insert({ ...record, id: crypto.newId(), sealed: sealed(2) });
    await expect(duplicate).rejects.toBeInstanceOf(AppError);
    await expect(duplicate).rejects.toMatchObject({ code: 'CONFLICT' });
    // the same name in another organization is fine
    await store.secrets.insert({ ...record, id: crypto.newId(), organizationId: orgB.id, sealed: sealed(3) });

    expect(await store.secrets.update(orgB.id, id, { name: 'X', updatedAt: now() })).toBeUndefined();
    const updated = await store.secrets.update(orgA.id, id, {
      allowedHosts: [],
      sealed: sealed(4),
      updatedAt: now(),
    });
    expect(updated?.allowedHosts).toEqual([]);
    expect(await store.secrets.getSealed(orgA.id, id)).toEqual(sealed(4));

    expect(await store.secrets.delete(orgB.id, id)).toBe(false);
    expect(await store.secrets.delete(orgA.id, id)).toBe(true);
    expect(await store.secrets.get(orgA.id, id)).toBeUndefined();
  });

  it('reseals a row only if it is still under the expected key version', async () => {
    const id = crypto.newId();
    await store.secrets.insert({
      id,
      organizationId: orgA.id,
      name: 'RESEAL',
      description: null,
      allowedHosts: [],
      keyVersion: 1,
      createdAt: now(),
      updatedAt: now(),
      sealed: sealed(5),
    });
    const v2 = await store.masterKeys.register('fingerprint-2', now());
    expect(await store.secrets.reseal(id, 7, { ...sealed(6), keyVersion: v2 })).toBe(false);
    expect(await store.secrets.reseal(id, 1, { ...sealed(6), keyVersion: v2 })).toBe(true);
    expect(await store.secrets.keyVersionsInUse()).toContain(v2);
  });

  it('registers master keys once, even when asked concurrently', async () => {
    const versions = await Promise.all(
      Array.from({ length: 5 }, () => store.masterKeys.register('fingerprint-race', now())),
    );
    expect(new Set(versions).size).toBe(1);
    expect((await store.masterKeys.list()).filter((k) => k.fingerprint === 'fingerprint-race')).toHaveLength(
      1,
    );
  });

  it('keeps the first value of a setting', async () => {
    expect(await store.settings.setIfAbsent('s', 'first')).toBe('first');
    expect(await store.settings.setIfAbsent('s', 'second')).toBe('first');
    expect(await store.settings.get('missing')).toBeUndefined();
  });

  it('tells whose an integration is, locks it in a transaction, and lists its actions oldest first', async () => {
    const integration = {
      id: crypto.newId(),
      organizationId: orgA.id,
      name: 'Contract',
      description: null,
      baseUrl: null,
      secrets: {},
      auth: null,
      createdAt: now(),
      updatedAt: now(),
    };
    await store.integrations.insert(integration);
    expect(await store.integrations.organizationOf(integration.id)).toBe(orgA.id);
    expect(await store.integrations.organizationOf(crypto.newId())).toBeUndefined();
    expect(await store.transaction((tx) => tx.integrations.lock(orgA.id, integration.id))).toBe(true);
    expect(await store.transaction((tx) => tx.integrations.lock(orgB.id, integration.id))).toBe(false);

    const action = (name: string) => ({
      id: crypto.newId(),
      organizationId: orgA.id,
      version: 1,
      createdAt: now(),
      updatedAt: now(),
      name,
      description: '',
      toolName: `contract_${name}`,
      kind: 'code' as const,
      status: 'active' as const,
      channels: [],
      tags: [],
      variables: [],
      contextVariables: [],
      integrationId: integration.id,
      secrets: {},
      requiresConfirmation: false,
      executionMode: 'sync' as const,
      messages: { speakOnSend: null, speakOnReceive: null },
      config: { source: '' },
    });
    const [first, second] = [action('first'), action('second')];
    await store.actions.insert(first, null);
    await store.actions.insert(second, null);
    expect(await store.actions.namesInIntegration(orgA.id, integration.id)).toEqual([
      { id: first.id, name: 'first' },
      { id: second.id, name: 'second' },
    ]);
    await store.actions.delete(orgA.id, first.id, now());
    expect(await store.actions.namesInIntegration(orgA.id, integration.id)).toEqual([
      { id: second.id, name: 'second' },
    ]);
    expect(await store.actions.namesInIntegration(orgB.id, integration.id)).toEqual([]);
  });

  it('keeps agents per organization with their action lists, versions and draft resets', async () => {
    const action = (name: string) => ({
      id: crypto.newId(),
      organizationId: orgA.id,
      version: 1,
      createdAt: now(),
      updatedAt: now(),
      name,
      description: '',
      toolName: `agent_contract_${name}`,
      kind: 'code' as const,
      status: 'active' as const,
      channels: ['web' as const],
      tags: [],
      variables: [],
      contextVariables: [],
      integrationId: null,
      secrets: {},
      requiresConfirmation: false,
      executionMode: 'sync' as const,
      messages: { speakOnSend: null, speakOnReceive: null },
      config: { source: '' },
    });
    const [one, two] = [action('one'), action('two')];
    await store.actions.insert(one, null);
    await store.actions.insert(two, null);
    const agent = {
      id: crypto.newId(),
      organizationId: orgA.id,
      name: 'Support',
      instructions: 'Be kind',
      channels: ['web' as const, 'sms' as const],
      actionIds: [two.id, one.id],
      status: 'draft' as const,
      publishedVersion: null,
      createdAt: now(),
      updatedAt: now(),
    };
    await store.transaction((tx) => tx.agents.insert(agent));
    expect(await store.agents.get(orgA.id, agent.id)).toEqual(agent);
    expect(await store.agents.get(orgB.id, agent.id)).toBeUndefined();
    expect(await store.transaction((tx) => tx.agents.lock(orgB.id, agent.id))).toBeUndefined();
    expect((await store.transaction((tx) => tx.agents.lock(orgA.id, agent.id)))?.actionIds).toEqual([
      two.id,
      one.id,
    ]);
    expect((await store.agents.liveActions(orgA.id, [one.id, crypto.newId()])).map((a) => a.id)).toEqual([
      one.id,
    ]);
    expect(await store.agents.liveActions(orgB.id, [one.id])).toEqual([]);

    const version = {
      agentId: agent.id,
      version: 1,
      name: agent.name,
      instructions: agent.instructions,
      channels: agent.channels,
      actions: [
        { actionId: two.id, version: 1 },
        { actionId: one.id, version: 1 },
      ],
      publishedAt: now(),
      publishedBy: null,
    };
    const published = { ...agent, status: 'published' as const, publishedVersion: 1 };
    await store.transaction(async (tx) => {
      await tx.agents.insertVersion(orgA.id, version);
      expect(await tx.agents.update(published)).toBe(true);
    });
    await expect(store.agents.insertVersion(orgA.id, version)).rejects.toThrow();
    expect(await store.agents.getVersion(orgA.id, agent.id, 1)).toEqual(version);
    expect(await store.agents.getVersion(orgB.id, agent.id, 1)).toBeUndefined();
    const listed = await store.agents.list(orgA.id, { status: 'published' }, { limit: 10 });
    expect(listed.items).toEqual([published]);
    expect((await store.agents.list(orgB.id, {}, { limit: 10 })).items).toEqual([]);

    // a new version of one action: the agent goes back to draft, the frozen version stays readable
    await store.actions.update({ ...one, version: 2, description: 'changed' }, 1, null);
    expect(await store.agents.markDraftByActions(orgB.id, [one.id], now())).toBe(0);
    expect(await store.agents.markDraftByActions(orgA.id, [one.id], now())).toBe(1);
    expect((await store.agents.get(orgA.id, agent.id))?.status).toBe('draft');
    const frozen = await store.agents.frozenActions(orgA.id, version.actions);
    expect(
      frozen.map((f) => [f.actionId, f.version, f.definition.description, f.currentStatus]).sort(),
    ).toEqual(
      [
        [one.id, 1, '', 'active'],
        [two.id, 1, '', 'active'],
      ].sort(),
    );
    expect(await store.agents.frozenActions(orgB.id, version.actions)).toEqual([]);

    // a deleted action leaves every list; its frozen version is still read, marked deleted
    await store.actions.delete(orgA.id, two.id, now());
    await store.transaction((tx) => tx.agents.removeActions(orgA.id, [two.id], now()));
    expect((await store.agents.get(orgA.id, agent.id))?.actionIds).toEqual([one.id]);
    expect(
      (await store.agents.frozenActions(orgA.id, version.actions)).find((f) => f.actionId === two.id)
        ?.currentStatus,
    ).toBeNull();

    expect(await store.agents.delete(orgB.id, agent.id)).toBe(false);
    expect(await store.agents.delete(orgA.id, agent.id)).toBe(true);
    expect(await store.agents.get(orgA.id, agent.id)).toBeUndefined();
    expect(await store.agents.getVersion(orgA.id, agent.id, 1)).toBeUndefined();
  });

  it('replaces an execution record by id, except with a queued one, and keeps post-call requests per conversation', async () => {
    const record = (status: ExecutionRecord['status'], attempts: number): ExecutionRecord => ({
      id: executionId,
      organizationId: orgA.id,
      actionId: crypto.newId(),
      actionVersion: 1,
      actionName: 'After the call',
      kind: 'http',
      status,
      inputs: { summary: 'ok' },
      context: {},
      request: null,
      response: null,
      output: null,
      outputTruncated: false,
      error: null,
      attempts,
      durationMs: 1,
      startedAt: now(),
      finishedAt: null,
      callerKeyId: null,
      idempotencyKey: null,
      extra: {},
    });
    const executionId = crypto.newId();
    await store.executions.insertMany([record('queued', 0)]);
    await store.executions.insertMany([record('failed', 1)]);
    await store.executions.insertMany([record('succeeded', 2)]);
    await store.executions.insertMany([record('queued', 0)]); // a late queued record changes nothing
    expect(await store.executions.get(orgA.id, executionId)).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });

    const request: PostCallRequest = {
      executionId,
      organizationId: orgA.id,
      conversationId: 'call-1',
      actionId: crypto.newId(),
      actionVersion: 3,
      inputs: { summary: 'ok' },
      context: { medium: 'phone' },
      callerKeyId: null,
      state: 'waiting',
      jobId: null,
      createdAt: now(),
      enqueuedAt: null,
    };
    await store.postCall.insert(request);
    expect(await store.postCall.ofConversation(orgA.id, 'call-1')).toEqual([request]);
    expect(await store.postCall.ofConversation(orgB.id, 'call-1')).toEqual([]);
    await store.postCall.markEnqueued(orgA.id, executionId, 'job-1', now());
    expect(await store.postCall.get(orgA.id, executionId)).toMatchObject({
      state: 'enqueued',
      jobId: 'job-1',
    });
    expect(await store.postCall.get(orgB.id, executionId)).toBeUndefined();
  });

  it('keeps confirmation requests per organization and takes one decision, before the deadline or after it', async () => {
    const at = (ms: number) => new Date(Date.parse('2030-01-01T00:00:00.000Z') + ms).toISOString();
    const request = (executionId: string): ConfirmationRequest => ({
      executionId,
      organizationId: orgA.id,
      actionId: crypto.newId(),
      actionVersion: 2,
      inputs: { order_id: 42 },
      context: { medium: 'web' },
      conversationId: null,
      callerKeyId: null,
      idempotencyKey: 'key-1',
      state: 'pending',
      createdAt: at(0),
      expiresAt: at(600_000),
      decidedAt: null,
    });
    const [first, second] = [request(crypto.newId()), request(crypto.newId())];
    await store.confirmations.insert(first);
    await store.confirmations.insert(second);
    expect(await store.confirmations.get(orgA.id, first.executionId)).toEqual(first);
    expect(await store.confirmations.get(orgB.id, first.executionId)).toBeUndefined();
    expect(await store.confirmations.decide(orgB.id, first.executionId, 'confirmed', at(1))).toBe(false);

    // the clock cannot expire it early, the user cannot decide late, and the first decision stands
    expect(await store.confirmations.decide(orgA.id, first.executionId, 'expired', at(599_999))).toBe(false);
    const racing = await Promise.all([
      store.confirmations.decide(orgA.id, first.executionId, 'confirmed', at(2)),
      store.confirmations.decide(orgA.id, first.executionId, 'declined', at(2)),
    ]);
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await store.confirmations.decide(orgA.id, first.executionId, 'expired', at(600_000))).toBe(false);

    expect(await store.confirmations.decide(orgA.id, second.executionId, 'confirmed', at(600_000))).toBe(
      false,
    );
    expect(await store.confirmations.decide(orgA.id, second.executionId, 'expired', at(600_000))).toBe(true);
    expect(await store.confirmations.get(orgA.id, second.executionId)).toMatchObject({
      state: 'expired',
      decidedAt: at(600_000),
    });
    expect(await store.confirmations.deleteCreatedBefore(at(0), 10)).toBe(0);
    expect(await store.confirmations.deleteCreatedBefore(at(1), 10)).toBe(2);
    expect(await store.confirmations.get(orgA.id, first.executionId)).toBeUndefined();
  });

  it('rolls a failed transaction back entirely', async () => {
    const org = { id: crypto.newId(), name: 'rolled back', createdAt: now() };
    await expect(
      store.transaction(async (tx) => {
        await tx.organizations.insert(org);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.organizations.get(org.id)).toBeUndefined();
  });
});

describe.runIf(STORE_KINDS.includes('postgres'))('PostgresRateLimiter', () => {
  let db: TestDatabase;
  let store: KyselyStore;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = await openStore({ dataDir: db.dataDir, databaseUrl: db.databaseUrl });
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('counts one limit exactly under concurrent callers', async () => {
    const limiter = new PostgresRateLimiter(store.db);
    const results = await Promise.all(
      Array.from({ length: 40 }, () => limiter.consume(`burst-${crypto.newId()}`, 15)),
    );
    expect(results.every((r) => r.allowed)).toBe(true); // distinct keys: all admitted
    for (let round = 0; round < 10; round++) {
      const key = `shared-${round}-${crypto.newId()}`;
      const same = await Promise.all(Array.from({ length: 40 }, () => limiter.consume(key, 15)));
      expect(same.filter((r) => r.allowed)).toHaveLength(15);
      const refused = same.find((r) => !r.allowed);
      expect(refused?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused?.retryAfterSeconds).toBeLessThanOrEqual(70);
    }
    await limiter.close();
  });
});
