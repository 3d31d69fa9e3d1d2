/** Wire schemas shared by the native routes: one error shape, pagination, ids. */
import Type, { type Static, type TSchema } from 'typebox';
import { AppError } from '../core/errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page, type PageRequest } from '../core/pagination.ts';

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable, machine-readable code, e.g. VALIDATION_FAILED' }),
      message: Type.String({ description: 'What went wrong and what to change' }),
      path: Type.Optional(
        Type.String({ description: 'JSON Pointer to the offending field, for validation errors' }),
      ),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
      request_id: Type.String({
        description: 'Quote this when asking about the request; it is in the server log',
      }),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every native error answers with this shape' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A workflow's id is `workflow_id` wherever a path names it: its versions have ids of their own. */
export const WorkflowIdParams = Type.Object({ workflow_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const PageQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: `Items per page, ${DEFAULT_PAGE_SIZE} by default; values above ${MAX_PAGE_SIZE} mean ${MAX_PAGE_SIZE}`,
    }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 256, description: 'next_cursor of the previous page' })),
});

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(item),
    next_cursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as `cursor` for the next page; null on the last',
    }),
  });

/** Cursors are opaque to clients: the last id, base64url-encoded. */
export function toPageRequest(query: {
  limit?: number | undefined;
  cursor?: string | undefined;
}): PageRequest {
  const limit = Math.min(query.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  if (query.cursor === undefined) return { limit };
  const cursor = Buffer.from(query.cursor, 'base64url').toString('utf8');
  if (!/^[0-9a-f-]{36}$/.test(cursor)) {
    throw new AppError('VALIDATION_FAILED', 'cursor is not a next_cursor this API returned', {
      path: '/cursor',
    });
  }
  return { limit, cursor };
}

export function toPageResponse<T, W>(
  page: Page<T>,
  view: (item: T) => W,
): { data: W[]; next_cursor: string | null } {
  return {
    data: page.items.map(view),
    next_cursor: page.nextCursor === null ? null : Buffer.from(page.nextCursor, 'utf8').toString('base64url'),
  };
}

export const Timestamp = Type.String({ format: 'date-time' });

/** Beside a saved definition: what the save accepted but will not work as saved, and how to fix it. */
export const Warnings = Type.Array(
  Type.Object({
    path: Type.String({ description: 'Where in what was saved (a JSON Pointer)' }),
    message: Type.String(),
  }),
  {
    description:
      'What was saved but will not work as saved, each with how to fix it: a secret a code action can read that is bound to no host (its fetch then refuses every request), a host the code names that no such secret is bound to. Empty when all is well.',
  },
);
