/**
 * Cron schedules of `cron-trigger` workflows (docs/security.md I01–I08, G-19): the check of
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

/** Longer than any daylight-saving shift (one hour almost everywhere; 30 minutes on Lord Howe Island). */
const DST_LEAD_MS = 3 * 3_600_000;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The zone's UTC offset at `at`, as Intl names it ("GMT-05:00"). */
function utcOffset(timezone: string, at: number): string {
  let format = offsetFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
    offsetFormats.set(timezone, format);
  }
  return format.formatToParts(at).find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/**
 * The occurrences from `from` to `until` (epoch ms, both included), oldest first, at most `max`.
 *
 * cron-parser applies the zone's daylight-saving rules as cron does: a local time the clock skips fires
 * once, shifted by the change (02:30 on a spring-forward night at 03:30), and a time the clock repeats
 * fires once for a fixed hour (01:30 at its first pass) and at each pass for an hour wildcard (every
 * hour is a real hour). It does so only while iterating from before the change, though: started from a
 * point after it, next() skips the shifted time, and started inside a repeated hour, it fires that hour's
 * second pass. So when the offset changes within DST_LEAD_MS before `from`, the iteration starts that
 * much earlier and what falls before `from` is dropped.
 */
function occurrences(
  settings: Pick<CronSettings, 'cron' | 'timezone'>,
  from: number,
  until: number,
  max: number,
): number[] {
  const { cron, timezone } = settings;
  const lead = utcOffset(timezone, from - DST_LEAD_MS) === utcOffset(timezone, from) ? 1 : DST_LEAD_MS;
  const expression = parse(cron, timezone, from - lead);
  const found: number[] = [];
  while (found.length < max && expression.hasNext()) {
    const at = expression.next().getTime();
    if (at > until) break;
    if (at >= from) found.push(at);
  }
  return found;
}

/** The first occurrence strictly after `at` (epoch ms), or undefined when there is none. */
export function occurrenceAfter(settings: Pick<CronSettings, 'cron' | 'timezone'>, at: number) {
  return occurrences(settings, at + 1, Number.MAX_SAFE_INTEGER, 1)[0];
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
 * Where a schedule far behind starts catching up: at the oldest of the latest CATCH_UP_TOTAL occurrences
 * up to `now`, with `older` 1 when there were more before it (counted as one, not walked through). It
 * looks back from `now`, so a schedule years behind costs at most CATCH_UP_TOTAL steps; the occurrences
 * themselves then come from occurrences(), whose daylight-saving handling prev() lacks.
 */
function catchUpFrom(
  schedule: WorkflowSchedule,
  from: number,
  now: number,
): { start: number; older: number } {
  const back = parse(schedule.cron, schedule.timezone, now + 1);
  let start = from;
  for (let n = 0; back.hasPrev(); n++) {
    const at = back.prev().getTime();
    if (at < from) break;
    if (n === CATCH_UP_TOTAL) return { start, older: 1 };
    start = at;
  }
  return { start: from, older: 0 };
}

/**
 * The due occurrences of a schedule (from `nextAt` to `now`, both included) under its missed policy:
 * - `skip`: fire only those at most SKIP_GRACE_MS old (normally the one just due); older ones are skipped.
 * - `once`: fire the latest due one only, however late.
 * - `all`: fire each, oldest first, CATCH_UP_PER_TICK per tick (the rest on the next ticks), and only
 *   the latest CATCH_UP_TOTAL: anything older is skipped. Never an unbounded burst.
 */
export function firingOf(schedule: WorkflowSchedule, now: number): Firing {
  const { start, older } = catchUpFrom(schedule, Date.parse(schedule.nextAt), now);
  // around a clock change the walk forward may find a few more than the walk back counted
  const due = occurrences(schedule, start, now, CATCH_UP_TOTAL + 10).slice(-CATCH_UP_TOTAL);
  const after = occurrenceAfter(schedule, now);
  if (schedule.missed === 'once')
    return { fire: due.slice(-1), skipped: Math.max(due.length - 1, 0) + older, nextAt: after };
  if (schedule.missed === 'skip') {
    const fire = due.filter((at) => now - at <= SKIP_GRACE_MS);
    return { fire, skipped: due.length - fire.length + older, nextAt: after };
  }
  const fire = due.slice(0, CATCH_UP_PER_TICK);
  const rest = due[CATCH_UP_PER_TICK];
  return { fire, skipped: older, nextAt: rest ?? after };
}
