/**
 * Errors that mean "the database is unreachable, locked or full right now", as opposed to a bug:
 * the HTTP layer answers these with 503 and Retry-After (docs/security.md H05, H07).
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, read_only_sql_transaction
const POSTGRES_CODES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);
// SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN (primary result codes)
const SQLITE_CODES = new Set([5, 6, 10, 13, 14]);
const MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /database is locked/i,
  /Connection refused/i,
];

export function isStoreUnavailable(error: unknown): boolean {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { code, errcode, message } = e as { code?: unknown; errcode?: unknown; message?: unknown };
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || POSTGRES_CODES.has(code) || code.startsWith('08'))
    )
      return true;
    if (typeof errcode === 'number' && SQLITE_CODES.has(errcode & 0xff)) return true;
    if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}
