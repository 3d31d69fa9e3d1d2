/**
 * A fresh store per test file: a temporary data directory for SQLite, or a new database on the local
 * PostgreSQL (dropped afterwards). PostgreSQL is required: an unreachable server fails the run, unless
 * SWITCHBOARD_TEST_SKIP_POSTGRES=1 says to test SQLite only (never set in CI).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type StoreKind = 'sqlite' | 'postgres';

export const POSTGRES_ADMIN_URL =
  process.env.SWITCHBOARD_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const STORE_KINDS: readonly StoreKind[] =
  process.env.SWITCHBOARD_TEST_SKIP_POSTGRES === '1' ? ['sqlite'] : ['sqlite', 'postgres'];

export interface TestDatabase {
  kind: StoreKind;
  dataDir: string;
  databaseUrl: string | undefined;
  /** Environment variables that point the server at this store. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${POSTGRES_ADMIN_URL} is not reachable (${(error as Error).message}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or set ' +
        'SWITCHBOARD_TEST_SKIP_POSTGRES=1 to test SQLite only.',
      { cause: error },
    );
  }
  return client;
}

export async function createTestDatabase(kind: StoreKind): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'switchboard-test-'));
  const removeDir = () => rm(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite') {
    return { kind, dataDir, databaseUrl: undefined, env: { SWITCHBOARD_DATA_DIR: dataDir }, drop: removeDir };
  }
  const name = `sb_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  const admin = await adminClient();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    kind,
    dataDir,
    databaseUrl,
    env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_DATABASE_URL: databaseUrl },
    async drop() {
      const client = await adminClient();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
      await removeDir();
    },
  };
}
