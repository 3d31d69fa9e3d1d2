/**
 * Trigger constraints are JSON Logic as jsonlogic.com defines it, run by json-logic-engine: a maintained
 * engine that passes jsonlogic.com's shared tests and compiles a rule to a function once, so an event
 * costs one call. `checkJsonLogic` refuses at save what would not run (an operator that is not
 * jsonlogic.com's, `log`, a rule nested too deep, a constant part that cannot be computed), naming the
 * path, so a constraint never fails for the first time when a trigger fires.
 */
import { LogicEngine, defaultMethods } from 'json-logic-engine';

export class JsonLogicError extends Error {}

const MAX_DEPTH = 32;

/**
 * Every operator jsonlogic.com documents (`?:` is the reference engine's other name for `if`), less
 * `log`, which writes to the server's console. The engine's own extensions (`val`, `try`, `throw`,
 * `preserve`, `??`, `length`, ...) are not JSON Logic and are refused like any unknown name.
 */
const OPERATORS: ReadonlySet<string> = new Set([
  ...['var', 'missing', 'missing_some'],
  ...['if', '?:', 'and', 'or', '!', '!!'],
  ...['==', '===', '!=', '!==', '<', '<=', '>', '>='],
  ...['+', '-', '*', '/', '%', 'min', 'max'],
  ...['map', 'filter', 'reduce', 'all', 'some', 'none', 'merge', 'in'],
  ...['cat', 'substr'],
]);

/** The engine's operator that answers its argument unevaluated: how an object literal reaches it. */
const LITERAL = 'preserve';

const methods = defaultMethods as unknown as Record<string, unknown>;
const engine = new LogicEngine(
  Object.fromEntries([...OPERATORS, LITERAL].map((name) => [name, methods[name]])),
);

/** jsonlogic.com's truthiness: JavaScript's, except that an empty array is false (an empty object is true). */
export const truthy = (value: unknown): boolean => (Array.isArray(value) ? value.length > 0 : Boolean(value));
engine.truthy = truthy;

const where = (path: string) => path || '/';

/**
 * The rule as the engine reads it, checked on the way: an object with one key is an operation, any other
 * object is a literal (as the reference engine reads it), wrapped so the engine does not take its first
 * key for an operator.
 */
function prepare(logic: unknown, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new JsonLogicError(`nested deeper than ${MAX_DEPTH} at ${where(path)}`);
  if (Array.isArray(logic)) return logic.map((item, i) => prepare(item, `${path}/${i}`, depth + 1));
  if (logic === null || typeof logic !== 'object') return logic;
  const keys = Object.keys(logic);
  if (keys.length !== 1) return keys.length === 0 ? logic : { [LITERAL]: logic };
  const name = keys[0]!;
  if (name === 'log')
    throw new JsonLogicError(`operator "log" at ${where(path)} is not allowed: it writes to the server log`);
  if (!OPERATORS.has(name)) throw new JsonLogicError(`unknown operator "${name}" at ${where(path)}`);
  const raw = (logic as Record<string, unknown>)[name];
  const first: unknown = Array.isArray(raw) ? raw[0] : raw;
  if (name === 'var' && typeof first === 'string' && first.startsWith('../'))
    throw new JsonLogicError(`var "${first}" at ${where(path)}: JSON Logic has no outer scope (../)`);
  // a lone argument keeps its shape: `{"missing": {"merge": ...}}` takes the list the merge makes
  return {
    [name]: Array.isArray(raw)
      ? raw.map((a, i) => prepare(a, `${path}/${name}/${i}`, depth + 1))
      : prepare(raw, `${path}/${name}/0`, depth + 1),
  };
}

/** What the engine threw, as words: it throws NaN for arithmetic without a number, and plain objects. */
function reasonOf(error: unknown): string {
  if (typeof error === 'number' && Number.isNaN(error))
    return 'an arithmetic operation has no numeric result';
  if (error instanceof Error) return error.message;
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : 'an operator got arguments it cannot use';
}

export type CompiledLogic = (data: unknown) => unknown;

/** Checks the rule and compiles it; throws JsonLogicError naming the first problem. */
export function compileJsonLogic(logic: unknown): CompiledLogic {
  const prepared = prepare(logic, '', 0);
  try {
    // the engine computes constant parts while it compiles, so a constant that cannot be computed throws here
    return engine.build(prepared) as CompiledLogic;
  } catch (error) {
    throw new JsonLogicError(`cannot be evaluated: ${reasonOf(error)}`);
  }
}

/** Throws JsonLogicError when the rule would not run: what the save-time check of a constraint calls. */
export function checkJsonLogic(logic: unknown): void {
  compileJsonLogic(logic);
}

export type CompiledConstraints = (data: unknown) => boolean;

/**
 * Trigger constraints as a test of the trigger's data. No constraints (null) pass everything. A rule
 * passes when its result is truthy; one the engine cannot compute on the data (arithmetic on text, a
 * stored rule that no longer compiles) does not pass: a constraint fails closed.
 */
export function compileConstraints(constraints: unknown): CompiledConstraints {
  if (constraints === null || constraints === undefined) return () => true;
  let compiled: CompiledLogic;
  try {
    compiled = compileJsonLogic(constraints);
  } catch {
    return () => false;
  }
  return (data) => {
    try {
      return truthy(compiled(data));
    } catch {
      return false;
    }
  };
}

/**
 * Compiled constraints by workflow version id (a version never changes), the least recently used
 * dropped past `max`, so a rule is compiled once per version however many events it sees, and the
 * cache stays bounded however many versions a server holds.
 */
export class ConstraintCache {
  readonly #max: number;
  readonly #compile: (constraints: unknown) => CompiledConstraints;
  readonly #byVersion = new Map<string, CompiledConstraints>();

  constructor(max: number, compile: (constraints: unknown) => CompiledConstraints = compileConstraints) {
    this.#max = max;
    this.#compile = compile;
  }

  get size(): number {
    return this.#byVersion.size;
  }

  passes(version: { id: string; triggerConstraints: unknown }, data: unknown): boolean {
    let compiled = this.#byVersion.get(version.id);
    if (compiled) this.#byVersion.delete(version.id);
    else compiled = this.#compile(version.triggerConstraints);
    this.#byVersion.set(version.id, compiled);
    if (this.#byVersion.size > this.#max) this.#byVersion.delete(this.#byVersion.keys().next().value!);
    return compiled(data);
  }
}

/** The process's constraints: a few thousand compiled rules are a few megabytes at most. */
const constraints = new ConstraintCache(2_000);

/** Whether the version's trigger constraints pass on `data`, compiling them on the version's first event. */
export const constraintsPass = (
  version: { id: string; triggerConstraints: unknown },
  data: unknown,
): boolean => constraints.passes(version, data);
