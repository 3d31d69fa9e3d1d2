import { BoundedCache } from './bounded-cache.ts';

/** Time in a caller's time zone, with Intl only (no I/O, no libraries). */

/** Formatters by time zone: building an Intl.DateTimeFormat costs far more than using one. */
const formatters = new BoundedCache<string, Intl.DateTimeFormat | null>(1_000);

function createFormatter(timeZone: string): Intl.DateTimeFormat | null {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    return null;
  }
}

const formatterFor = (timeZone: string): Intl.DateTimeFormat | null =>
  formatters.get(timeZone, createFormatter);

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time at `date` in `timeZone`, or undefined for an unknown time zone. */
export function localTimeIn(date: Date, timeZone: string): LocalTime | undefined {
  const formatter = formatterFor(timeZone);
  if (!formatter) return undefined;
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(date)) parts[part.type] = Number(part.value);
  return {
    year: parts.year ?? NaN,
    month: parts.month ?? NaN,
    day: parts.day ?? NaN,
    hour: parts.hour ?? NaN,
    minute: parts.minute ?? NaN,
    second: parts.second ?? NaN,
  };
}

export const isValidTimeZone = (timeZone: string): boolean => formatterFor(timeZone) !== null;

/** ISO 8601 local time with its offset in `timeZone`: `2026-11-23T09:15:00+01:00`. */
export function formatInTimeZone(date: Date, timeZone: string): string {
  const local = localTimeIn(date, timeZone);
  if (!local) throw new RangeError(`Unknown time zone ${timeZone}`);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const offsetMinutes = Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}
