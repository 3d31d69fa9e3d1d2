/**
 * Where a run goes next. The tree is walked from the start with the committed state: finished steps are
 * passed over, each if-else is decided from earlier outputs (deterministic, so deciding it again after a
 * crash gives the same branch), and the first unfinished step is the next one. A run therefore resumes
 * at its first unfinished step and never runs a finished one again.
 */
import { renderJson } from '../templates/index.ts';
import { evaluateCondition } from './conditions.ts';
import type { Block, IfElseBlock, StepBlock } from './model.ts';
import { runLookup, type RunScope } from './references.ts';

export interface Decision {
  block: IfElseBlock;
  left: unknown;
  right: unknown;
  result: boolean;
}

export interface NextStep {
  /** If-else blocks decided on the way that are not yet recorded. */
  decisions: Decision[];
  /** The next step to run; undefined when the run is complete. */
  step: StepBlock | undefined;
}

export function decide(block: IfElseBlock, scope: RunScope): Decision {
  const lookup = runLookup(scope, false);
  const { operator, left, right } = block.condition;
  const l = renderJson(left ?? null, lookup, `${block.id}.left`);
  const r = renderJson(right ?? null, lookup, `${block.id}.right`);
  return { block, left: l, right: r, result: evaluateCondition(operator, l, r) };
}

/**
 * `finished`: steps that succeeded, or failed with error blocks (in `scope.errors`), whose blocks are
 * then walked in their place.
 */
export function nextStep(blocks: readonly Block[], scope: RunScope, finished: ReadonlySet<string>): NextStep {
  const decisions: Decision[] = [];
  const visit = (list: readonly Block[]): StepBlock | undefined => {
    for (const block of list) {
      if (block.kind === 'step') {
        if (!finished.has(block.id)) return block;
        const handler = scope.errors.has(block.id) ? visit(block.onError ?? []) : undefined;
        if (handler) return handler;
        continue;
      }
      const decision = decide(block, scope);
      if (!finished.has(block.id)) decisions.push(decision);
      const found = visit(decision.result ? block.then : block.else);
      if (found) return found;
    }
    return undefined;
  };
  const step = visit(blocks);
  return { decisions, step };
}
