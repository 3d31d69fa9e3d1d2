/**
 * The Store port over Kysely, for both SQLite (embedded, the default) and PostgreSQL. Repositories are
 * written once; only opening the connection differs.
 */
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import type { Store } from '../../core/ports/store.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { DialectName } from './migrations/types.ts';
import { KyselyActionRepository } from './repositories/actions.ts';
import { KyselyAgentRepository } from './repositories/agents.ts';
import { KyselyApiKeyRepository } from './repositories/api-keys.ts';
import { KyselyExecutionRepository } from './repositories/executions.ts';
import { KyselyIdempotencyRepository } from './repositories/idempotency.ts';
import { KyselyPostCallRepository } from './repositories/post-call.ts';
import { KyselyWorkflowRunSlotRepository } from './repositories/workflow-run-slots.ts';
import { KyselyWorkflowRunRepository } from './repositories/workflow-runs.ts';
import { KyselyWorkflowScheduleRepository } from './repositories/workflow-schedules.ts';
import { KyselyWorkflowToolRepository } from './repositories/workflow-tools.ts';
import { KyselyWorkflowRepository } from './repositories/workflows.ts';
import { KyselyConfirmationRepository } from './repositories/confirmations.ts';
import { KyselyActionAnnotationRepository } from './repositories/action-annotations.ts';
import { KyselyIntegrationRepository } from './repositories/integrations.ts';
import { KyselyMasterKeyRepository } from './repositories/master-keys.ts';
import { KyselyOrganizationRepository } from './repositories/organizations.ts';
import { KyselySecretRepository } from './repositories/secrets.ts';
import { KyselySettingsRepository } from './repositories/settings.ts';
import type { Database } from './schema.ts';
import type { ReadConnection } from './repositories/shared.ts';
import { openSqlite } from './sqlite.ts';
import { SqliteWriter } from './sqlite-writer.ts';

export interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  poolSize?: number;
}

export const SQLITE_FILE_NAME = 'switchboard.db';
export const SQLITE_ACTIVITY_FILE_NAME = 'switchboard-activity.db';

interface SqliteExtras {
  writer: SqliteWriter;
  reader: ReadConnection & { close(): void };
}

export class KyselyStore implements Store {
  readonly dialect: DialectName;
  readonly db: Kysely<Database>;
  readonly organizations: KyselyOrganizationRepository;
  readonly apiKeys: KyselyApiKeyRepository;
  readonly secrets: KyselySecretRepository;
  readonly masterKeys: KyselyMasterKeyRepository;
  readonly settings: KyselySettingsRepository;
  readonly integrations: KyselyIntegrationRepository;
  readonly actions: KyselyActionRepository;
  readonly executions: KyselyExecutionRepository;
  readonly idempotency: KyselyIdempotencyRepository;
  readonly agents: KyselyAgentRepository;
  readonly postCall: KyselyPostCallRepository;
  readonly confirmations: KyselyConfirmationRepository;
  readonly actionAnnotations: KyselyActionAnnotationRepository;
  readonly workflows: KyselyWorkflowRepository;
  readonly workflowRuns: KyselyWorkflowRunRepository;
  readonly workflowTools: KyselyWorkflowToolRepository;
  readonly workflowSchedules: KyselyWorkflowScheduleRepository;
  readonly workflowRunSlots: KyselyWorkflowRunSlotRepository;

  readonly #sqlite: SqliteExtras | undefined;

  /** `sqlite`: the embedded store's writer thread and read connection; not given inside transactions. */
  constructor(db: Kysely<Database>, dialect: DialectName, sqlite?: SqliteExtras) {
    this.db = db;
    this.dialect = dialect;
    this.#sqlite = sqlite;
    const reader = sqlite?.reader;
    this.organizations = new KyselyOrganizationRepository(db);
    this.apiKeys = new KyselyApiKeyRepository(db, reader);
    this.secrets = new KyselySecretRepository(db, reader);
    this.masterKeys = new KyselyMasterKeyRepository(db);
    this.settings = new KyselySettingsRepository(db);
    this.integrations = new KyselyIntegrationRepository(db, dialect);
    this.actions = new KyselyActionRepository(db, reader);
    this.executions = new KyselyExecutionRepository(db, sqlite?.writer);
    this.idempotency = new KyselyIdempotencyRepository(db);
    this.agents = new KyselyAgentRepository(db, dialect);
    this.postCall = new KyselyPostCallRepository(db);
    this.confirmations = new KyselyConfirmationRepository(db);
    this.actionAnnotations = new KyselyActionAnnotationRepository(db);
    this.workflows = new KyselyWorkflowRepository(db);
    this.workflowRuns = new KyselyWorkflowRunRepository(db, dialect);
    this.workflowTools = new KyselyWorkflowToolRepository(db);
    this.workflowSchedules = new KyselyWorkflowScheduleRepository(db);
    this.workflowRunSlots = new KyselyWorkflowRunSlotRepository(db, dialect);
  }

  async databaseNow(): Promise<number> {
    if (this.dialect !== 'postgres') return Date.now();
    const { rows } = await sql<{ now: string }>`select now() as now`.execute(this.db);
    return Date.parse(rows[0]?.now ?? '');
  }

  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new KyselyStore(trx, this.dialect)));
  }

  async ping(): Promise<void> {
    if (this.dialect !== 'sqlite') {
      await sql`select 1`.execute(this.db);
      return;
    }
    // reads go on while another process holds the file's write lock, so readiness asks for that lock
    await this.db.connection().execute(async (connection) => {
      await sql`begin immediate`.execute(connection);
      await sql`rollback`.execute(connection);
    });
  }

  async close(): Promise<void> {
    await this.#sqlite?.writer.close();
    this.#sqlite?.reader.close();
    await this.db.destroy();
  }
}

/** Opens the configured store and applies every pending migration. */
export async function openStore(options: StoreOptions): Promise<KyselyStore> {
  const { databaseUrl } = options;
  const dialect: DialectName = databaseUrl ? 'postgres' : 'sqlite';
  const file = join(options.dataDir, SQLITE_FILE_NAME);
  const activityFile = join(options.dataDir, SQLITE_ACTIVITY_FILE_NAME);
  const sqlite = databaseUrl ? undefined : openSqlite(file, activityFile);
  // the PostgreSQL driver is loaded only where it is used: a SQLite server never holds it
  const db = new Kysely<Database>({
    dialect: sqlite
      ? sqlite.dialect
      : (await import('./postgres.ts')).openPostgres(databaseUrl ?? '', options.poolSize ?? 10).dialect,
  });
  try {
    await migrateToLatest(db as Kysely<unknown>, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  // the writer opens its connection after the migrations have created the tables it writes to
  return new KyselyStore(
    db,
    dialect,
    sqlite && { writer: new SqliteWriter(activityFile), reader: sqlite.openReader() },
  );
}
