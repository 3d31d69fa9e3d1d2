import { describe, expect, it } from 'vitest';
import {
  JsonLogicError,
  checkJsonLogic,
  constraintsPass,
  evaluateJsonLogic,
} from '../../src/core/workflows/json-logic.ts';

const data = {
  ticket: { priority: 3, channel: 'email', tags: ['vip', 'billing'] },
  customer: { email: 'a@example.com', plan: null },
  items: [{ qty: 1 }, { qty: 4 }],
  amount: '42',
};

describe('JSON Logic', () => {
  it.each<[string, unknown, unknown]>([
    ['var, dot path', { var: 'ticket.channel' }, 'email'],
    ['var, array index', { var: 'ticket.tags.1' }, 'billing'],
    ['var, default', { var: ['ticket.missing', 'none'] }, 'none'],
    ['var, missing', { var: 'nope.deeper' }, undefined],
    ['var, whole data', { var: '' }, data],
    ['== is loose', { '==': [{ var: 'amount' }, 42] }, true],
    ['=== is strict', { '===': [{ var: 'amount' }, 42] }, false],
    ['!=', { '!=': [{ var: 'ticket.channel' }, 'chat'] }, true],
    ['!==', { '!==': [1, '1'] }, true],
    ['<', { '<': [{ var: 'ticket.priority' }, 5] }, true],
    ['< between', { '<': [1, { var: 'ticket.priority' }, 3] }, false],
    ['<= between', { '<=': [1, { var: 'ticket.priority' }, 3] }, true],
    ['>', { '>': [{ var: 'amount' }, 40] }, true],
    ['>=', { '>=': [{ var: 'ticket.priority' }, 4] }, false],
    ['and, all truthy', { and: [true, { var: 'ticket.channel' }] }, 'email'],
    ['and, short-circuits', { and: [false, { unknown_op_never_reached: 1 }] }, false],
    ['or', { or: [0, '', { var: 'ticket.priority' }] }, 3],
    ['!', { '!': [{ var: 'customer.plan' }] }, true],
    ['!! of empty array', { '!!': [[]] }, false],
    ['in, array', { in: ['vip', { var: 'ticket.tags' }] }, true],
    ['in, string', { in: ['example', { var: 'customer.email' }] }, true],
    [
      'if / else-if / else',
      {
        if: [
          { '>': [{ var: 'ticket.priority' }, 4] },
          'high',
          { '>': [{ var: 'ticket.priority' }, 2] },
          'mid',
          'low',
        ],
      },
      'mid',
    ],
    ['missing', { missing: ['ticket.channel', 'customer.plan', 'x'] }, ['customer.plan', 'x']],
    ['some', { some: [{ var: 'items' }, { '>': [{ var: 'qty' }, 3] }] }, true],
    ['all', { all: [{ var: 'items' }, { '>': [{ var: 'qty' }, 3] }] }, false],
    ['none', { none: [{ var: 'items' }, { '>': [{ var: 'qty' }, 9] }] }, true],
    ['a literal', 7, 7],
  ])('%s', (_name, logic, expected) => {
    expect(evaluateJsonLogic(logic, data)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['unknown operator', { '==': [1, { bogus: [1] }] }, 'unknown operator "bogus" at /==/1'],
    ['two keys', { '==': [1, 1], '!=': [1, 2] }, 'exactly one key'],
    ['too deep', JSON.parse('{"!":'.repeat(40) + 'true' + '}'.repeat(40)), 'nested deeper'],
  ])('check refuses %s', (_name, logic, message) => {
    expect(() => checkJsonLogic(logic)).toThrow(JsonLogicError);
    expect(() => checkJsonLogic(logic)).toThrow(message);
  });

  it('accepts every operator of the table at save time', () => {
    expect(() =>
      checkJsonLogic({ and: [{ var: 'a' }, { in: ['x', { var: 'b' }] }, { missing: ['c'] }] }),
    ).not.toThrow();
  });

  it.each<[string, unknown, boolean]>([
    ['null passes', null, true],
    ['{} passes', {}, true],
    ['truthy passes', { '==': [{ var: 'ticket.channel' }, 'email'] }, true],
    ['falsy blocks', { '==': [{ var: 'ticket.channel' }, 'chat'] }, false],
  ])('constraints: %s', (_name, constraints, expected) => {
    expect(constraintsPass(constraints, data)).toBe(expected);
  });

  it('does not read inherited properties', () => {
    expect(evaluateJsonLogic({ var: 'ticket.constructor' }, data)).toBeUndefined();
    expect(evaluateJsonLogic({ var: '__proto__' }, data)).toBeUndefined();
  });
});
