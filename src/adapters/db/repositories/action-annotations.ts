import type { Kysely } from 'kysely';
import type { ActionAnnotationRepository } from '../../../core/ports/store.ts';
import type { Database } from '../schema.ts';
import { parseJson } from './shared.ts';

/** Ids per query: well under both stores' limits on bound parameters. */
const CHUNK = 500;

export class KyselyActionAnnotationRepository implements ActionAnnotationRepository {
  private readonly db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  async put(
    organizationId: string,
    actionId: string,
    namespace: string,
    document: unknown,
    at: string,
  ): Promise<void> {
    const text = JSON.stringify(document);
    await this.db
      .insertInto('action_annotations')
      .values({
        action_id: actionId,
        namespace,
        organization_id: organizationId,
        document: text,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.columns(['action_id', 'namespace']).doUpdateSet({ document: text, updated_at: at }),
      )
      .execute();
  }

  async get(organizationId: string, actionId: string, namespace: string): Promise<unknown> {
    return (await this.getMany(organizationId, [actionId], namespace)).get(actionId);
  }

  async getMany(
    organizationId: string,
    actionIds: readonly string[],
    namespace: string,
  ): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (let i = 0; i < actionIds.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('action_annotations')
        .select(['action_id', 'document'])
        .where('organization_id', '=', organizationId)
        .where('namespace', '=', namespace)
        .where('action_id', 'in', actionIds.slice(i, i + CHUNK))
        .execute();
      for (const row of rows) found.set(row.action_id, parseJson(row.document));
    }
    return found;
  }
}
