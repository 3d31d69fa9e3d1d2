import type { Kysely } from 'kysely';
import type { MasterKeyRepository, MasterKeyRow } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { isUniqueViolation } from './shared.ts';

export class KyselyMasterKeyRepository implements MasterKeyRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async list(): Promise<MasterKeyRow[]> {
    const rows = await this.db.selectFrom('master_keys').selectAll().orderBy('version').execute();
    return rows.map((row) => ({
      version: row.version,
      fingerprint: row.fingerprint,
      createdAt: row.created_at,
    }));
  }

  async register(fingerprint: string, at: string): Promise<number> {
    // Two processes may start at once with a new key: the unique fingerprint decides, and both then read it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const known = await this.db
        .selectFrom('master_keys')
        .select('version')
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      if (known) return known.version;
      const max = await this.db
        .selectFrom('master_keys')
        .select((eb) => eb.fn.max('version').as('v'))
        .executeTakeFirst();
      const version = Number(max?.v ?? 0) + 1;
      try {
        await this.db.insertInto('master_keys').values({ version, fingerprint, created_at: at }).execute();
        return version;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw new Error('Could not register the master key version after 5 attempts');
  }
}
