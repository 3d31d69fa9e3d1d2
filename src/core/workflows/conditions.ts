/**
 * If-else condition operators: a table, one row per operator, so adding one touches nothing else. Operands
 * arrive rendered (typed values from `{{...}}`); comparisons coerce numeric strings so a value from a
 * JSON response and a literal in the definition compare as a person would expect.
 */
import type { Condition } from './model.ts';

type Operator = (left: unknown, right: unknown) => boolean;

const asNumber = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
};

const asText = (value: unknown): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);

function equals(left: unknown, right: unknown): boolean {
  const l = asNumber(left);
  const r = asNumber(right);
  if (l !== undefined && r !== undefined) return l === r;
  if (typeof left === 'boolean' || typeof right === 'boolean') return asText(left) === asText(right);
  return asText(left) === asText(right);
}

function contains(left: unknown, right: unknown): boolean {
  if (Array.isArray(left)) return left.some((item) => equals(item, right));
  if (left !== null && typeof left === 'object') return Object.hasOwn(left, asText(right));
  return asText(left).includes(asText(right));
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

const compare =
  (test: (l: number, r: number) => boolean): Operator =>
  (left, right) => {
    const l = asNumber(left);
    const r = asNumber(right);
    return l !== undefined && r !== undefined && test(l, r);
  };

export const CONDITION_OPERATORS: Readonly<Record<string, { unary: boolean; test: Operator }>> = {
  equals: { unary: false, test: equals },
  not_equals: { unary: false, test: (l, r) => !equals(l, r) },
  contains: { unary: false, test: contains },
  not_contains: { unary: false, test: (l, r) => !contains(l, r) },
  starts_with: { unary: false, test: (l, r) => asText(l).startsWith(asText(r)) },
  ends_with: { unary: false, test: (l, r) => asText(l).endsWith(asText(r)) },
  greater_than: { unary: false, test: compare((l, r) => l > r) },
  greater_than_or_equal: { unary: false, test: compare((l, r) => l >= r) },
  less_than: { unary: false, test: compare((l, r) => l < r) },
  less_than_or_equal: { unary: false, test: compare((l, r) => l <= r) },
  is_empty: { unary: true, test: (l) => isEmpty(l) },
  is_not_empty: { unary: true, test: (l) => !isEmpty(l) },
  is_true: { unary: true, test: (l) => l === true || asText(l).toLowerCase() === 'true' },
  is_false: { unary: true, test: (l) => l === false || asText(l).toLowerCase() === 'false' },
};

export const OPERATOR_NAMES = Object.keys(CONDITION_OPERATORS);

/** Evaluates a condition whose operands are already rendered. The operator was checked at save time. */
export function evaluateCondition(name: Condition['operator'], left: unknown, right: unknown): boolean {
  const operator = CONDITION_OPERATORS[name];
  if (!operator) throw new Error(`Unknown condition operator "${name}"`);
  return operator.test(left, right);
}
