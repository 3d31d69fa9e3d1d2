/** Spoken messages: save-time checks and rendering, where nothing unsayable ever fills a gap. */
import { describe, expect, it } from 'vitest';
import { checkSpokenTemplate, renderSpoken, valueAtPath } from '../../src/core/actions/spoken.ts';
import type { Lookup } from '../../src/core/templates/index.ts';

const flat: Lookup = (ref) =>
  ref === 'name'
    ? { found: true, value: 'Ada' }
    : ref === 'note'
      ? { found: true, value: undefined }
      : { found: false };

describe('valueAtPath', () => {
  it.each([
    ['a nested path', { order: { status: 'shipped' } }, 'order.status', 'shipped'],
    ['a selected path kept as one key', { 'order.status': 'shipped' }, 'order.status', 'shipped'],
    ['below a selected key', { 'order.items': [{ sku: 'A' }] }, 'order.items.0.sku', 'A'],
    ['an array index', { items: ['a', 'b'] }, 'items.1', 'b'],
    ['a missing path', { order: {} }, 'order.status', undefined],
    ['through a string', { order: 'x' }, 'order.length', undefined],
  ])('%s', (_name, value, path, expected) => {
    expect(valueAtPath(value, path)).toBe(expected);
  });
});

describe('renderSpoken', () => {
  const output = { value: { order: { status: 'shipped', eta: null, total: 0, items: [] }, name: 'Bob' } };

  it.each([
    ['inputs', 'Hello {{name}}', undefined, 'Hello Ada'],
    ['the output first', 'Hello {{name}}', output, 'Hello Bob'],
    ['a number zero', 'Total {{order.total}}', output, 'Total 0'],
    [
      'the inputs when the output lacks the path',
      'Status {{order.status}} for {{ name }}',
      { value: { order: { status: 'ok' } } },
      'Status ok for Ada',
    ],
  ])('renders %s', (_name, template, out, text) => {
    expect(renderSpoken(template, 'speak_on_receive', flat, out)).toEqual({ text });
  });

  it.each([
    ['an unknown placeholder', 'Hi {{nobody}}', undefined, 'names nothing'],
    ['an input without a value', 'Note: {{note}}', undefined, 'nothing to say'],
    ['null in the output', 'ETA {{order.eta}}', output, 'nothing to say'],
    ['an object', 'Order {{order}}', output, 'nothing to say'],
    ['an empty list', 'Items {{order.items}}', output, 'nothing to say'],
    ['a secret, even one the lookup would know', 'Key {{secrets.API}}', undefined, 'names nothing'],
  ])('omits the message for %s', (_name, template, out, reason) => {
    const result = renderSpoken(
      template,
      'speak_on_send',
      (ref) => (ref.startsWith('secrets.') ? { found: true, value: 'leak' } : flat(ref)),
      out,
    );
    expect(result).toEqual({ omitted: expect.stringContaining(reason) });
  });
});

describe('checkSpokenTemplate', () => {
  const context = {
    variables: [{ name: 'name', type: 'string' as const }],
    contextVariables: ['account_id'],
  };

  it('accepts variables, runtime and context values, and any path when the output is unknown', () => {
    expect(
      checkSpokenTemplate('Hi {{name}} at {{current_datetime}} ({{account_id}})', '/x', context),
    ).toEqual([]);
    expect(checkSpokenTemplate('{{order.items.0.name}}', '/x', { ...context, outputPaths: null })).toEqual(
      [],
    );
  });

  it('refuses output paths before anything ran, paths the output lacks, and secrets', () => {
    expect(checkSpokenTemplate('{{order.status}}', '/speak_on_send', context)).toEqual([
      { path: '/speak_on_send', message: expect.stringContaining('{{order.status}}') },
    ]);
    expect(
      checkSpokenTemplate('{{directive.minutes}}', '/x', { ...context, outputPaths: ['directive.seconds'] }),
    ).toHaveLength(1);
    expect(
      checkSpokenTemplate('{{items.3.sku}}', '/x', { ...context, outputPaths: ['items.*.sku'] }),
    ).toEqual([]);
    expect(checkSpokenTemplate('{{secrets.KEY}}', '/x', { ...context, outputPaths: null })).toEqual([
      { path: '/x', message: 'Secrets are never spoken: remove {{secrets.KEY}}' },
    ]);
  });
});
