/**
 * A small JSON Logic evaluator (jsonlogic.com) for trigger constraints: data in, a value out, no code.
 * Operators are rows of a table; `check` rejects an unknown operator at save time so a constraint never
 * fails for the first time when a trigger fires.
 */

type Logic = unknown;
type Evaluate = (logic: Logic, data: unknown) => unknown;
/** Receives the raw arguments, so `and`, `or`, `if` and the array operators choose what to evaluate. */
type Operator = (args: readonly Logic[], data: unknown, evaluate: Evaluate) => unknown;

export class JsonLogicError extends Error {}

const MAX_DEPTH = 32;

const truthy = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : Boolean(v));

function lookup(data: unknown, path: unknown): unknown {
  if (path === null || path === undefined || path === '') return data;
  if (typeof path !== 'string' && typeof path !== 'number') return undefined;
  let current = data;
  for (const part of String(path).split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

// eslint-disable-next-line eqeqeq -- JSON Logic's `==` is JavaScript's loose equality by definition
const loose = (a: unknown, b: unknown): boolean => a == b;
const num = (v: unknown): number => Number(v);

/** `<` and `<=` take a third argument: `{"<": [1, x, 5]}` is 1 < x < 5. */
const between =
  (cmp: (a: number, b: number) => boolean): Operator =>
  (args, data, ev) => {
    const [a, b, c] = args.map((x) => num(ev(x, data)));
    return args.length === 3 ? cmp(a!, b!) && cmp(b!, c!) : cmp(a!, b!);
  };

const binary =
  (f: (a: unknown, b: unknown) => unknown): Operator =>
  (args, data, ev) =>
    f(ev(args[0], data), ev(args[1], data));

/** some / all / none: the second argument is evaluated against each element. */
const quantifier =
  (f: (items: unknown[], test: (item: unknown) => boolean) => boolean): Operator =>
  (args, data, ev) => {
    const items = ev(args[0], data);
    if (!Array.isArray(items)) return false;
    return f(items, (item) => truthy(ev(args[1], item)));
  };

function ifThen(args: readonly Logic[], data: unknown, ev: Evaluate): unknown {
  let i = 0;
  for (; i + 1 < args.length; i += 2) if (truthy(ev(args[i], data))) return ev(args[i + 1], data);
  return i < args.length ? ev(args[i], data) : null;
}

const OPERATORS: Readonly<Record<string, Operator>> = {
  '?:': (args, data, ev) => ifThen(args, data, ev),
  var: (args, data, ev) => {
    const found = lookup(data, ev(args[0], data));
    return found === undefined && args.length > 1 ? ev(args[1], data) : found;
  },
  missing: (args, data, ev) => {
    const keys =
      args.length === 1 && Array.isArray(ev(args[0], data)) ? (ev(args[0], data) as unknown[]) : args;
    return keys
      .map((k) => ev(k, data))
      .filter((k) => {
        const v = lookup(data, k);
        return v === undefined || v === null || v === '';
      });
  },
  '==': binary(loose),
  '===': binary((a, b) => a === b),
  '!=': binary((a, b) => !loose(a, b)),
  '!==': binary((a, b) => a !== b),
  '>': binary((a, b) => num(a) > num(b)),
  '>=': binary((a, b) => num(a) >= num(b)),
  '<': between((a, b) => a < b),
  '<=': between((a, b) => a <= b),
  '!': (args, data, ev) => !truthy(ev(args[0], data)),
  '!!': (args, data, ev) => truthy(ev(args[0], data)),
  and: (args, data, ev) => {
    let value: unknown = true;
    for (const a of args) {
      value = ev(a, data);
      if (!truthy(value)) return value;
    }
    return value;
  },
  or: (args, data, ev) => {
    let value: unknown = false;
    for (const a of args) {
      value = ev(a, data);
      if (truthy(value)) return value;
    }
    return value;
  },
  if: (args, data, ev) => ifThen(args, data, ev),
  in: binary((needle, haystack) =>
    Array.isArray(haystack)
      ? haystack.includes(needle)
      : typeof haystack === 'string' && haystack.includes(String(needle)),
  ),
  some: quantifier((items, test) => items.some(test)),
  all: quantifier((items, test) => items.length > 0 && items.every(test)),
  none: quantifier((items, test) => !items.some(test)),
};

/** `{"op": args}` with exactly one key is an operation; anything else is a literal. */
function operation(logic: Logic): [string, Logic[]] | undefined {
  if (logic === null || typeof logic !== 'object' || Array.isArray(logic)) return undefined;
  const keys = Object.keys(logic);
  if (keys.length !== 1) return undefined;
  const op = keys[0]!;
  const raw = (logic as Record<string, unknown>)[op];
  return [op, Array.isArray(raw) ? raw : [raw]];
}

/** Throws JsonLogicError naming the first unknown operator or an over-deep rule. */
export function checkJsonLogic(logic: Logic, path = '', depth = 0): void {
  if (depth > MAX_DEPTH) throw new JsonLogicError(`nested deeper than ${MAX_DEPTH} at ${path || '/'}`);
  if (Array.isArray(logic)) {
    logic.forEach((item, i) => checkJsonLogic(item, `${path}/${i}`, depth + 1));
    return;
  }
  const op = operation(logic);
  if (!op) {
    if (logic !== null && typeof logic === 'object')
      throw new JsonLogicError(`an object at ${path || '/'} must have exactly one key, the operator`);
    return;
  }
  const [name, args] = op;
  if (!Object.hasOwn(OPERATORS, name))
    throw new JsonLogicError(`unknown operator "${name}" at ${path || '/'}`);
  args.forEach((a, i) => checkJsonLogic(a, `${path}/${name}/${i}`, depth + 1));
}

export function evaluateJsonLogic(logic: Logic, data: unknown): unknown {
  const evaluate: Evaluate = (l, d) => {
    if (Array.isArray(l)) return l.map((item) => evaluate(item, d));
    const op = operation(l);
    if (!op) return l;
    const [name, args] = op;
    const operator = Object.hasOwn(OPERATORS, name) ? OPERATORS[name] : undefined;
    if (!operator) throw new JsonLogicError(`unknown operator "${name}"`);
    return operator(args, d, evaluate);
  };
  return evaluate(logic, data);
}

/** A trigger's constraints pass when absent (null, or an empty object) or truthy. */
export function constraintsPass(constraints: unknown, data: unknown): boolean {
  if (constraints === null || constraints === undefined) return true;
  if (typeof constraints === 'object' && !Array.isArray(constraints) && Object.keys(constraints).length === 0)
    return true;
  return truthy(evaluateJsonLogic(constraints, data));
}
