/**
 * A fresh PostgreSQL database for one benchmark run, on the server the tests use (BENCH_POSTGRES_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards. Unreachable: undefined, and the
 * PostgreSQL part is skipped rather than failing the run.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(): Promise<BenchDatabase | undefined> {
  const name = `sb_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await admin((client) => client.query(`create database ${name}`));
  } catch (error) {
    process.stderr.write(`  PostgreSQL at ${ADMIN_URL} not usable (${(error as Error).message}): skipped\n`);
    return undefined;
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}
