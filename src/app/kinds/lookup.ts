/**
 * What a placeholder stands for in one run: an input the agent collected, a runtime variable, a
 * dynamic-context key the action declared, or `secrets.NAME` (pre-resolved, since lookup is synchronous).
 */
import { RUNTIME_VARIABLES, type Variable } from '../../core/actions/variables.ts';
import type { Lookup } from '../../core/templates/index.ts';
import { formatInTimeZone } from '../../core/time.ts';

const RUNTIME: ReadonlySet<string> = new Set(RUNTIME_VARIABLES);

export interface LookupSources {
  variables: readonly Variable[];
  contextVariables: readonly string[];
  inputs: Readonly<Record<string, unknown>>;
  context: Readonly<Record<string, unknown>>;
  secrets: ReadonlyMap<string, string>;
  now: Date;
}

export function runtimeValue(name: string, context: Readonly<Record<string, unknown>>, now: Date): unknown {
  const given = context[name];
  if (given !== undefined) return given;
  const timeZone = typeof context.timezone === 'string' ? context.timezone : 'UTC';
  if (name === 'timezone') return timeZone;
  if (name === 'current_datetime') return formatInTimeZone(now, timeZone);
  return undefined;
}

/** Name sets per variables list: an action's lists never change, so they are built once. */
const declaredNames = new WeakMap<readonly object[], ReadonlySet<string>>();
function namesOf<T>(list: readonly T[], name: (item: T) => string): ReadonlySet<string> {
  let names = declaredNames.get(list as readonly object[]);
  if (!names) {
    names = new Set(list.map(name));
    declaredNames.set(list as readonly object[], names);
  }
  return names;
}

export function buildLookup(sources: LookupSources): Lookup {
  const declared = namesOf(sources.variables, (v) => v.name);
  const contextKeys = namesOf(sources.contextVariables, (k) => k);
  return (ref) => {
    if (ref.startsWith('secrets.')) {
      const value = sources.secrets.get(ref.slice('secrets.'.length));
      return value === undefined ? { found: false } : { found: true, value };
    }
    if (declared.has(ref)) return { found: true, value: sources.inputs[ref] };
    if (RUNTIME.has(ref)) return { found: true, value: runtimeValue(ref, sources.context, sources.now) };
    if (contextKeys.has(ref)) return { found: true, value: sources.context[ref] };
    return { found: false };
  };
}

/** Inputs, runtime and context values, and no secrets: for what is spoken or dialled, never sent with credentials. */
export function flatLookup(
  action: { variables: readonly Variable[]; contextVariables: readonly string[] },
  inputs: Readonly<Record<string, unknown>>,
  context: Readonly<Record<string, unknown>>,
  now: Date,
): Lookup {
  return buildLookup({
    variables: action.variables,
    contextVariables: action.contextVariables,
    inputs,
    context,
    secrets: NO_SECRETS,
    now,
  });
}

const NO_SECRETS: ReadonlyMap<string, string> = new Map();
