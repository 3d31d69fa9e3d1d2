/**
 * Save-time checks of a workflow's blocks, on the model: step ids (referable, unique), what each step
 * type's input must hold, the limits, and that every `{{step_id.output...}}` names a step that can have
 * run before it (an earlier step, or one in an earlier branch; never a later one, a sibling branch or
 * itself). Issue paths are JSON Pointers into the definition (`/blocks/0/then/1/input`); the shape a
 * block arrives in is checked where it is decoded.
 */
import { AppError } from '../errors.ts';
import { parseTemplate, referencesInTree } from '../templates/index.ts';
import { CONDITION_OPERATORS, OPERATOR_NAMES } from './conditions.ts';
import { CODE_SOURCE_MAX_LENGTH } from '../actions/kinds/code.ts';
import { WORKFLOW_LIMITS, type Block, type StepType } from './model.ts';

export interface WorkflowIssue {
  path: string;
  message: string;
}

const STEP_ID = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** What a step id must be: a template can name it (`{{id.output}}`), and it is not the trigger's. */
export const STEP_ID_RULE =
  'id must be letters, digits and underscores (1 to 64, not starting with a digit), not "trigger"';
export const isStepId = (id: unknown): id is string =>
  typeof id === 'string' && STEP_ID.test(id) && id !== 'trigger';
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
  /** Steps whose error blocks are being walked: their error is known there, their output is not. */
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

function collectIds(blocks: readonly Block[], into: Set<string>, depth = 0): void {
  if (depth > WORKFLOW_LIMITS.depth) return;
  for (const block of blocks) {
    into.add(block.id);
    if (block.kind === 'step') {
      if (block.onError) collectIds(block.onError, into, depth + 1);
    } else {
      collectIds(block.then, into, depth + 1);
      collectIds(block.else, into, depth + 1);
    }
  }
}

/** Returns the ids that may have run once `blocks` finished. */
function walk(
  blocks: readonly Block[],
  path: string,
  before: Set<string>,
  depth: number,
  w: Walk,
): Set<string> {
  const seen = new Set(before);
  if (depth > WORKFLOW_LIMITS.depth) {
    w.issues.push({ path, message: `if-else blocks nest at most ${WORKFLOW_LIMITS.depth} deep` });
    return seen;
  }
  blocks.forEach((block, i) => {
    const at = `${path}/${i}`;
    if (++w.count > WORKFLOW_LIMITS.blocks) {
      if (w.count === WORKFLOW_LIMITS.blocks + 1)
        w.issues.push({ path: at, message: `a workflow has at most ${WORKFLOW_LIMITS.blocks} blocks` });
      return;
    }
    const { id } = block;
    if (!isStepId(id)) return void w.issues.push({ path: `${at}/id`, message: STEP_ID_RULE });
    if (w.ids.has(id))
      return void w.issues.push({ path: `${at}/id`, message: `step id "${id}" is used twice` });
    w.ids.add(id);
    if (block.kind === 'step') {
      const problem = INPUT_CHECKS[block.type](block.input);
      if (problem) w.issues.push({ path: `${at}/input`, message: `step "${id}": ${problem}` });
      checkReferences(references(block.input, `${at}/input`, w.issues), seen, id, `${at}/input`, w);
      if (block.onError !== undefined) {
        w.failing.add(id);
        const handled = walk(block.onError, `${at}/onError`, seen, depth + 1, w);
        w.failing.delete(id);
        for (const step of handled) seen.add(step);
      }
      seen.add(id);
      return;
    }
    const { operator, left, right } = block.condition;
    if (!CONDITION_OPERATORS[operator]) {
      w.issues.push({
        path: `${at}/condition/operator`,
        message: `if-else "${id}": the condition's operator must be one of ${OPERATOR_NAMES.join(', ')}`,
      });
    } else {
      const refs = references([left, right], `${at}/condition`, w.issues);
      checkReferences(refs, seen, id, `${at}/condition`, w);
    }
    const then = walk(block.then, `${at}/then`, seen, depth + 1, w);
    const otherwise = walk(block.else, `${at}/else`, seen, depth + 1, w);
    for (const step of [...then, ...otherwise]) seen.add(step);
  });
  return seen;
}

/** The issues of a workflow's blocks; empty when they may be saved. */
export function checkBlocks(blocks: readonly Block[]): WorkflowIssue[] {
  const all = new Set<string>();
  collectIds(blocks, all);
  const w: Walk = { issues: [], ids: new Set(), all, failing: new Set(), count: 0 };
  walk(blocks, '/blocks', new Set(), 0, w);
  return w.issues;
}

/** A 400 naming the first issue (all of them in details), if the blocks have any. */
export function assertBlocks(blocks: readonly Block[]): void {
  const issues = checkBlocks(blocks);
  const first = issues[0];
  if (first)
    throw new AppError('VALIDATION_FAILED', first.message, { path: first.path, details: { issues } });
}
