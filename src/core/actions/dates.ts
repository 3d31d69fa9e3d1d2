/**
 * Calendar dates as people and models write them, normalised to YYYY-MM-DD: ISO dates and date-times,
 * "November 23, 2026", "23rd of November 2026", "Nov 23 2026", and today / tomorrow / yesterday in the
 * conversation's time zone (Intl only, no date library). All-numeric day/month forms such as 03/04/2026
 * are refused: the same text is 3 April in one country and 4 March in another.
 */
import { localTimeIn } from '../time.ts';
export interface DateContext {
  now: Date;
  timeZone: string;
}

export type DateResult = { ok: true; date: string } | { ok: false; reason: string };

const MONTHS: ReadonlyMap<string, number> = new Map(
  [
    ['january', 'jan'],
    ['february', 'feb'],
    ['march', 'mar'],
    ['april', 'apr'],
    ['may', 'may'],
    ['june', 'jun'],
    ['july', 'jul'],
    ['august', 'aug'],
    ['september', 'sep', 'sept'],
    ['october', 'oct'],
    ['november', 'nov'],
    ['december', 'dec'],
  ].flatMap((names, index) => names.map((name) => [name, index + 1] as const)),
);

const WEEKDAYS: ReadonlyMap<string, number> = new Map(
  [
    ['sunday', 'sun'],
    ['monday', 'mon'],
    ['tuesday', 'tue', 'tues'],
    ['wednesday', 'wed'],
    ['thursday', 'thu', 'thur', 'thurs'],
    ['friday', 'fri'],
    ['saturday', 'sat'],
  ].flatMap((names, index) => names.map((name) => [name, index] as const)),
);

const RELATIVE_DAYS: ReadonlyMap<string, number> = new Map([
  ['today', 0],
  ['tomorrow', 1],
  ['yesterday', -1],
]);

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// A date-time keeps the date as written: the calendar day in the offset the writer used.
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:z|[+-]\d{2}(?::?\d{2})?)?$/;
const YEAR_FIRST = /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$/;
const AMBIGUOUS_NUMERIC = /^\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?$/;
const DAY = /^(\d{1,2})(?:st|nd|rd|th)?$/;
const YEAR = /^\d{4}$/;
const FILLER = new Set(['the', 'of', 'on']);

const MAX_LENGTH = 64;
export const DATE_EXAMPLE = '2026-11-23';
const ASK_MONTH_NAME = 'say the month by name, such as November 23, 2026';

export function parseDate(input: string, context: DateContext): DateResult {
  const text = input.trim().toLowerCase();
  if (text.length > MAX_LENGTH) return { ok: false, reason: 'too long to be a date' };

  const iso = ISO_DATE.exec(text) ?? ISO_DATE_TIME.exec(text) ?? YEAR_FIRST.exec(text);
  if (iso) return calendarDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  if (AMBIGUOUS_NUMERIC.test(text))
    return { ok: false, reason: `a numeric date is ambiguous; ${ASK_MONTH_NAME}` };

  const relative = RELATIVE_DAYS.get(text.replace(/[.!]$/, ''));
  if (relative !== undefined) return relativeDate(relative, context);

  return spokenDate(text);
}

/** True for a real calendar date written YYYY-MM-DD: the canonical form every date input ends in. */
export function isIsoDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  return match !== null && calendarDate(Number(match[1]), Number(match[2]), Number(match[3])).ok;
}

/** "november 23 2026", "23rd of november, 2026", "monday, nov. 23, 2026". */
function spokenDate(text: string): DateResult {
  const words = text
    .replace(/[,.]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && !FILLER.has(word));
  const weekday = WEEKDAYS.get(words[0] ?? '');
  if (weekday !== undefined) words.shift();

  const monthAt = words.findIndex((word) => MONTHS.has(word));
  if (monthAt === -1 || words.length < 2) {
    return { ok: false, reason: `not a date; use YYYY-MM-DD or ${ASK_MONTH_NAME}` };
  }
  const month = MONTHS.get(words[monthAt]!)!;
  const rest = words.filter((_, index) => index !== monthAt);
  // The day sits next to the month (either side); the year comes last.
  const dayWord = monthAt === 0 ? rest[0] : monthAt === 1 ? rest[0] : undefined;
  const day = DAY.exec(dayWord ?? '');
  if (!day || rest.length > 2) return { ok: false, reason: `not a date; ${ASK_MONTH_NAME}` };
  if (rest.length === 1) return { ok: false, reason: 'include the year, such as November 23, 2026' };
  if (!YEAR.test(rest[1]!)) return { ok: false, reason: `the year must have four digits; ${ASK_MONTH_NAME}` };

  const result = calendarDate(Number(rest[1]), month, Number(day[1]));
  if (result.ok && weekday !== undefined && weekdayOf(result.date) !== weekday) {
    return { ok: false, reason: `${result.date} is not a ${dayName(weekday)}; check the date` };
  }
  return result;
}

function dayName(weekday: number): string {
  return ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][weekday]!;
}

function weekdayOf(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

function calendarDate(year: number, month: number, day: number): DateResult {
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, reason: 'there is no such date' };
  }
  return { ok: true, date: formatDate(year, month, day) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Today's calendar date in the time zone, moved by whole days (so no DST hour can skip a day). */
function relativeDate(offsetDays: number, { now, timeZone }: DateContext): DateResult {
  const today = localTimeIn(now, timeZone);
  if (!today)
    return { ok: false, reason: `cannot tell today's date: the time zone "${timeZone}" is unknown` };
  const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offsetDays));
  return { ok: true, date: formatDate(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()) };
}
