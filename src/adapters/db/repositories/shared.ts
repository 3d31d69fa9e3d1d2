import type { SelectQueryBuilder } from 'kysely';
import { AppError } from '../../../core/errors.ts';
import { toPage, type Page, type PageRequest } from '../../../core/pagination.ts';

/** Newest first, after the cursor: `limit + 1` rows so toPage can tell whether another page follows. */
export async function fetchPage<
  DB,
  TB extends keyof DB,
  Row extends { id: string },
  T extends { id: string },
>(
  query: SelectQueryBuilder<DB, TB, Row>,
  idColumn: string,
  page: PageRequest,
  map: (row: Row) => T,
): Promise<Page<T>> {
  let q = query;
  // The column name is ours, never user input; Kysely's typed `where` cannot name it generically.
  if (page.cursor) q = q.where(idColumn as never, '<', page.cursor as never);
  const rows = await q
    .orderBy(idColumn as never, 'desc')
    .limit(page.limit + 1)
    .execute();
  return toPage(rows.map(map), page.limit);
}

/** True for a unique-constraint violation on either store. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e.code === '23505') return true; // PostgreSQL unique_violation
  if (e.errcode === 2067 || e.errcode === 1555) return true; // SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY
  return typeof e.message === 'string' && e.message.startsWith('UNIQUE constraint failed');
}

/** Runs a write and turns a unique-constraint violation into a 409 with the given message. */
export async function conflictOnDuplicate<T>(
  write: () => Promise<T>,
  message: string,
  path?: string,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError('CONFLICT', message, path ? { path } : {});
    throw error;
  }
}

export const parseJson = <T>(text: string): T => JSON.parse(text) as T;
