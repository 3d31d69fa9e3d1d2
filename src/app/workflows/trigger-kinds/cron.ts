/**
 * Cron triggers: `trigger_configuration` `{cron, timezone, missed}` is checked at save (422 for a cron
 * expression or time zone that is wrong or never fires, docs/security.md I01, I02, I08), and the active
 * version keeps a schedule row that the scheduler (../scheduler.ts) fires from. A new version with the same
 * cron and time zone keeps the schedule's next occurrence, so an edit neither skips nor repeats one.
 */
import { AppError } from '../../../core/errors.ts';
import type { WorkflowVersion } from '../../../core/workflows/model.ts';
import { occurrenceAfter, readCronSettings, type CronSettings } from '../../../core/workflows/schedule.ts';
import type { TriggerKind } from './kind.ts';

function settingsOf(configuration: unknown, now: number): CronSettings {
  const read = readCronSettings(configuration, now);
  if ('path' in read)
    throw new AppError(read.shape ? 'VALIDATION_FAILED' : 'UNPROCESSABLE', read.message, { path: read.path });
  return read;
}

/** `time`: the time schedules fire by (the scheduler's), so the first occurrence counts from the same now. */
export function cronTrigger(time: () => Promise<number>): TriggerKind {
  return {
    async configure(_organizationId, configuration) {
      const { timezone, missed } = settingsOf(configuration, await time());
      return { ...(configuration as Record<string, unknown>), timezone, missed };
    },

    async activated(tx, version: WorkflowVersion) {
      const now = await time();
      const settings = settingsOf(version.triggerConfiguration, now);
      const { organizationId, workflowId } = version;
      const current = await tx.workflowSchedules.get(organizationId, workflowId);
      const same = current?.cron === settings.cron && current.timezone === settings.timezone;
      const next = same ? current.nextAt : occurrenceAfter(settings, now);
      if (next === undefined)
        throw new AppError('UNPROCESSABLE', 'The cron expression never fires', {
          path: '/trigger_configuration/cron',
        });
      await tx.workflowSchedules.put({
        organizationId,
        workflowId,
        versionId: version.id,
        ...settings,
        nextAt: typeof next === 'string' ? next : new Date(next).toISOString(),
      });
    },

    async retired(tx, version: WorkflowVersion) {
      await tx.workflowSchedules.delete(version.organizationId, version.workflowId);
    },
  };
}
