/**
 * `$ref`s as JSON Pointers into the document (`#/components/schemas/Pet`). References into other files
 * were rewritten into pointers when the files could be fetched (bundle.ts); one that is still a file or
 * URL is an ImportProblem saying why it was not read.
 */
import { UNREAD_KEY } from './bundle.ts';
import { ImportProblem, type Json, isRecord, quote, record } from './values.ts';

/** Longest chain of references to references followed before giving up. */
const MAX_HOPS = 32;

export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) {
    const unread = record(record(root)[UNREAD_KEY]);
    const why = Object.hasOwn(unread, ref) && typeof unread[ref] === 'string' ? unread[ref] : undefined;
    throw new ImportProblem(
      why === undefined
        ? `the $ref ${quote(ref)} points outside the document; import it by url, or bundle it into one file (for example with \`redocly bundle\`)`
        : `the $ref ${quote(ref)} could not be read: ${why}`,
    );
  }
  let pointer: string;
  try {
    pointer = decodeURIComponent(ref.slice(1));
  } catch {
    throw new ImportProblem(`the $ref ${quote(ref)} is not a valid JSON Pointer`);
  }
  if (pointer === '') return root;
  if (!pointer.startsWith('/')) throw new ImportProblem(`the $ref ${quote(ref)} is not a valid JSON Pointer`);
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(token)) node = node[Number(token)];
    else if (isRecord(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new ImportProblem(`the $ref ${quote(ref)} points to nothing in the document`);
  }
  return node;
}

export interface Dereferenced {
  value: Json;
  /** The references followed to reach it, outermost first. */
  refs: string[];
}

/**
 * Follows a chain of references to an object. Fields beside a `$ref` (OpenAPI 3.1 allows a summary or
 * description there) win over the target's. `stack` holds references already being expanded: meeting
 * one again is a cycle, reported through `onCycle` (or as an ImportProblem when not given).
 */
export function deref(
  root: unknown,
  node: unknown,
  stack: readonly string[] = [],
  onCycle?: (ref: string) => Json,
): Dereferenced {
  let value = node;
  const refs: string[] = [];
  let siblings: Json = {};
  while (isRecord(value) && typeof value.$ref === 'string') {
    const ref = value.$ref;
    if (stack.includes(ref) || refs.includes(ref)) {
      if (onCycle) return { value: { ...onCycle(ref), ...siblings }, refs };
      throw new ImportProblem(`the $ref ${quote(ref)} refers back to itself`);
    }
    if (refs.length >= MAX_HOPS) throw new ImportProblem(`the $ref ${quote(ref)} starts too long a chain`);
    refs.push(ref);
    const { $ref: _ref, ...rest } = value;
    siblings = { ...rest, ...siblings };
    value = resolvePointer(root, ref);
  }
  if (value === true) value = {}; // JSON Schema's `true`: anything
  if (!isRecord(value))
    throw new ImportProblem(
      refs.length > 0
        ? `the $ref ${quote(refs.at(-1) ?? '')} does not point to an object`
        : 'expected an object',
    );
  return { value: refs.length > 0 ? { ...value, ...siblings } : value, refs };
}
