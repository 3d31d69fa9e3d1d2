/**
 * Save-time checks of a workflow's blocks: shapes per step type, unique step ids, known condition
 * operators, limits, and that every `{{step_id.output...}}` names a step that can have run before it
 * (an earlier step, or one in an earlier branch; never a later one, a sibling branch or itself).
 */
import { AppError } from '../errors.ts';
import { parseTemplate, referencesInTree } from '../templates/index.ts';
import { CONDITION_OPERATORS, OPERATOR_NAMES } from './conditions.ts';
import { CODE_SOURCE_MAX_LENGTH } from '../actions/kinds/code.ts';
import { STEP_TYPES, WORKFLOW_LIMITS, type Block, type StepType } from './model.ts';

export interface WorkflowIssue {
  path: string;
  message: string;
}

const STEP_ID = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Per step type: what its `input` must hold. A row per type, no switch. */
const INPUT_CHECKS: Readonly<Record<StepType, (input: Record<string, unknown>) => string | undefined>> = {
  action: (input) =>
    typeof input.action_id !== 'string' || input.action_id === ''
      ? 'input.action_id must be the id of an action'
      : input.inputs !== undefined && !isObject(input.inputs)
        ? 'input.inputs must be an object'
        : undefined,
  http: (input) =>
    typeof input.url !== 'string' || input.url === ''
      ? 'input.url must be a URL'
      : input.method !== undefined && typeof input.method !== 'string'
        ? 'input.method must be an HTTP method'
        : undefined,
  code: (input) =>
    typeof input.source !== 'string' || input.source.trim() === ''
      ? 'input.source must be JavaScript (the body of an async function)'
      : input.source.length > CODE_SOURCE_MAX_LENGTH
        ? `input.source is longer than ${CODE_SOURCE_MAX_LENGTH} characters`
        : undefined,
  set: (input) => (isObject(input.values) ? undefined : 'input.values must be an object'),
  delay: (input) =>
    typeof input.seconds !== 'number' ||
    !Number.isFinite(input.seconds) ||
    input.seconds < 0 ||
    input.seconds > WORKFLOW_LIMITS.delaySeconds
      ? `input.seconds must be a number from 0 to ${WORKFLOW_LIMITS.delaySeconds}`
      : undefined,
};

const between = (value: unknown, min: number, max: number): boolean =>
  typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

/** timeout_seconds and retry of a step: what is wrong with them, if anything. */
function policyProblem(block: Record<string, unknown>): { path: string; message: string } | undefined {
  const { timeoutSeconds, maxAttempts, backoffSeconds } = WORKFLOW_LIMITS;
  if (block.timeout_seconds !== undefined && !between(block.timeout_seconds, 1, timeoutSeconds))
    return {
      path: '/timeout_seconds',
      message: `timeout_seconds must be a number from 1 to ${timeoutSeconds}`,
    };
  if (block.retry === undefined) return undefined;
  if (!isObject(block.retry))
    return { path: '/retry', message: 'retry must be an object {max_attempts, backoff_seconds}' };
  const { max_attempts, backoff_seconds, ...rest } = block.retry;
  const unknown = Object.keys(rest)[0];
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
  return undefined;
}

/** Where references come from; templates that do not parse are reported as such. */
function references(value: unknown, path: string, issues: WorkflowIssue[]): string[] {
  try {
    for (const text of stringsIn(value)) parseTemplate(text);
    return referencesInTree(value);
  } catch (error) {
    issues.push({ path, message: (error as Error).message });
    return [];
  }
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (isObject(value)) return Object.values(value).flatMap(stringsIn);
  return [];
}

interface Walk {
  issues: WorkflowIssue[];
  ids: Set<string>;
  /** Every step id in the tree, to tell "later" apart from "unknown" in messages. */
  all: ReadonlySet<string>;
  /** Steps whose on_error blocks are being walked: their error is known there, their output is not. */
  failing: Set<string>;
  count: number;
}

function checkReferences(refs: string[], before: ReadonlySet<string>, id: string, path: string, w: Walk) {
  for (const ref of refs) {
    const [head, second] = ref.split('.');
    if (head === 'trigger') continue;
    if (head === undefined || !w.all.has(head)) {
      w.issues.push({
        path,
        message: `{{${ref}}} in step "${id}" names no step of this workflow (nor trigger)`,
      });
    } else if (second === 'error' && (before.has(head) || w.failing.has(head))) {
      continue;
    } else if (w.failing.has(head)) {
      w.issues.push({
        path,
        message: `{{${ref}}} in step "${id}": step "${head}" failed when its on_error blocks run; use {{${head}.error.message}}`,
      });
    } else if (!before.has(head)) {
      w.issues.push({
        path,
        message: `{{${ref}}} in step "${id}" refers to step "${head}", which cannot have run before it`,
      });
    } else if (second !== 'output') {
      w.issues.push({
        path,
        message: `{{${ref}}} in step "${id}": use {{${head}.output...}} (or {{${head}.error...}})`,
      });
    }
  }
}

function collectIds(blocks: unknown, into: Set<string>, depth = 0): void {
  if (!Array.isArray(blocks) || depth > WORKFLOW_LIMITS.depth) return;
  for (const block of blocks) {
    if (!isObject(block)) continue;
    if (typeof block.id === 'string') into.add(block.id);
    collectIds(block.on_error, into, depth + 1);
    if (isObject(block.branches)) {
      collectIds(block.branches.then, into, depth + 1);
      collectIds(block.branches.else, into, depth + 1);
    }
  }
}

/** Returns the ids that may have run once `blocks` finished. */
function walk(blocks: unknown, path: string, before: Set<string>, depth: number, w: Walk): Set<string> {
  const seen = new Set(before);
  if (!Array.isArray(blocks)) {
    w.issues.push({ path, message: 'must be an array of blocks' });
    return seen;
  }
  if (depth > WORKFLOW_LIMITS.depth) {
    w.issues.push({ path, message: `if-else blocks nest at most ${WORKFLOW_LIMITS.depth} deep` });
    return seen;
  }
  blocks.forEach((block: unknown, i) => {
    const at = `${path}/${i}`;
    if (++w.count > WORKFLOW_LIMITS.blocks) {
      if (w.count === WORKFLOW_LIMITS.blocks + 1)
        w.issues.push({ path: at, message: `a workflow has at most ${WORKFLOW_LIMITS.blocks} blocks` });
      return;
    }
    if (!isObject(block)) return void w.issues.push({ path: at, message: 'a block must be an object' });
    const id = block.id;
    if (typeof id !== 'string' || !STEP_ID.test(id) || id === 'trigger') {
      w.issues.push({
        path: `${at}/id`,
        message:
          'id must be letters, digits and underscores (1 to 64, not starting with a digit), not "trigger"',
      });
      return;
    }
    if (w.ids.has(id))
      return void w.issues.push({ path: `${at}/id`, message: `step id "${id}" is used twice` });
    w.ids.add(id);
    if (block.$kind === 'Action') {
      const type = block.type as StepType;
      if (!STEP_TYPES.includes(type)) {
        w.issues.push({
          path: `${at}/type`,
          message: `step "${id}": type must be one of ${STEP_TYPES.join(', ')}`,
        });
        return;
      }
      if (!isObject(block.input))
        return void w.issues.push({ path: `${at}/input`, message: `step "${id}": input must be an object` });
      const problem = INPUT_CHECKS[type](block.input);
      if (problem) w.issues.push({ path: `${at}/input`, message: `step "${id}": ${problem}` });
      const policy = policyProblem(block);
      if (policy) w.issues.push({ path: `${at}${policy.path}`, message: `step "${id}": ${policy.message}` });
      checkReferences(references(block.input, `${at}/input`, w.issues), seen, id, `${at}/input`, w);
      if (block.on_error !== undefined) {
        w.failing.add(id);
        const handled = walk(block.on_error, `${at}/on_error`, seen, depth + 1, w);
        w.failing.delete(id);
        for (const step of handled) seen.add(step);
      }
      seen.add(id);
    } else if (block.$kind === 'Block' && block.type === 'if-else') {
      const condition = isObject(block.inputs) ? block.inputs.condition : undefined;
      if (
        !isObject(condition) ||
        typeof condition.operatorName !== 'string' ||
        !CONDITION_OPERATORS[condition.operatorName]
      ) {
        w.issues.push({
          path: `${at}/inputs/condition/operatorName`,
          message: `if-else "${id}": condition.operatorName must be one of ${OPERATOR_NAMES.join(', ')}`,
        });
      } else {
        const refs = references([condition.left, condition.right], `${at}/inputs/condition`, w.issues);
        checkReferences(refs, seen, id, `${at}/inputs/condition`, w);
      }
      const branches = isObject(block.branches) ? block.branches : {};
      const then = walk(branches.then ?? [], `${at}/branches/then`, seen, depth + 1, w);
      const otherwise = walk(branches.else ?? [], `${at}/branches/else`, seen, depth + 1, w);
      for (const step of [...then, ...otherwise]) seen.add(step);
    } else {
      w.issues.push({
        path: at,
        message: `block "${id}": use {"$kind": "Action"} or {"$kind": "Block", "type": "if-else"}`,
      });
    }
  });
  return seen;
}

/** The issues of a blocks list; empty when it may be saved. */
export function checkBlocks(blocks: unknown): WorkflowIssue[] {
  const all = new Set<string>();
  collectIds(blocks, all);
  const w: Walk = { issues: [], ids: new Set(), all, failing: new Set(), count: 0 };
  walk(blocks, '/workflow_blocks', new Set(), 0, w);
  return w.issues;
}

/** The blocks, checked, or a 400 naming the first problem (all of them in details). */
export function parseBlocks(blocks: unknown): Block[] {
  const issues = checkBlocks(blocks);
  const first = issues[0];
  if (first) {
    throw new AppError('VALIDATION_FAILED', first.message, { path: first.path, details: { issues } });
  }
  return normalizeBlocks(blocks as Block[]);
}

/** Fills defaults (empty branches) so the stored tree has one shape. */
function normalizeBlocks(blocks: Block[]): Block[] {
  return blocks.map((block) =>
    block.$kind === 'Block'
      ? {
          ...block,
          branches: {
            then: normalizeBlocks(block.branches?.then ?? []),
            else: normalizeBlocks(block.branches?.else ?? []),
          },
        }
      : block.on_error
        ? { ...block, on_error: normalizeBlocks(block.on_error) }
        : block,
  );
}
