/**
 * Langdock's input fields ⇄ variables: every field type both ways, the round trip, generated names, and
 * native issue paths put in the request's terms.
 */
import { describe, expect, it } from 'vitest';
import { checkVariables } from '../../src/core/actions/variables.ts';
import type { Variable } from '../../src/core/actions/variables.ts';
import {
  FIELD_TYPES,
  fieldsFromVariables,
  requestPath,
  variablesFromFields,
  type InputFieldInput,
} from '../../src/http/dialects/langdock/fields.ts';
import { actionSlugFor, camelSlug, fieldSlugs, kebabSlug } from '../../src/http/dialects/langdock/names.ts';

const SOURCE = '01a00000-0000-7000-8000-000000000001';

/** One row per way a field can be stored: the field, and the variable it becomes. */
const TABLE: [string, InputFieldInput, Omit<Variable, 'name' | 'label' | 'required'>][] = [
  ['TEXT', { label: 'F', type: 'TEXT' }, { type: 'string' }],
  ['MULTI_LINE_TEXT', { label: 'F', type: 'MULTI_LINE_TEXT' }, { type: 'string', widget: 'multi_line_text' }],
  ['NUMBER', { label: 'F', type: 'NUMBER' }, { type: 'number' }],
  ['BOOLEAN', { label: 'F', type: 'BOOLEAN' }, { type: 'boolean' }],
  [
    'SELECT with labelled options',
    {
      label: 'F',
      type: 'SELECT',
      options: [
        { label: 'JSON', value: 'json' },
        { label: 'xml', value: 'xml' },
      ],
    },
    { type: 'enum', enum: ['json', 'xml'], option_labels: { json: 'JSON' } },
  ],
  [
    'SELECT with bare options, several at once',
    { label: 'F', type: 'SELECT', options: ['a', 'b'], allowMultiSelect: true },
    { type: 'array', items: { type: 'enum', enum: ['a', 'b'] } },
  ],
  [
    'SELECT with a contextActionId',
    { label: 'F', type: 'SELECT', contextActionId: SOURCE },
    { type: 'string', options_from: SOURCE },
  ],
  [
    'SELECT with a contextActionId, several at once',
    { label: 'F', type: 'SELECT', contextActionId: SOURCE, allowMultiSelect: true },
    { type: 'array', items: { type: 'string' }, options_from: SOURCE },
  ],
  ['PASSWORD', { label: 'F', type: 'PASSWORD' }, { type: 'string', widget: 'password' }],
  ['VECTOR', { label: 'F', type: 'VECTOR' }, { type: 'array', items: { type: 'number' }, widget: 'vector' }],
  ['OBJECT', { label: 'F', type: 'OBJECT' }, { type: 'object' }],
  ['FILE', { label: 'F', type: 'FILE' }, { type: 'object', widget: 'file' }],
  ['ID', { label: 'F', type: 'ID' }, { type: 'string', widget: 'id' }],
  ['no type (TEXT)', { label: 'F' }, { type: 'string' }],
];

describe('Langdock input fields → variables', () => {
  it('covers every field type', () => {
    const covered = new Set(TABLE.map(([, field]) => field.type ?? 'TEXT'));
    expect([...covered].sort()).toEqual([...FIELD_TYPES].sort());
  });

  it.each(TABLE)('stores %s', (_name, field, expected) => {
    const { variables, issues } = variablesFromFields([field]);
    expect(issues).toEqual([]);
    expect(variables).toEqual([{ name: 'f', label: 'F', required: false, ...expected }]);
    expect(checkVariables(variables)).toEqual([]);
  });

  it.each(TABLE)('reads %s back as the same field, and round-trips', (_name, field) => {
    const [shown] = fieldsFromVariables(variablesFromFields([field]).variables);
    const select = (field.type ?? 'TEXT') === 'SELECT';
    expect(shown).toEqual({
      slug: 'f',
      label: 'F',
      type: field.type ?? 'TEXT',
      description: '',
      placeholder: null,
      required: false,
      order: 0,
      options: Array.isArray(field.options)
        ? field.options.map((o) =>
            typeof o === 'string' ? { label: o, value: o } : { label: o.label ?? o.value, value: o.value },
          )
        : null,
      allowMultiSelect: select ? field.allowMultiSelect === true : null,
      contextActionId: field.contextActionId ?? null,
    });
    // what a response shows, sent back, stores the same variable again
    const { slug: _slug, order: _order, ...again } = shown!;
    expect(variablesFromFields([again]).variables).toEqual(variablesFromFields([field]).variables);
  });

  it('keeps description, placeholder and required, and shows their absence as "" and null', () => {
    const field = { label: 'User ID', description: 'Who', placeholder: 'e.g., user_123', required: true };
    const { variables } = variablesFromFields([field, { label: 'Other' }]);
    expect(variables[0]).toEqual({
      name: 'userId',
      type: 'string',
      label: 'User ID',
      description: 'Who',
      placeholder: 'e.g., user_123',
      required: true,
    });
    expect(
      fieldsFromVariables(variables).map((f) => [f.description, f.placeholder, f.required, f.order]),
    ).toEqual([
      ['Who', 'e.g., user_123', true, 0],
      ['', null, false, 1],
    ]);
  });

  it.each<[string, InputFieldInput, string]>([
    ['a SELECT without options', { label: 'F', type: 'SELECT' }, 'inputFields[0]'],
    ['a SELECT with empty options', { label: 'F', type: 'SELECT', options: [] }, 'inputFields[0]'],
    [
      'a SELECT with options and a contextActionId',
      { label: 'F', type: 'SELECT', options: ['a'], contextActionId: SOURCE },
      'inputFields[0]',
    ],
    ['options on a NUMBER', { label: 'F', type: 'NUMBER', options: ['1'] }, 'inputFields[0].options'],
    ['a contextActionId on TEXT', { label: 'F', contextActionId: SOURCE }, 'inputFields[0].contextActionId'],
    ['allowMultiSelect on TEXT', { label: 'F', allowMultiSelect: true }, 'inputFields[0].allowMultiSelect'],
  ])('refuses %s', (_name, field, path) => {
    const { issues } = variablesFromFields([field]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(path);
  });

  it('reads natively made variables as the nearest field', () => {
    const shown = fieldsFromVariables([
      { name: 'n', type: 'integer' },
      { name: 'd', type: 'date' },
      { name: 'e', type: 'email' },
      { name: 'v', type: 'array', items: { type: 'integer' } },
      { name: 's', type: 'array', items: { type: 'string' } },
    ]);
    expect(shown.map((f) => [f.slug, f.label, f.type])).toEqual([
      ['n', 'n', 'NUMBER'],
      ['d', 'd', 'TEXT'],
      ['e', 'e', 'TEXT'],
      ['v', 'v', 'VECTOR'],
      ['s', 's', 'TEXT'],
    ]);
  });
});

describe('Langdock names', () => {
  it.each([
    ['User ID', 'userId'],
    ['Include Details', 'includeDetails'],
    ['userId', 'userId'],
    ['HTTPStatus code', 'httpStatusCode'],
    ['  e-mail / address  ', 'eMailAddress'],
    ['Ünïcode Café', 'unicodeCafe'],
    ['2FA code', 'field2faCode'],
    ['!!!', 'field'],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('camelSlug(%j) is %s', (label, slug) => {
    expect(camelSlug(label)).toBe(slug);
  });

  it('makes field slugs unique ignoring case, and never a runtime variable or reserved name', () => {
    expect(fieldSlugs(['User ID', 'user id', 'USER ID', 'Timezone', 'Constructor', 'Medium'])).toEqual([
      'userId',
      'userId2',
      'userId3',
      'timezone2',
      'constructor2',
      'medium2',
    ]);
    const long = fieldSlugs(['y'.repeat(80), 'y'.repeat(90)]);
    expect(long[1]).toBe(`${'y'.repeat(63)}2`);
  });

  it.each([
    ['Get User Data', 'get-user-data'],
    ['getUserData', 'get-user-data'],
    ['  Lookup -- Order!  ', 'lookup-order'],
    ['42 answers', 'action-42-answers'],
    ['***', 'action'],
    ['a'.repeat(100), 'a'.repeat(63)],
  ])('kebabSlug(%j) is %s', (name, slug) => {
    expect(kebabSlug(name)).toBe(slug);
  });

  it('makes action slugs unique with -2, -3, staying within 63 characters', () => {
    expect(actionSlugFor('Get User Data', new Set(['get-user-data', 'get-user-data-2']))).toBe(
      'get-user-data-3',
    );
    const taken = new Set(['a'.repeat(63)]);
    expect(actionSlugFor('a'.repeat(70), taken)).toBe(`${'a'.repeat(61)}-2`);
  });
});

describe('native issue paths in Langdock terms', () => {
  it.each([
    ['/variables/2/options_from', 'inputFields[2].contextActionId'],
    ['/variables/0/enum/1', 'inputFields[0].options[1]'],
    ['/variables/3/items/enum/0', 'inputFields[3].options[0]'],
    ['/variables/1/option_labels/json', 'inputFields[1].options'],
    ['/variables/1/name', 'inputFields[1].label'],
    ['/variables/1/default', 'inputFields[1]'],
    ['/variables', 'inputFields'],
    ['/code/source', 'code'],
    ['/name', 'name'],
    ['/tool_name', 'tool_name'],
  ])('%s → %s', (native, path) => {
    expect(requestPath(native)).toBe(path);
  });
});
