import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Annotations: documents another API keeps with an action that the native model has no field for (a
 * dialect's fields as its caller gave them), one per action and namespace. Written in the transaction
 * that saves the action; they go with it when its row goes.
 */
export const actionAnnotations: MigrationFactory = (t) => ({
  async up(db) {
    await db.schema
      .createTable('action_annotations')
      .addColumn('action_id', 'text', (c) => c.notNull().references('actions.id').onDelete('cascade'))
      .addColumn('namespace', 'text', (c) => c.notNull())
      .addColumn('organization_id', 'text', (c) =>
        c.notNull().references('organizations.id').onDelete('cascade'),
      )
      .addColumn('document', sql.raw(t.json), (c) => c.notNull())
      .addColumn('updated_at', sql.raw(t.timestamp), (c) => c.notNull())
      .addPrimaryKeyConstraint('action_annotations_pk', ['action_id', 'namespace'])
      .execute();
  },
});
