import type { Kysely, Selectable } from 'kysely';
import type { Page, PageRequest } from '../../../core/pagination.ts';
import type { NewSecret, SecretPatch, SecretRepository } from '../../../core/ports/store.ts';
import type { SealedSecret, SecretRecord } from '../../../core/secrets.ts';
import type { Database } from '../schema.ts';
import { conflictOnDuplicate, fetchPage, parseJson, precompiled, type ReadConnection } from './shared.ts';

type Row = Selectable<Database['secrets']>;

/** Every column but the ciphertext: what may leave the repository for ordinary reads. */
const METADATA = [
  'id',
  'organization_id',
  'name',
  'description',
  'key_version',
  'allowed_hosts',
  'created_at',
  'updated_at',
] as const;

const toRecord = (row: Pick<Row, (typeof METADATA)[number]>): SecretRecord => ({
  id: row.id,
  organizationId: row.organization_id,
  name: row.name,
  description: row.description,
  allowedHosts: parseJson<string[]>(row.allowed_hosts),
  keyVersion: row.key_version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toSealed = (row: Pick<Row, 'ciphertext' | 'nonce' | 'key_version'>): SealedSecret => ({
  ciphertext: new Uint8Array(row.ciphertext),
  nonce: new Uint8Array(row.nonce),
  keyVersion: row.key_version,
});

const mappedSealed = new WeakMap<object, { record: SecretRecord; sealed: SealedSecret }>();

const withSealed = precompiled((db: Kysely<Database>, organizationId: string, id: string) =>
  db
    .selectFrom('secrets')
    .select([...METADATA, 'ciphertext', 'nonce'])
    .where('organization_id', '=', organizationId)
    .where('id', '=', id),
);

const duplicateName = (name: string) => `A secret named "${name}" already exists in this organization`;

export class KyselySecretRepository implements SecretRepository {
  readonly db: Kysely<Database>;
  /** The read-only connection for hot point reads, when the store has one (SQLite outside transactions). */
  readonly reader: ReadConnection | undefined;
  constructor(db: Kysely<Database>, reader?: ReadConnection) {
    this.db = db;
    this.reader = reader;
  }

  async insert(secret: NewSecret): Promise<void> {
    await conflictOnDuplicate(
      () =>
        this.db
          .insertInto('secrets')
          .values({
            id: secret.id,
            organization_id: secret.organizationId,
            name: secret.name,
            description: secret.description,
            ciphertext: secret.sealed.ciphertext,
            nonce: secret.sealed.nonce,
            key_version: secret.sealed.keyVersion,
            allowed_hosts: JSON.stringify(secret.allowedHosts),
            created_at: secret.createdAt,
            updated_at: secret.updatedAt,
          })
          .execute(),
      duplicateName(secret.name),
      '/name',
    );
  }

  async get(organizationId: string, id: string): Promise<SecretRecord | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select(METADATA)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async getByName(organizationId: string, name: string): Promise<SecretRecord | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select(METADATA)
      .where('organization_id', '=', organizationId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  list(organizationId: string, page: PageRequest): Promise<Page<SecretRecord>> {
    return fetchPage(
      this.db.selectFrom('secrets').select(METADATA).where('organization_id', '=', organizationId),
      'id',
      page,
      toRecord,
    );
  }

  async update(organizationId: string, id: string, patch: SecretPatch): Promise<SecretRecord | undefined> {
    const values: Partial<Row> = { updated_at: patch.updatedAt };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.allowedHosts !== undefined) values.allowed_hosts = JSON.stringify(patch.allowedHosts);
    if (patch.sealed !== undefined) {
      values.ciphertext = patch.sealed.ciphertext;
      values.nonce = patch.sealed.nonce;
      values.key_version = patch.sealed.keyVersion;
    }
    const row = await conflictOnDuplicate(
      () =>
        this.db
          .updateTable('secrets')
          .set(values)
          .where('organization_id', '=', organizationId)
          .where('id', '=', id)
          .returning(METADATA)
          .executeTakeFirst(),
      duplicateName(patch.name ?? ''),
      '/name',
    );
    return row && toRecord(row);
  }

  async delete(organizationId: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('secrets')
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async getSealed(organizationId: string, id: string): Promise<SealedSecret | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select(['ciphertext', 'nonce', 'key_version'])
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toSealed(row);
  }

  async getWithSealed(
    organizationId: string,
    id: string,
  ): Promise<{ record: SecretRecord; sealed: SealedSecret } | undefined> {
    const [row] = await withSealed(this, organizationId, id);
    if (!row) return undefined;
    // the read cache hands back the same row object while the data is unchanged: map it once
    let found = mappedSealed.get(row);
    if (!found) mappedSealed.set(row, (found = { record: toRecord(row), sealed: toSealed(row) }));
    return found;
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('secrets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async keyVersionsInUse(): Promise<number[]> {
    const rows = await this.db.selectFrom('secrets').select('key_version').distinct().execute();
    return rows.map((row) => row.key_version);
  }

  async listSealed(afterId: string | null, limit: number) {
    let query = this.db
      .selectFrom('secrets')
      .select(['id', 'organization_id', 'ciphertext', 'nonce', 'key_version']);
    if (afterId !== null) query = query.where('id', '>', afterId);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ id: row.id, organizationId: row.organization_id, ...toSealed(row) }));
  }

  async reseal(id: string, expectedVersion: number, sealed: SealedSecret): Promise<boolean> {
    const result = await this.db
      .updateTable('secrets')
      .set({ ciphertext: sealed.ciphertext, nonce: sealed.nonce, key_version: sealed.keyVersion })
      .where('id', '=', id)
      .where('key_version', '=', expectedVersion)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
