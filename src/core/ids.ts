/**
 * Record ids are UUID version 7 (RFC 9562): their first 48 bits are the creation time in milliseconds,
 * so ordering by id orders by creation, and a time range is an id range on the primary key.
 */

/** The smallest id created at `ms` or later: every id minted at or after `ms` sorts at or above it. */
export function idFloor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}
