/**
 * `tools/list` in pages (MCP pagination). The tools come sorted by name; a page holds `pageSize` of them
 * and, when more follow, a `nextCursor`: the page's last name, base64url-encoded. So a cursor is opaque to
 * clients, means the same position on every call and in every process, and still works when tools are
 * added or removed between pages (the next page starts after that name: no tool is listed twice).
 */
import { TOOL_NAME_PATTERN } from '../../core/tools/names.ts';
import { JSON_RPC, ProtocolError } from './sdk.ts';

const PREFIX = 'after:';
const CURSOR = /^[A-Za-z0-9_-]{1,128}$/;

export const encodeCursor = (lastName: string): string =>
  Buffer.from(`${PREFIX}${lastName}`, 'utf8').toString('base64url');

/** The tool name a cursor continues after; anything this server did not hand out is invalid params. */
export function decodeCursor(cursor: string): string {
  const text = CURSOR.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const name = text.startsWith(PREFIX) ? text.slice(PREFIX.length) : '';
  if (!TOOL_NAME_PATTERN.test(name) || encodeCursor(name) !== cursor) {
    throw new ProtocolError(
      JSON_RPC.InvalidParams,
      'cursor is not a nextCursor this server returned; list again without a cursor',
    );
  }
  return name;
}

/** One page of `tools` (sorted by name), starting after `cursor`'s name. */
export function toolsPage<T extends { name: string }>(
  tools: readonly T[],
  cursor: string | undefined,
  pageSize: number,
): { tools: T[]; nextCursor?: string } {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const rest = after === undefined ? tools : tools.filter((tool) => tool.name > after);
  const page = rest.slice(0, pageSize);
  const last = page.at(-1);
  return rest.length > pageSize && last
    ? { tools: page, nextCursor: encodeCursor(last.name) }
    : { tools: page };
}
