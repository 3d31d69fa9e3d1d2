/**
 * The Store port over Kysely, for both SQLite (embedded, the default) and PostgreSQL. Repositories are
 * written once; only opening the connection differs.
 */
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import type { Store } from '../../core/ports/store.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { DialectName } from './migrations/types.ts';
import { openPostgres } from './postgres.ts';
import { KyselyApiKeyRepository } from './repositories/api-keys.ts';
import { KyselyMasterKeyRepository } from './repositories/master-keys.ts';
import { KyselyOrganizationRepository } from './repositories/organizations.ts';
import { KyselySecretRepository } from './repositories/secrets.ts';
import { KyselySettingsRepository } from './repositories/settings.ts';
import type { Database } from './schema.ts';
import { openSqlite } from './sqlite.ts';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  poolSize?: number;
}

export const SQLITE_FILE_NAME = 'switchboard.db';

export class KyselyStore implements Store {
  readonly dialect: DialectName;
  readonly db: Kysely<Database>;
  readonly organizations: KyselyOrganizationRepository;
  readonly apiKeys: KyselyApiKeyRepository;
  readonly secrets: KyselySecretRepository;
  readonly masterKeys: KyselyMasterKeyRepository;
  readonly settings: KyselySettingsRepository;

  constructor(db: Kysely<Database>, dialect: DialectName) {
    this.db = db;
    this.dialect = dialect;
    this.organizations = new KyselyOrganizationRepository(db);
    this.apiKeys = new KyselyApiKeyRepository(db);
    this.secrets = new KyselySecretRepository(db);
    this.masterKeys = new KyselyMasterKeyRepository(db);
    this.settings = new KyselySettingsRepository(db);
  }

  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new KyselyStore(trx, this.dialect)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Opens the configured store and applies every pending migration. */
export async function openStore(options: StoreOptions): Promise<KyselyStore> {
  const { databaseUrl } = options;
  const dialect: DialectName = databaseUrl ? 'postgres' : 'sqlite';
  const db = new Kysely<Database>({
    dialect: databaseUrl
      ? openPostgres(databaseUrl, options.poolSize ?? 10).dialect
      : openSqlite(join(options.dataDir, SQLITE_FILE_NAME)).dialect,
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyStore(db, dialect);
}
