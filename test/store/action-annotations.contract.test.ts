/**
 * The Store port's action annotations (documents another API keeps with an action), on both stores:
 * put inserts then replaces, reads are per organization and namespace, and a transaction that fails
 * leaves none behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeCrypto } from '../../src/adapters/crypto/node-crypto.ts';
import { openStore, type KyselyStore } from '../../src/adapters/db/store.ts';
import type { Action } from '../../src/core/actions/model.ts';
import type { Organization } from '../../src/core/tenancy.ts';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const crypto = createNodeCrypto();
const now = () => new Date().toISOString();

function action(organizationId: string, toolName: string): Action {
  return {
    id: crypto.newId(),
    organizationId,
    version: 1,
    createdAt: now(),
    updatedAt: now(),
    name: toolName,
    description: '',
    toolName,
    kind: 'hold',
    status: 'active',
    channels: ['web'],
    tags: [],
    variables: [],
    contextVariables: [],
    integrationId: null,
    secrets: {},
    requiresConfirmation: false,
    executionMode: 'sync',
    messages: { speakOnSend: null, speakOnReceive: null },
    config: { seconds: 5 },
  };
}

describe.each(STORE_KINDS)('Action annotations on %s', (kind) => {
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
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('inserts, replaces, and reads per organization and namespace', async () => {
    const first = action(orgA.id, 'first');
    const second = action(orgA.id, 'second');
    await store.actions.insert(first, null);
    await store.actions.insert(second, null);
    const document = { payload: { parameters: [{ name: 'id', in: 'path' }] }, pinned: true, note: 'ünï' };
    await store.actionAnnotations.put(orgA.id, first.id, 'vendor', document, now());
    expect(await store.actionAnnotations.get(orgA.id, first.id, 'vendor')).toEqual(document);
    await store.actionAnnotations.put(orgA.id, first.id, 'vendor', { pinned: false }, now());
    expect(await store.actionAnnotations.get(orgA.id, first.id, 'vendor')).toEqual({ pinned: false });
    await store.actionAnnotations.put(orgA.id, second.id, 'vendor', { pinned: true }, now());

    expect(await store.actionAnnotations.get(orgA.id, first.id, 'other')).toBeUndefined();
    expect(await store.actionAnnotations.get(orgB.id, first.id, 'vendor')).toBeUndefined();
    const many = await store.actionAnnotations.getMany(
      orgA.id,
      [first.id, second.id, crypto.newId()],
      'vendor',
    );
    expect(Object.fromEntries(many)).toEqual({
      [first.id]: { pinned: false },
      [second.id]: { pinned: true },
    });
    expect((await store.actionAnnotations.getMany(orgA.id, [], 'vendor')).size).toBe(0);
  });

  it('writes nothing when the transaction fails', async () => {
    const doomed = action(orgA.id, 'doomed');
    await expect(
      store.transaction(async (tx) => {
        await tx.actions.insert(doomed, null);
        await tx.actionAnnotations.put(orgA.id, doomed.id, 'vendor', { pinned: true }, now());
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await store.actionAnnotations.get(orgA.id, doomed.id, 'vendor')).toBeUndefined();
  });
});
