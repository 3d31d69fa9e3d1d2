/**
 * What `{{trigger.path}}`, `{{step_id.output.path}}` and `{{step_id.error.path}}` stand for in one run: a
 * pure lookup over the trigger's data and the committed outputs of earlier steps (docs/security.md,
 * principle 1: data, never code).
 */
import type { Lookup } from '../templates/index.ts';

export interface RunScope {
  trigger: Readonly<Record<string, unknown>>;
  /** step id → its committed output. */
  outputs: ReadonlyMap<string, unknown>;
  /** step id → the error of a step that failed and whose on_error blocks ran. */
  errors: ReadonlyMap<string, unknown>;
}

function walk(value: unknown, path: readonly string[]): { found: true; value: unknown } | { found: false } {
  let current = value;
  for (const segment of path) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)];
    else if (current !== null && typeof current === 'object' && Object.hasOwn(current, segment))
      current = (current as Record<string, unknown>)[segment];
    else return { found: false };
  }
  return { found: true, value: current };
}

/**
 * `strict`: a path that names nothing is not found (the renderer then fails with the reference's name);
 * lenient (conditions): it is null, so `is_empty` on a missing field is simply true.
 */
export function runLookup(scope: RunScope, strict: boolean): Lookup {
  return (ref) => {
    const [head, ...rest] = ref.split('.');
    let found: { found: true; value: unknown } | { found: false };
    if (head === 'trigger') found = walk(scope.trigger, rest);
    else if (head !== undefined && scope.outputs.has(head) && rest[0] === 'output')
      found = walk(scope.outputs.get(head), rest.slice(1));
    else if (head !== undefined && scope.errors.has(head) && rest[0] === 'error')
      found = walk(scope.errors.get(head), rest.slice(1));
    else found = { found: false };
    if (!found.found && !strict) return { found: true, value: null };
    return found;
  };
}
