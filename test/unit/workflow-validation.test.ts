/**
 * Workflow definitions: save-time checks of references and conditions (on blocks in their wire shape,
 * decoded by the codec the routes use), and the condition operator table.
 */
import { describe, expect, it } from 'vitest';
import { evaluateCondition } from '../../src/core/workflows/conditions.ts';
import { nextStep } from '../../src/core/workflows/plan.ts';
import { checkWireBlocks as checkBlocks, parseBlocks } from '../../src/http/dialects/opencx/blocks.ts';

const set = (id: string, values: Record<string, unknown> = { a: 1 }) => ({
  $kind: 'Action',
  id,
  type: 'set',
  name: id,
  input: { values },
});
const ifElse = (
  id: string,
  left: unknown,
  then: unknown[],
  otherwise: unknown[] = [],
  operatorName = 'equals',
) => ({
  $kind: 'Block',
  type: 'if-else',
  id,
  inputs: { condition: { operatorName, left, right: 'x' } },
  branches: { then, else: otherwise },
});

describe('workflow references', () => {
  it.each([
    ['an earlier step', [set('a'), set('b', { v: '{{a.output.a}}' })]],
    ['the trigger', [set('a', { v: '{{trigger.order.id}}' })]],
    [
      'a step in an earlier branch, after the if-else',
      [ifElse('c', '{{trigger.x}}', [set('a')]), set('b', { v: '{{a.output.a}}' })],
    ],
    [
      'an outer step from inside a branch',
      [set('a'), ifElse('c', '{{a.output.a}}', [set('b', { v: '{{a.output}}' })])],
    ],
  ])('accepts a reference to %s', (_, blocks) => {
    expect(checkBlocks(blocks)).toEqual([]);
  });

  it.each([
    [
      'a later step',
      [set('a', { v: '{{b.output.x}}' }), set('b')],
      'step "a" refers to step "b", which cannot have run before it',
    ],
    [
      'itself',
      [set('a', { v: '{{a.output.x}}' })],
      'step "a" refers to step "a", which cannot have run before it',
    ],
    [
      'a step of the other branch',
      [ifElse('c', '{{trigger.x}}', [set('a')], [set('b', { v: '{{a.output.x}}' })])],
      'step "b" refers to step "a", which cannot have run before it',
    ],
    [
      'a step in a condition that comes after it',
      [ifElse('c', '{{a.output.x}}', []), set('a')],
      '"c" refers to step "a"',
    ],
    ['a step that does not exist', [set('a', { v: '{{nope.output.x}}' })], 'names no step of this workflow'],
    ['a step without .output', [set('a'), set('b', { v: '{{a.x}}' })], 'use {{a.output...}}'],
  ])('refuses a reference to %s, naming it', (_, blocks, message) => {
    const issues = checkBlocks(blocks);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]?.message).toContain(message);
  });

  it.each([
    ['duplicate ids', [set('a'), set('a')], 'used twice'],
    [
      'an unknown step type',
      [{ $kind: 'Action', id: 'a', type: 'teleport', input: {} }],
      'type must be one of',
    ],
    ['an unknown operator', [ifElse('c', '1', [], [], 'roughly')], 'operatorName must be one of'],
    ['a delay without seconds', [{ $kind: 'Action', id: 'd', type: 'delay', input: {} }], 'input.seconds'],
    [
      'an action step without action_id',
      [{ $kind: 'Action', id: 'x', type: 'action', input: {} }],
      'action_id',
    ],
    ['an id that cannot be referenced', [set('1st')], 'id must be'],
    ['a code step without source', [{ $kind: 'Action', id: 'c', type: 'code', input: {} }], 'input.source'],
    [
      'a zero timeout',
      [{ ...set('a'), timeout_seconds: 0 }],
      'timeout_seconds must be a number from 1 to 900',
    ],
    ['a timeout over 15 minutes', [{ ...set('a'), timeout_seconds: 901 }], 'from 1 to 900'],
    ['a retry that is not an object', [{ ...set('a'), retry: 3 }], 'retry must be an object'],
    ['eleven attempts', [{ ...set('a'), retry: { max_attempts: 11 } }], 'max_attempts must be an integer'],
    ['half an attempt', [{ ...set('a'), retry: { max_attempts: 1.5 } }], 'max_attempts must be an integer'],
    [
      'a backoff over 60 s',
      [{ ...set('a'), retry: { max_attempts: 2, backoff_seconds: 61 } }],
      'backoff_seconds',
    ],
    [
      'an unknown retry field',
      [{ ...set('a'), retry: { max_attempts: 2, jitter: true } }],
      'no field "jitter"',
    ],
    [
      'the output of the failed step inside its error branch',
      [{ ...set('a'), on_error: [set('b', { v: '{{a.output.x}}' })] }],
      'use {{a.error.message}}',
    ],
    ['an error branch that is not a list', [{ ...set('a'), on_error: {} }], 'must be an array of blocks'],
  ])('refuses %s', (_, blocks, message) => {
    expect(checkBlocks(blocks)[0]?.message).toContain(message);
  });

  it('accepts a step policy, an error branch reading the error, and steps after it reading both', () => {
    const blocks = [
      {
        ...set('a'),
        timeout_seconds: 30,
        retry: { max_attempts: 3, backoff_seconds: 2 },
        on_error: [set('fallback', { why: '{{a.error.message}}' })],
      },
      set('b', { v: '{{a.output.a}}', w: '{{fallback.output.why}}', e: '{{a.error.category}}' }),
    ];
    expect(checkBlocks(blocks)).toEqual([]);
  });

  it('refuses branches nested deeper than 32', () => {
    let blocks: unknown[] = [set('leaf')];
    for (let i = 0; i < 34; i++) blocks = [ifElse(`c${i}`, '1', blocks)];
    expect(checkBlocks(blocks).some((i) => i.message.includes('nest at most'))).toBe(true);
  });
});

describe('condition operators', () => {
  it.each([
    ['equals', 'shipped', 'shipped', true],
    ['equals', 42, '42', true],
    ['equals', 'a', 'b', false],
    ['not_equals', 'a', 'b', true],
    ['contains', 'hello world', 'world', true],
    ['contains', ['a', 'b'], 'b', true],
    ['not_contains', ['a', 'b'], 'c', true],
    ['greater_than', '10', 9, true],
    ['greater_than', 'ten', 9, false],
    ['less_than', 1, 2, true],
    ['is_empty', '', undefined, true],
    ['is_empty', null, undefined, true],
    ['is_empty', [], undefined, true],
    ['is_empty', 0, undefined, false],
    ['is_not_empty', { a: 1 }, undefined, true],
  ] as const)('%s(%j, %j) is %s', (operator, left, right, expected) => {
    expect(evaluateCondition(operator, left, right)).toBe(expected);
  });
});

describe('next step', () => {
  const blocks = parseBlocks([set('a'), ifElse('c', '{{a.output.v}}', [set('t')], [set('e')]), set('z')]);
  const scope = (v: unknown) => ({
    trigger: {},
    outputs: new Map<string, unknown>([['a', { v }]]),
    errors: new Map(),
  });

  it('takes the branch the condition chooses and resumes at the first unfinished step', () => {
    expect(nextStep(blocks, { trigger: {}, outputs: new Map(), errors: new Map() }, new Set()).step?.id).toBe(
      'a',
    );
    const then = nextStep(blocks, scope('x'), new Set(['a']));
    expect(then.step?.id).toBe('t');
    expect(then.decisions.map((d) => [d.block.id, d.result])).toEqual([['c', true]]);
    expect(nextStep(blocks, scope('y'), new Set(['a'])).step?.id).toBe('e');
    expect(nextStep(blocks, scope('y'), new Set(['a', 'c', 'e'])).step?.id).toBe('z');
    expect(nextStep(blocks, scope('y'), new Set(['a', 'c', 'e', 'z'])).step).toBeUndefined();
  });

  it('walks the error branch of a failed step, then goes on after it', () => {
    const tree = parseBlocks([{ ...set('a'), on_error: [set('h1'), set('h2')] }, set('z')]);
    const failed = { trigger: {}, outputs: new Map(), errors: new Map([['a', { message: 'x' }]]) };
    expect(nextStep(tree, failed, new Set(['a'])).step?.id).toBe('h1');
    expect(nextStep(tree, failed, new Set(['a', 'h1'])).step?.id).toBe('h2');
    expect(nextStep(tree, failed, new Set(['a', 'h1', 'h2'])).step?.id).toBe('z');
    const succeeded = { trigger: {}, outputs: new Map([['a', {}]]), errors: new Map() };
    expect(nextStep(tree, succeeded, new Set(['a'])).step?.id).toBe('z');
  });
});
