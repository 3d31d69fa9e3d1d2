/**
 * OpenCX's workflow blocks ⇄ the workflow model. The wire shape is the one `/v1/workflows` documents too, so
 * the native routes and this dialect share this codec:
 *
 * | wire | model |
 * |---|---|
 * | `{"$kind": "Action", "id", "type", "name", "input"}` | a step: `kind: 'step'` |
 * | `timeout_seconds`, `retry: {max_attempts, backoff_seconds}`, `on_error` | timeoutSeconds, retry {maxAttempts, backoffSeconds}, onError |
 * | `{"$kind": "Block", "type": "if-else", "inputs": {"condition": {"operatorName", "left", "right"}}}` | `kind: 'if-else'`, condition {operator, left, right} |
 * | `branches: {then, else}` | then, else |
 * | any other field of a block, of its `inputs` or of its condition | `extra`, answered back as given |
 *
 * Decoding checks the shape (and bounds the tree before walking it); the use case checks the rest of the
 * rules on the model, and its issue paths are put back in the wire's terms here (wirePath).
 */
import { AppError, isAppError } from '../../../core/errors.ts';
import { CONDITION_OPERATORS, OPERATOR_NAMES } from '../../../core/workflows/conditions.ts';
import {
  STEP_TYPES,
  WORKFLOW_LIMITS,
  type Block,
  type IfElseBlock,
  type RetryPolicy,
  type StepBlock,
  type StepType,
} from '../../../core/workflows/model.ts';
import { STEP_ID_RULE, checkBlocks, type WorkflowIssue } from '../../../core/workflows/validate.ts';

type Wire = Record<string, unknown>;

const ROOT = '/workflow_blocks';
const STEP_FIELDS = ['$kind', 'id', 'type', 'name', 'input', 'timeout_seconds', 'retry', 'on_error'];
const IF_ELSE_FIELDS = ['$kind', 'type', 'id', 'name', 'inputs', 'branches'];
const CONDITION_FIELDS = ['operatorName', 'left', 'right'];

const isObject = (value: unknown): value is Wire =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const between = (value: unknown, min: number, max: number): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

/** The fields of `value` other than `taken`; undefined when there are none. */
function rest(value: Wire, taken: readonly string[]): Wire | undefined {
  const left = Object.entries(value).filter(([key]) => !taken.includes(key));
  return left.length > 0 ? Object.fromEntries(left) : undefined;
}

/** The fields the model takes from a block: a `name` that is not text stays with the extra fields. */
const fieldsTaken = (fields: readonly string[], block: Wire): readonly string[] =>
  typeof block.name === 'string' ? fields : fields.filter((field) => field !== 'name');

interface Decoding {
  issues: WorkflowIssue[];
  count: number;
}

/** timeout_seconds and retry of a step, as the model has them, or what is wrong with them. */
function policyOf(
  block: Wire,
): { timeoutSeconds?: number; retry?: RetryPolicy } | { path: string; message: string } {
  const { timeoutSeconds, maxAttempts, backoffSeconds } = WORKFLOW_LIMITS;
  if (block.timeout_seconds !== undefined && !between(block.timeout_seconds, 1, timeoutSeconds))
    return {
      path: '/timeout_seconds',
      message: `timeout_seconds must be a number from 1 to ${timeoutSeconds}`,
    };
  const timeout =
    block.timeout_seconds === undefined ? {} : { timeoutSeconds: block.timeout_seconds as number };
  if (block.retry === undefined) return timeout;
  if (!isObject(block.retry))
    return { path: '/retry', message: 'retry must be an object {max_attempts, backoff_seconds}' };
  const { max_attempts, backoff_seconds, ...other } = block.retry;
  const unknown = Object.keys(other)[0];
  if (unknown !== undefined) return { path: `/retry/${unknown}`, message: `retry has no field "${unknown}"` };
  if (!Number.isInteger(max_attempts) || !between(max_attempts, 1, maxAttempts))
    return {
      path: '/retry/max_attempts',
      message: `retry.max_attempts must be an integer from 1 to ${maxAttempts}`,
    };
  if (backoff_seconds !== undefined && !between(backoff_seconds, 0, backoffSeconds))
    return {
      path: '/retry/backoff_seconds',
      message: `retry.backoff_seconds must be a number from 0 to ${backoffSeconds}`,
    };
  const retry: RetryPolicy = { maxAttempts: max_attempts as number };
  if (backoff_seconds !== undefined) retry.backoffSeconds = backoff_seconds as number;
  return { ...timeout, retry };
}

function decodeStep(block: Wire, id: string, at: string, depth: number, d: Decoding): StepBlock | undefined {
  const type = block.type as StepType;
  if (!STEP_TYPES.includes(type)) {
    d.issues.push({
      path: `${at}/type`,
      message: `step "${id}": type must be one of ${STEP_TYPES.join(', ')}`,
    });
    return undefined;
  }
  if (!isObject(block.input)) {
    d.issues.push({ path: `${at}/input`, message: `step "${id}": input must be an object` });
    return undefined;
  }
  const policy = policyOf(block);
  if ('path' in policy)
    d.issues.push({ path: `${at}${policy.path}`, message: `step "${id}": ${policy.message}` });
  const onError =
    block.on_error === undefined ? undefined : decodeList(block.on_error, `${at}/on_error`, depth + 1, d);
  if ('path' in policy) return undefined;
  const step: StepBlock = { kind: 'step', id, type, input: block.input, ...policy };
  if (typeof block.name === 'string') step.name = block.name;
  if (onError) step.onError = onError;
  const extra = rest(block, fieldsTaken(STEP_FIELDS, block));
  if (extra) step.extra = extra;
  return step;
}

function decodeIfElse(
  block: Wire,
  id: string,
  at: string,
  depth: number,
  d: Decoding,
): IfElseBlock | undefined {
  const inputs = isObject(block.inputs) ? block.inputs : undefined;
  const condition = inputs?.condition;
  if (
    !isObject(condition) ||
    typeof condition.operatorName !== 'string' ||
    !CONDITION_OPERATORS[condition.operatorName]
  ) {
    d.issues.push({
      path: `${at}/inputs/condition/operatorName`,
      message: `if-else "${id}": condition.operatorName must be one of ${OPERATOR_NAMES.join(', ')}`,
    });
  }
  const branches = isObject(block.branches) ? block.branches : {};
  const then = decodeList(branches.then ?? [], `${at}/branches/then`, depth + 1, d);
  const otherwise = decodeList(branches.else ?? [], `${at}/branches/else`, depth + 1, d);
  if (!isObject(condition) || typeof condition.operatorName !== 'string' || !inputs) return undefined;
  const decoded: IfElseBlock = {
    kind: 'if-else',
    id,
    condition: { operator: condition.operatorName, left: condition.left },
    then,
    else: otherwise,
  };
  if ('right' in condition) decoded.condition.right = condition.right;
  if (typeof block.name === 'string') decoded.name = block.name;
  // what the block, its inputs and its condition carry beyond the model
  const extra: Wire = rest(block, fieldsTaken(IF_ELSE_FIELDS, block)) ?? {};
  const inputsExtra: Wire = rest(inputs, ['condition']) ?? {};
  const conditionExtra = rest(condition, CONDITION_FIELDS);
  if (conditionExtra) inputsExtra.condition = conditionExtra;
  if (Object.keys(inputsExtra).length > 0) extra.inputs = inputsExtra;
  if (Object.keys(extra).length > 0) decoded.extra = extra;
  return decoded;
}

function decodeList(blocks: unknown, path: string, depth: number, d: Decoding): Block[] {
  if (!Array.isArray(blocks)) {
    d.issues.push({ path, message: 'must be an array of blocks' });
    return [];
  }
  if (depth > WORKFLOW_LIMITS.depth) {
    d.issues.push({ path, message: `if-else blocks nest at most ${WORKFLOW_LIMITS.depth} deep` });
    return [];
  }
  const decoded: Block[] = [];
  blocks.forEach((block: unknown, i) => {
    const at = `${path}/${i}`;
    if (++d.count > WORKFLOW_LIMITS.blocks) {
      if (d.count === WORKFLOW_LIMITS.blocks + 1)
        d.issues.push({ path: at, message: `a workflow has at most ${WORKFLOW_LIMITS.blocks} blocks` });
      return;
    }
    if (!isObject(block)) return void d.issues.push({ path: at, message: 'a block must be an object' });
    const id = block.id;
    if (typeof id !== 'string') return void d.issues.push({ path: `${at}/id`, message: STEP_ID_RULE });
    const one =
      block.$kind === 'Action'
        ? decodeStep(block, id, at, depth, d)
        : block.$kind === 'Block' && block.type === 'if-else'
          ? decodeIfElse(block, id, at, depth, d)
          : void d.issues.push({
              path: at,
              message: `block "${id}": use {"$kind": "Action"} or {"$kind": "Block", "type": "if-else"}`,
            });
    if (one) decoded.push(one);
  });
  return decoded;
}

/** The wire's blocks as the model, or the problems of their shape (paths in the wire's terms). */
export function decodeBlocks(wire: unknown): { blocks: Block[]; issues: WorkflowIssue[] } {
  const decoding: Decoding = { issues: [], count: 0 };
  const blocks = decodeList(wire, ROOT, 0, decoding);
  return { blocks, issues: decoding.issues };
}

/** The wire's blocks as the model, or a 400 naming the first problem of their shape (all in details). */
export function parseBlocks(wire: unknown): Block[] {
  const { blocks, issues } = decodeBlocks(wire);
  const first = issues[0];
  if (first)
    throw new AppError('VALIDATION_FAILED', first.message, { path: first.path, details: { issues } });
  return blocks;
}

/** Every problem of the wire's blocks, their shape's and then the model's rules', in the wire's terms. */
export function checkWireBlocks(wire: unknown): WorkflowIssue[] {
  const { blocks, issues } = decodeBlocks(wire);
  if (issues.length > 0) return issues;
  return checkBlocks(blocks).map((issue) => ({ ...issue, path: wirePath(issue.path) }));
}

/** Puts the fields of `extra` back into `into`, merging objects both have. */
function withExtra(into: Wire, extra: Wire | undefined): Wire {
  if (!extra) return into;
  for (const [key, value] of Object.entries(extra)) {
    const current = into[key];
    into[key] = isObject(current) && isObject(value) ? withExtra({ ...current }, value) : value;
  }
  return into;
}

function encodeBlock(block: Block): Wire {
  const name = block.name === undefined ? {} : { name: block.name };
  if (block.kind === 'step') {
    const wire: Wire = { $kind: 'Action', id: block.id, type: block.type, ...name, input: block.input };
    if (block.timeoutSeconds !== undefined) wire.timeout_seconds = block.timeoutSeconds;
    if (block.retry)
      wire.retry = {
        max_attempts: block.retry.maxAttempts,
        ...(block.retry.backoffSeconds === undefined ? {} : { backoff_seconds: block.retry.backoffSeconds }),
      };
    if (block.onError) wire.on_error = encodeBlocks(block.onError);
    return withExtra(wire, block.extra);
  }
  const { operator, left, right } = block.condition;
  const wire: Wire = {
    $kind: 'Block',
    type: 'if-else',
    id: block.id,
    ...name,
    inputs: { condition: { operatorName: operator, left, ...('right' in block.condition ? { right } : {}) } },
    branches: { then: encodeBlocks(block.then), else: encodeBlocks(block.else) },
  };
  return withExtra(wire, block.extra);
}

/** The model's blocks on the wire. */
export function encodeBlocks(blocks: readonly Block[]): Wire[] {
  return blocks.map(encodeBlock);
}

const BRANCH_LISTS: Readonly<Record<string, string[]>> = {
  then: ['branches', 'then'],
  else: ['branches', 'else'],
  onError: ['on_error'],
};

/**
 * A path into the model's definition (`/blocks/0/then/1/input/url`) in the wire's terms
 * (`/workflow_blocks/0/branches/then/1/input/url`); a path outside the blocks is returned as is.
 */
export function wirePath(path: string): string {
  const segments = path.split('/').slice(1);
  if (segments[0] !== 'blocks') return path;
  const out = ['workflow_blocks'];
  let i = 1;
  // the list index, then either a nested list (and its index) or a field of the block
  while (i < segments.length) {
    out.push(segments[i] ?? '');
    const field = segments[i + 1];
    if (field === undefined) break;
    const list = BRANCH_LISTS[field];
    if (list) {
      out.push(...list);
      i += 2;
      continue;
    }
    if (field === 'condition') {
      out.push('inputs', 'condition');
      if (segments[i + 2] === 'operator') out.push('operatorName', ...segments.slice(i + 3));
      else out.push(...segments.slice(i + 2));
    } else out.push(...segments.slice(i + 1));
    break;
  }
  return `/${out.join('/')}`;
}

/** Runs `work`, putting the paths of a validation error about the blocks in the wire's terms. */
export async function inWireTerms<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isAppError(error) || error.code !== 'VALIDATION_FAILED' || !error.path?.startsWith('/blocks'))
      throw error;
    const issues = error.details?.issues;
    throw new AppError(error.code, error.message, {
      path: wirePath(error.path),
      details: {
        ...error.details,
        ...(Array.isArray(issues)
          ? { issues: (issues as WorkflowIssue[]).map((issue) => ({ ...issue, path: wirePath(issue.path) })) }
          : {}),
      },
    });
  }
}
