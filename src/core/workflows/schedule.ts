/**
 * Cron schedules of `cron-trigger` workflows (issue 7; SECURITY.md I01-I08, G-19): the check of
 * `trigger_configuration` at save, the occurrences of an expression in a time zone, and the missed-
 * occurrence policy. Calendar and DST rules come from cron-parser (pure, no native build).
 *
 * Configuration: `{"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "missed": "skip"}`; `expression`
 * is accepted for `cron`, `timezone` defaults to UTC and `missed` to `skip`.
 */
import { CronExpressionParser } from 'cron-parser';

export const MISSED_POLICIES = ['skip', 'once', 'all'] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];

/** The schedule kept beside a cron workflow's active version; `nextAt` is the next occurrence to fire. */
export interface WorkflowSchedule {
  workflowId: string;
  organizationId: string;
  versionId: string;
  cron: string;
  timezone: string;
  missed: MissedPolicy;
  nextAt: string;
}

export interface CronSettings {
  cron: string;
  timezone: string;
  missed: MissedPolicy;
}

/** A problem with the configuration: `shape` ones are 400, the others 422 (I01). */
export interface ScheduleIssue {
  path: string;
  message: string;
  shape: boolean;
}

/** An occurrence this late is still fired under `skip` (a tick runs every few seconds). */
export const SKIP_GRACE_MS = 60_000;
/** At most this many runs per schedule per tick under `all`. */
export const CATCH_UP_PER_TICK = 100;
/** Under `all`, occurrences older than the latest this many are skipped (cf. pg-boss maxCatchupOccurrences). */
export const CATCH_UP_TOTAL = 1_000;

/** Nicknames cron-parser knows that fire at most once a minute (`@secondly` does not). */
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

const issue = (path: string, message: string, shape = false): ScheduleIssue => ({ path, message, shape });

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function parse(cron: string, timezone: string, at: number) {
  return CronExpressionParser.parse(cron, { currentDate: new Date(at), tz: timezone });
}

/** The first occurrence strictly after `at` (epoch ms), or undefined when there is none. */
export function occurrenceAfter(settings: Pick<CronSettings, 'cron' | 'timezone'>, at: number) {
  const expression = parse(settings.cron, settings.timezone, at);
  return expression.hasNext() ? expression.next().getTime() : undefined;
}

/** The schedule's next `count` occurrences from its `next_at` on, as ISO timestamps: the preview. */
export function upcoming(schedule: WorkflowSchedule, count: number): string[] {
  const first = Date.parse(schedule.nextAt);
  const times: number[] = [];
  for (let at: number | undefined = first; at !== undefined && times.length < count;) {
    times.push(at);
    at = occurrenceAfter(schedule, at);
  }
  return times.filter((at) => at < Date.parse('9999-01-01')).map((at) => new Date(at).toISOString());
}

function checkCron(cron: string, timezone: string, now: number): ScheduleIssue | undefined {
  const path = '/trigger_configuration/cron';
  const fields = cron.trim().split(/\s+/);
  if (cron.trim().startsWith('@')) {
    if (!NICKNAMES.has(cron.trim()))
      return issue(path, `"${cron}" is not a supported cron nickname (${[...NICKNAMES].join(', ')})`);
  } else if (fields.length !== 5) {
    return issue(
      path,
      fields.length === 6
        ? 'A seconds field is not supported: schedules fire at most once a minute; use 5 fields (minute hour day-of-month month day-of-week)'
        : `A cron expression has 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}`,
    );
  }
  let expression;
  try {
    expression = parse(cron, timezone, now);
  } catch (error) {
    const message = (error as Error).message;
    return /day of month/i.test(message)
      ? issue(path, `The cron expression never fires (${message})`)
      : issue(path, `Invalid cron expression: ${message}`);
  }
  try {
    if (!expression.hasNext()) return issue(path, 'The cron expression never fires');
    expression.next();
  } catch {
    return issue(path, 'The cron expression never fires');
  }
  return undefined;
}

/** Reads and checks a cron-trigger configuration; `now` (epoch ms) is where "never fires" looks from. */
export function readCronSettings(configuration: unknown, now: number): CronSettings | ScheduleIssue {
  if (typeof configuration !== 'object' || configuration === null || Array.isArray(configuration))
    return issue(
      '/trigger_configuration',
      'A cron-trigger needs trigger_configuration {"cron": "<5-field cron expression>", "timezone": "<IANA zone>"}',
      true,
    );
  const config = configuration as Record<string, unknown>;
  if (config.cron !== undefined && config.expression !== undefined && config.cron !== config.expression)
    return issue('/trigger_configuration/expression', 'Give either cron or expression, not two values', true);
  const cron = config.cron ?? config.expression;
  if (typeof cron !== 'string' || cron.trim() === '')
    return issue('/trigger_configuration/cron', 'cron must be a cron expression (a string)', true);
  const timezone = config.timezone ?? 'UTC';
  if (typeof timezone !== 'string')
    return issue('/trigger_configuration/timezone', 'timezone must be a string', true);
  if (!isTimeZone(timezone))
    return issue('/trigger_configuration/timezone', `Unknown time zone "${timezone}" (use an IANA name)`);
  const missed = config.missed ?? 'skip';
  if (!(MISSED_POLICIES as readonly unknown[]).includes(missed))
    return issue(
      '/trigger_configuration/missed',
      `missed must be one of ${MISSED_POLICIES.join(', ')}`,
      true,
    );
  return checkCron(cron, timezone, now) ?? { cron: cron.trim(), timezone, missed: missed as MissedPolicy };
}

/** What a tick does with a due schedule: the occurrences to fire, how many it skips, the next `nextAt`. */
export interface Firing {
  fire: number[];
  skipped: number;
  nextAt: number | undefined;
}

/**
 * The due occurrences of a schedule (from `nextAt` to `now`, both included) under its missed policy:
 * - `skip`: fire only those at most SKIP_GRACE_MS old (normally the one just due); older ones are skipped.
 * - `once`: fire the latest due one only, however late.
 * - `all`: fire each, oldest first, CATCH_UP_PER_TICK per tick (the rest on the next ticks), and only
 *   the latest CATCH_UP_TOTAL: anything older is skipped. Never an unbounded burst.
 * Looks back from `now`, so a schedule years behind costs at most CATCH_UP_TOTAL steps.
 */
export function firingOf(schedule: WorkflowSchedule, now: number): Firing {
  const from = Date.parse(schedule.nextAt);
  const back = parse(schedule.cron, schedule.timezone, now + 1);
  const due: number[] = []; // newest first
  while (due.length <= CATCH_UP_TOTAL && back.hasPrev()) {
    const at = back.prev().getTime();
    if (at < from) break;
    due.push(at);
  }
  const more = due.length > CATCH_UP_TOTAL; // and maybe many more before; counted as one here
  if (more) due.pop();
  const after = occurrenceAfter(schedule, now);
  const older = more ? 1 : 0;
  if (schedule.missed === 'once')
    return { fire: due.slice(0, 1), skipped: Math.max(due.length - 1, 0) + older, nextAt: after };
  if (schedule.missed === 'skip') {
    const fire = due.filter((at) => now - at <= SKIP_GRACE_MS).reverse();
    return { fire, skipped: due.length - fire.length + older, nextAt: after };
  }
  const oldestFirst = due.reverse();
  const fire = oldestFirst.slice(0, CATCH_UP_PER_TICK);
  const rest = oldestFirst[CATCH_UP_PER_TICK];
  return { fire, skipped: older, nextAt: rest ?? after };
}
