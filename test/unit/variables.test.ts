import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ITEM_TYPES,
  RUNTIME_VARIABLES,
  VARIABLE_TYPES,
  type JsonSchema,
  type Variable,
  checkVariables,
  compileInputSchema,
  prepareInputs,
} from '../../src/core/actions/variables.ts';

const context = { now: new Date('2026-03-10T12:00:00Z'), timeZone: 'UTC' };

describe('checkVariables', () => {
  it('accepts a well-formed list', () => {
    const variables: Variable[] = [
      {
        name: 'order_number',
        type: 'string',
        description: 'Usually starts with ORD-',
        example: 'ORD-12345',
        required: true,
      },
      { name: 'quantity', type: 'integer', minimum: 1, maximum: 10, default: 1 },
      { name: 'when', type: 'date', example: 'November 23, 2026', default: '2026-11-23' },
      { name: 'transfer_to', type: 'phone', example: '+1 415 555 0100' },
      { name: 'speed', type: 'enum', enum: ['Express', 'Standard'], default: 'Express' },
      { name: 'tags', type: 'array', items: { type: 'enum', enum: ['a', 'b'] }, default: ['a'] },
      { name: 'scores', type: 'array', items: { type: 'number' }, minimum: 0 },
      { name: 'notes', type: 'string', max_length: 32768 },
      { name: 'extra', type: 'object', default: { source: 'voice' } },
      { name: '_private', type: 'boolean', default: false },
    ];
    expect(checkVariables(variables)).toEqual([]);
  });

  it.each<[string, unknown[], string, string]>([
    ['a bad name', [{ name: '1abc', type: 'string' }], '/variables/0/name', 'start with a letter'],
    ['a name with a dash', [{ name: 'order-id', type: 'string' }], '/variables/0/name', 'only letters'],
    ['a 65-character name', [{ name: 'a'.repeat(65), type: 'string' }], '/variables/0/name', '64'],
    ['__proto__', [{ name: '__proto__', type: 'string' }], '/variables/0/name', 'reserved'],
    ['constructor', [{ name: 'constructor', type: 'string' }], '/variables/0/name', 'reserved'],
    [
      'a runtime variable',
      [{ name: 'contact_number', type: 'phone' }],
      '/variables/0/name',
      'runtime variable',
    ],
    [
      'a duplicate',
      [
        { name: 'a', type: 'string' },
        { name: 'a', type: 'string' },
      ],
      '/variables/1/name',
      'repeats',
    ],
    [
      'a duplicate differing in case',
      [
        { name: 'email', type: 'email' },
        { name: 'Email', type: 'string' },
      ],
      '/variables/1/name',
      'more than case',
    ],
    ['an unknown type', [{ name: 'a', type: 'float' }], '/variables/0/type', 'one of string'],
    ['an enum without options', [{ name: 'a', type: 'enum' }], '/variables/0/enum', '1 to 100 options'],
    ['an enum with no options', [{ name: 'a', type: 'enum', enum: [] }], '/variables/0/enum', '1 to 100'],
    [
      'an enum with 101 options',
      [{ name: 'a', type: 'enum', enum: Array.from({ length: 101 }, (_, i) => `o${i}`) }],
      '/variables/0/enum',
      '1 to 100',
    ],
    [
      'an empty option',
      [{ name: 'a', type: 'enum', enum: ['x', ' '] }],
      '/variables/0/enum/1',
      'each option',
    ],
    [
      'options equal ignoring case',
      [{ name: 'a', type: 'enum', enum: ['Gold', 'gold'] }],
      '/variables/0/enum/1',
      'same option',
    ],
    [
      'options on a string',
      [{ name: 'a', type: 'string', enum: ['x'] }],
      '/variables/0/enum',
      'only a variable of type enum',
    ],
    ['options on a list', [{ name: 'a', type: 'array', enum: ['x'] }], '/variables/0/enum', 'items.enum'],
    [
      'items on a string',
      [{ name: 'a', type: 'string', items: { type: 'string' } }],
      '/variables/0/items',
      'only a variable of type array',
    ],
    [
      'array items of type object',
      [{ name: 'a', type: 'array', items: { type: 'object' } }],
      '/variables/0/items/type',
      'items.type',
    ],
    [
      'enum items without options',
      [{ name: 'a', type: 'array', items: { type: 'enum' } }],
      '/variables/0/items/enum',
      'options',
    ],
    [
      'max_length on an integer',
      [{ name: 'a', type: 'integer', max_length: 5 }],
      '/variables/0/max_length',
      'applies only',
    ],
    [
      'max_length 0',
      [{ name: 'a', type: 'string', max_length: 0 }],
      '/variables/0/max_length',
      'from 1 to 32768',
    ],
    [
      'max_length over the cap',
      [{ name: 'a', type: 'string', max_length: 32769 }],
      '/variables/0/max_length',
      '32768',
    ],
    [
      'minimum on a string',
      [{ name: 'a', type: 'string', minimum: 1 }],
      '/variables/0/minimum',
      'applies only',
    ],
    [
      'minimum above maximum',
      [{ name: 'a', type: 'integer', minimum: 5, maximum: 1 }],
      '/variables/0/maximum',
      'less than minimum',
    ],
    [
      'a non-numeric bound',
      [{ name: 'a', type: 'number', maximum: 'ten' }],
      '/variables/0/maximum',
      'must be a number',
    ],
    [
      'a default of the wrong type',
      [{ name: 'a', type: 'integer', default: 'many' }],
      '/variables/0/default',
      'whole number',
    ],
    [
      'a default written loosely',
      [{ name: 'a', type: 'integer', default: '42' }],
      '/variables/0/default',
      'write the default as 42',
    ],
    [
      'a default outside the bounds',
      [{ name: 'a', type: 'integer', maximum: 3, default: 4 }],
      '/variables/0/default',
      'at most 3',
    ],
    [
      'a default that is not an option',
      [{ name: 'a', type: 'enum', enum: ['x'], default: 'y' }],
      '/variables/0/default',
      'one of x',
    ],
    [
      'a default in the wrong case',
      [{ name: 'a', type: 'enum', enum: ['Gold'], default: 'gold' }],
      '/variables/0/default',
      '"Gold"',
    ],
    [
      'a relative default date',
      [{ name: 'a', type: 'date', default: 'tomorrow' }],
      '/variables/0/default',
      'relative day',
    ],
    [
      'a default over max_length',
      [{ name: 'a', type: 'string', max_length: 2, default: 'abc' }],
      '/variables/0/default',
      'at most 2',
    ],
    [
      'an invalid example',
      [{ name: 'a', type: 'phone', example: '415-555-0100' }],
      '/variables/0/example',
      'country code',
    ],
    [
      'an invalid example email',
      [{ name: 'a', type: 'email', example: 'nobody' }],
      '/variables/0/example',
      'email',
    ],
    [
      'a description that is not text',
      [{ name: 'a', type: 'string', description: 5 }],
      '/variables/0/description',
      'text',
    ],
    [
      'a long description',
      [{ name: 'a', type: 'string', description: 'x'.repeat(1001) }],
      '/variables/0/description',
      '1000',
    ],
    [
      'required not a boolean',
      [{ name: 'a', type: 'string', required: 'yes' }],
      '/variables/0/required',
      'true or false',
    ],
    ['a variable that is not an object', ['order_id'], '/variables/0', 'an object'],
    [
      '101 variables',
      Array.from({ length: 101 }, (_, i) => ({ name: `v${i}`, type: 'string' })),
      '/variables',
      'at most 100',
    ],
  ])('flags %s', (_name, variables, path, fragment) => {
    const issues = checkVariables(variables as Variable[]);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(fragment) });
  });

  it('accepts what a form needs to show each variable', () => {
    const variables: Variable[] = [
      { name: 'user_id', type: 'string', label: 'User ID', placeholder: 'e.g., user_123', widget: 'id' },
      { name: 'notes', type: 'string', widget: 'multi_line_text' },
      { name: 'pin', type: 'string', widget: 'password' },
      { name: 'embedding', type: 'array', items: { type: 'number' }, widget: 'vector' },
      { name: 'upload', type: 'object', widget: 'file' },
      { name: 'plan', type: 'enum', enum: ['pro', 'free'], option_labels: { pro: 'Pro plan' } },
      { name: 'team', type: 'string', options_from: '0190b3c4-1d2e-7f00-8a9b-0c1d2e3f4a5b' },
      { name: 'teams', type: 'array', items: { type: 'string' }, options_from: 'act_1' },
    ];
    expect(checkVariables(variables)).toEqual([]);
  });

  it.each<[string, Partial<Variable>, string, string]>([
    ['a label over 100 characters', { label: 'L'.repeat(101) }, 'label', 'at most 100'],
    ['a placeholder over 200 characters', { placeholder: 'p'.repeat(201) }, 'placeholder', 'at most 200'],
    ['an unknown widget', { widget: 'slider' as never }, 'widget', 'must be one of'],
    ['a widget on the wrong type', { type: 'integer', widget: 'password' }, 'widget', 'a string variable'],
    [
      'a vector of strings',
      { type: 'array', items: { type: 'string' }, widget: 'vector' },
      'widget',
      'array of number',
    ],
    ['labels without options', { option_labels: { a: 'A' } }, 'option_labels', 'only enum options'],
    [
      'a label for an option that does not exist',
      { type: 'enum', enum: ['a'], option_labels: { b: 'B' } },
      'option_labels/b',
      'not one of the options',
    ],
    [
      'options_from on a number',
      { type: 'number', options_from: 'act_1' },
      'options_from',
      'string variable',
    ],
    ['options_from that is no id', { options_from: 'not an id!' }, 'options_from', 'id of an action'],
  ])('flags %s', (_name, fields, path, fragment) => {
    const issues = checkVariables([{ name: 'v', type: 'string', ...fields }]);
    expect(issues).toContainEqual({
      path: `/variables/0/${path}`,
      message: expect.stringContaining(fragment),
    });
  });

  it('gives the label to the input schema as its title', () => {
    const schema = compileInputSchema([{ name: 'user_id', type: 'string', label: 'User ID' }]);
    expect(schema.properties?.user_id).toMatchObject({ type: 'string', title: 'User ID' });
  });

  it('uses the base path it is given', () => {
    expect(checkVariables([{ name: '9', type: 'string' }], '/actions/0/variables')[0]?.path).toBe(
      '/actions/0/variables/0/name',
    );
  });
});

describe('compileInputSchema', () => {
  it('gives a closed object with typed, bounded properties', () => {
    const schema = compileInputSchema([
      { name: 'order_id', type: 'string', description: 'The order number', example: 'ORD-1', required: true },
      { name: 'quantity', type: 'integer', minimum: 1, default: 1 },
      { name: 'when', type: 'date' },
      { name: 'email', type: 'email' },
      { name: 'phone', type: 'phone' },
      { name: 'speed', type: 'enum', enum: ['Express', 'Standard'] },
      { name: 'tags', type: 'array', items: { type: 'string' }, max_length: 20 },
      { name: 'extra', type: 'object' },
    ]);
    expect(schema).toEqual({
      type: 'object',
      properties: {
        order_id: { type: 'string', maxLength: 4096, description: 'The order number', examples: ['ORD-1'] },
        quantity: { type: 'integer', minimum: 1, default: 1 },
        when: { type: 'string', format: 'date', maxLength: 10 },
        email: { type: 'string', format: 'email', maxLength: 254 },
        phone: { type: 'string', pattern: '^\\+[1-9][0-9]{7,14}$', maxLength: 16 },
        speed: { type: 'string', enum: ['Express', 'Standard'], maxLength: 8 },
        tags: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 100 },
        extra: { type: 'object', maxProperties: 50, description: expect.stringContaining('8192 bytes') },
      },
      required: ['order_id'],
      additionalProperties: false,
    });
  });

  it('compiles once per variables array and freezes the result', () => {
    const variables: Variable[] = [{ name: 'a', type: 'string' }];
    const schema = compileInputSchema(variables);
    expect(compileInputSchema(variables)).toBe(schema);
    expect(Object.isFrozen(schema.properties)).toBe(true);
    expect(compileInputSchema([...variables])).not.toBe(schema);
  });

  it('always closes the object and bounds every string, for any valid variables', () => {
    fc.assert(
      fc.property(variablesArbitrary, (variables) => {
        expect(checkVariables(variables)).toEqual([]);
        const schema = compileInputSchema(variables);
        expect(schema.additionalProperties).toBe(false);
        expect(Object.keys(schema.properties ?? {})).toEqual(variables.map((variable) => variable.name));
        for (const property of Object.values(schema.properties ?? {})) {
          for (const node of schemaNodes(property)) {
            expect(node.type).toBeTypeOf('string');
            if (node.type === 'string') expect(node.maxLength).toBeTypeOf('number');
            if (node.type === 'array') expect(node.maxItems).toBe(100);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('prepareInputs', () => {
  const variables: Variable[] = [
    { name: 'order_id', type: 'integer', required: true },
    { name: 'email', type: 'email' },
  ];

  it('names the bad input and the unknown one in one sentence', () => {
    const result = prepareInputs(variables, { order_id: 'lots', url: 'http://169.254.169.254/' }, context);
    expect(result).toEqual({
      ok: false,
      message:
        'order_id must be a whole number such as 42; unknown input url (this action takes order_id, email)',
      issues: [
        {
          field: 'order_id',
          message: 'order_id must be a whole number such as 42',
          expected: 'a whole number such as 42',
        },
        {
          field: 'url',
          message: 'unknown input url (this action takes order_id, email)',
          expected: 'one of order_id, email',
        },
      ],
    });
  });

  it.each([
    ['url', '{"order_id":1,"url":"http://evil.example"}'],
    ['method', '{"order_id":1,"method":"DELETE"}'],
    ['headers', '{"order_id":1,"headers":{"Authorization":"x"}}'],
    ['baseUrl', '{"order_id":1,"baseUrl":"http://127.0.0.1"}'],
    ['timeout', '{"order_id":1,"timeout":999999}'],
    ['__proto__', '{"order_id":1,"__proto__":{"admin":true}}'],
    ['constructor', '{"order_id":1,"constructor":{"prototype":{}}}'],
    ['ORDER_ID', '{"order_id":1,"ORDER_ID":2}'],
  ])('refuses the undeclared argument %s (B09)', (key, json) => {
    const result = prepareInputs(variables, JSON.parse(json), context);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map((issue) => issue.field)).toEqual([key]);
      expect(result.message).toContain(`unknown input ${key} (this action takes order_id, email)`);
    }
  });

  it('quotes and shortens an odd unknown key', () => {
    const result = prepareInputs(variables, { order_id: 1, ['x\u202e'.repeat(30)]: 1 }, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/unknown input "(x\\u202e)+\.\.\."/);
  });

  it('says when the action takes no inputs', () => {
    const result = prepareInputs([], { a: 1 }, context);
    expect(result).toMatchObject({ ok: false, message: 'unknown input a (this action takes no inputs)' });
  });

  it.each<[string, unknown, Record<string, unknown>]>([
    [
      'coerced values',
      { order_id: 'forty two', email: 'Ann at Example dot com' },
      { order_id: 42, email: 'Ann@example.com' },
    ],
    ['null for an optional input', { order_id: 1, email: null }, { order_id: 1 }],
  ])('prepares %s', (_name, raw, inputs) => {
    expect(prepareInputs(variables, raw, context)).toEqual({ ok: true, inputs });
  });

  it('takes no arguments at all when nothing is required', () => {
    expect(prepareInputs([{ name: 'email', type: 'email' }], undefined, context)).toEqual({
      ok: true,
      inputs: {},
    });
  });

  it('applies defaults to what was not given, and only to that', () => {
    const withDefaults: Variable[] = [
      { name: 'size', type: 'enum', enum: ['S', 'M'], default: 'M' },
      { name: 'count', type: 'integer', default: 1 },
      { name: 'extra', type: 'object', default: { a: [1] } },
      { name: 'note', type: 'string' },
    ];
    const result = prepareInputs(withDefaults, { count: '3', note: '   ' }, context);
    expect(result).toEqual({ ok: true, inputs: { size: 'M', count: 3, extra: { a: [1] } } });
    if (result.ok) expect(result.inputs.extra).not.toBe(withDefaults[2]!.default);
  });

  it.each<[string, unknown, string]>([
    ['a missing required input', { email: 'a@example.com' }, 'order_id is required'],
    ['an empty required input', { order_id: '  ' }, 'order_id is required'],
    ['null for a required input', { order_id: null }, 'order_id is required'],
    ['arguments that are a list', [1, 2], 'must be a JSON object'],
    ['arguments that are text', 'order 42', 'must be a JSON object'],
    ['arguments over 32 KB', { order_id: 1, email: 'x'.repeat(33 * 1024) }, 'larger than 32768 bytes'],
    ['a 1 MB argument', { order_id: 1, url: 'x'.repeat(1 << 20) }, 'larger than 32768 bytes'],
    ['a lone surrogate', { order_id: '4\ud8002' }, 'unpaired surrogate'],
  ])('refuses %s', (_name, raw, fragment) => {
    const result = prepareInputs(variables, raw, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(fragment);
  });

  it('counts the 32 KB in UTF-8 bytes and lets the operator lower it', () => {
    const text: Variable[] = [{ name: 'note', type: 'string', max_length: 32768 }];
    // 3,000 three-byte characters: 9,000 bytes, though only 3,000 UTF-16 units.
    expect(prepareInputs(text, { note: '€'.repeat(3000) }, { ...context, maxArgumentBytes: 8000 }).ok).toBe(
      false,
    );
    expect(prepareInputs(text, { note: '€'.repeat(3000) }, context).ok).toBe(true);
  });

  it('checks even an unchecked default against the schema', () => {
    const unchecked: Variable[] = [{ name: 'n', type: 'integer', maximum: 3, default: 5 }];
    expect(prepareInputs(unchecked, {}, context)).toEqual({
      ok: false,
      message: 'n must be <= 3',
      issues: [{ field: 'n', message: 'n must be <= 3', expected: 'a whole number of at most 3 such as 3' }],
    });
  });

  it('compiles a validator for any valid variables and accepts no arguments when none is required', () => {
    fc.assert(
      fc.property(variablesArbitrary, (declared) => {
        const optional = declared.map((variable): Variable => ({ ...variable, required: false }));
        expect(prepareInputs(optional, {}, context)).toEqual({ ok: true, inputs: {} });
      }),
      { numRuns: 200 },
    );
  });

  it('never accepts an undeclared key', () => {
    fc.assert(
      fc.property(
        variablesArbitrary,
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'url', 'headers')), fc.jsonValue(), {
          minKeys: 1,
          maxKeys: 5,
        }),
        (declared, extra) => {
          const names = new Set(declared.map((variable) => variable.name));
          const raw = JSON.parse(JSON.stringify(extra)) as Record<string, unknown>;
          const undeclared = Object.keys(raw).filter((key) => !names.has(key));
          fc.pre(undeclared.length > 0);
          const result = prepareInputs(declared, raw, context);
          expect(result.ok).toBe(false);
          if (!result.ok) {
            for (const key of undeclared) expect(result.issues.map((issue) => issue.field)).toContain(key);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('only ever returns declared keys, with values the schema allows', () => {
    fc.assert(
      fc.property(variablesArbitrary, fc.dictionary(fc.string(), fc.jsonValue()), (declared, values) => {
        const raw = Object.fromEntries(
          declared.map((variable, i) => [variable.name, Object.values(values)[i]]),
        );
        const result = prepareInputs(declared, raw, context);
        if (result.ok) {
          const names = declared.map((variable) => variable.name);
          for (const key of Object.keys(result.inputs)) expect(names).toContain(key);
        }
      }),
      { numRuns: 300 },
    );
  });
});

const RESERVED = new Set<string>([...RUNTIME_VARIABLES, '__proto__', 'constructor', 'prototype']);

const nameArbitrary = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
  .filter((name) => !RESERVED.has(name));

const optionsArbitrary = fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,15}$/), {
  minLength: 1,
  maxLength: 8,
  selector: (option) => option.toLowerCase(),
});

const variableArbitrary: fc.Arbitrary<Omit<Variable, 'name'>> = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom('string' as const, 'email' as const),
      max_length: fc.integer({ min: 254, max: 32768 }),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({
    type: fc.constantFrom(...VARIABLE_TYPES.filter((type) => !['enum', 'array'].includes(type))),
    description: fc.string({ maxLength: 50 }),
    required: fc.boolean(),
  }),
  fc.record({ type: fc.constant('enum' as const), enum: optionsArbitrary }),
  fc.record({
    type: fc.constant('array' as const),
    items: fc.oneof(
      fc.record({ type: fc.constantFrom(...ITEM_TYPES.filter((type) => type !== 'enum')) }),
      fc.record({ type: fc.constant('enum' as const), enum: optionsArbitrary }),
    ),
  }),
);

const variablesArbitrary: fc.Arbitrary<Variable[]> = fc
  .uniqueArray(nameArbitrary, { maxLength: 8, selector: (name) => name.toLowerCase() })
  .chain((names) =>
    fc
      .tuple(...names.map(() => variableArbitrary))
      .map((shapes) => shapes.map((shape, i): Variable => ({ ...shape, name: names[i]! }))),
  );

/** A schema and every schema nested in it through items. */
function* schemaNodes(schema: JsonSchema): Generator<JsonSchema> {
  yield schema;
  if (schema.items !== undefined) yield* schemaNodes(schema.items as JsonSchema);
}
