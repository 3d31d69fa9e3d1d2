import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { foundation } from './0001-foundation.ts';
import { sharedRateLimits } from './0002-shared-rate-limits.ts';
import { actions } from './0003-actions.ts';
import { jobs } from './0004-jobs.ts';
import { agents } from './0005-agents.ts';
import { postCall } from './0006-post-call.ts';
import { confirmations } from './0007-confirmations.ts';
import { actionAnnotations } from './0008-action-annotations.ts';
import { workflows } from './0009-workflows.ts';
import { workflowTriggers } from './0010-workflow-triggers.ts';
import { workflowTools } from './0011-workflow-tools.ts';
import { workflowVersionSerial } from './0012-workflow-version-serial.ts';
import { workflowSchedules } from './0013-workflow-schedules.ts';
import { workflowRunsUnstarted } from './0014-workflow-runs-unstarted.ts';
import { workflowRunParent } from './0015-workflow-run-parent.ts';
import { jobDeadLetters } from './0016-job-dead-letters.ts';
import { durableRuns } from './0017-durable-runs.ts';
import { workflowModel } from './0018-workflow-model.ts';
import { columnTypes, type DialectName, type MigrationFactory } from './types.ts';

/** Every migration, in order. Append only. */
const MIGRATIONS: readonly (readonly [string, MigrationFactory])[] = [
  ['0001-foundation', foundation],
  ['0002-shared-rate-limits', sharedRateLimits],
  ['0003-actions', actions],
  ['0004-jobs', jobs],
  ['0005-agents', agents],
  ['0006-post-call', postCall],
  ['0007-confirmations', confirmations],
  ['0008-action-annotations', actionAnnotations],
  ['0009-workflows', workflows],
  ['0010-workflow-triggers', workflowTriggers],
  ['0011-workflow-tools', workflowTools],
  ['0012-workflow-version-serial', workflowVersionSerial],
  ['0013-workflow-schedules', workflowSchedules],
  ['0014-workflow-runs-unstarted', workflowRunsUnstarted],
  ['0015-workflow-run-parent', workflowRunParent],
  ['0016-job-dead-letters', jobDeadLetters],
  ['0017-durable-runs', durableRuns],
  ['0018-workflow-model', workflowModel],
];

class StaticProvider implements MigrationProvider {
  readonly #migrations: Record<string, Migration>;
  constructor(dialect: DialectName) {
    const types = columnTypes(dialect);
    this.#migrations = Object.fromEntries(
      MIGRATIONS.map(([name, factory]) => [name, factory(types, dialect)]),
    );
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.#migrations;
  }
}

/** Applies every pending migration; safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Database migration ${failed ?? ''} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
