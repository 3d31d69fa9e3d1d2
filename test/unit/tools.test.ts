import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import { type Variable, compileInputSchema } from '../../src/core/actions/variables.ts';
import {
  CONFIRMATION_NOTE,
  TOOL_FORMATS,
  type ToolSource,
  exportTools,
} from '../../src/core/tools/export.ts';
import { GEMINI_SCHEMA_KEYWORDS, convert, toGeminiParameters } from '../../src/core/tools/gemini-schema.ts';
import { TOOL_NAME_PATTERN, toolNameFor } from '../../src/core/tools/names.ts';

const NONE: ReadonlySet<string> = new Set();

describe('TOOL_NAME_PATTERN', () => {
  it.each([
    ['lookup_order', true],
    ['LookupOrder', true],
    ['_private', true],
    ['a', true],
    ['get-order-2', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['', false],
    ['2fa_reset', false],
    ['-lookup', false],
    ['lookup.order', false],
    ['lookup:order', false],
    ['lookup order', false],
    ['lookup/order', false],
    ['lookup_ördér', false],
  ])('%j is %s', (name, valid) => {
    expect(TOOL_NAME_PATTERN.test(name)).toBe(valid);
  });
});

describe('toolNameFor', () => {
  it.each([
    ['Lookup Order', 'lookup_order'],
    ['lookupOrder', 'lookup_order'],
    ['HTTPRequest Builder', 'http_request_builder'],
    ['Look up  order -- status!', 'look_up_order_status'],
    ['Café Crème', 'cafe_creme'],
    ['  _Transfer_ ', 'transfer'],
    ['123 go', 'action_123_go'],
    ['2FA reset', 'action_2_fa_reset'],
    ['', 'action'],
    ['!!!', 'action'],
    ['日本語のアクション', 'action'],
    ['x'.repeat(100), 'x'.repeat(63)],
    [`${'a'.repeat(62)} b`, 'a'.repeat(62)],
  ])('%j becomes %j', (actionName, toolName) => {
    expect(toolNameFor(actionName, NONE)).toBe(toolName);
  });

  it.each([
    [['lookup_order'], 'lookup_order_2'],
    [['lookup_order', 'lookup_order_2'], 'lookup_order_3'],
    [['lookup_order', 'lookup_order_3'], 'lookup_order_2'],
  ])('avoids the taken names %j', (taken, toolName) => {
    expect(toolNameFor('Lookup Order', new Set(taken))).toBe(toolName);
  });

  it('keeps a suffixed long name within the limit', () => {
    const base = toolNameFor('y'.repeat(80), NONE);
    const second = toolNameFor('y'.repeat(80), new Set([base]));
    expect(second).toBe(`${'y'.repeat(61)}_2`);
    expect(second).toMatch(TOOL_NAME_PATTERN);
  });

  it('always gives a valid name that is not taken, starting with a letter', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.array(fc.string()), (name, taken) => {
        const toolName = toolNameFor(name, new Set(taken));
        expect(toolName).toMatch(TOOL_NAME_PATTERN);
        expect(toolName).toMatch(/^[a-z]/);
        expect(taken).not.toContain(toolName);
      }),
      { numRuns: 1000 },
    );
  });
});

const variables: Variable[] = [
  { name: 'order_id', type: 'string', description: 'The order number', example: 'ORD-12345', required: true },
  { name: 'when', type: 'date' },
  { name: 'email', type: 'email' },
  { name: 'transfer_to', type: 'phone' },
  { name: 'speed', type: 'enum', enum: ['Express', 'Standard'], default: 'Standard' },
  { name: 'count', type: 'integer', minimum: 1, maximum: 5 },
  { name: 'tags', type: 'array', items: { type: 'string' } },
  { name: 'extra', type: 'object', description: 'Anything else' },
];
const lookup: ToolSource = {
  name: 'lookup_order',
  description: "Look up an order's status by its number",
  inputSchema: compileInputSchema(variables),
};
const cancel: ToolSource = {
  name: 'cancel_order',
  description: 'Cancel an order.',
  inputSchema: compileInputSchema([{ name: 'order_id', type: 'string', required: true }]),
  requiresConfirmation: true,
  title: 'Cancel order',
};
const ping: ToolSource = {
  name: 'ping',
  description: 'Check the service',
  inputSchema: compileInputSchema([]),
  readOnly: true,
};

describe('exportTools', () => {
  it('gives OpenAI Chat Completions function tools, sorted by name', () => {
    expect(exportTools([lookup, cancel], 'openai')).toEqual([
      {
        type: 'function',
        function: {
          name: 'cancel_order',
          description: `Cancel an order. ${CONFIRMATION_NOTE}`,
          parameters: cancel.inputSchema,
        },
      },
      {
        type: 'function',
        function: { name: 'lookup_order', description: lookup.description, parameters: lookup.inputSchema },
      },
    ]);
  });

  it('gives Anthropic tools with input_schema', () => {
    expect(exportTools([lookup], 'anthropic')).toEqual([
      { name: 'lookup_order', description: lookup.description, input_schema: lookup.inputSchema },
    ]);
  });

  it('gives an MCP tools/list result with title and annotations when known', () => {
    expect(exportTools([ping, cancel], 'mcp')).toEqual({
      tools: [
        {
          name: 'cancel_order',
          title: 'Cancel order',
          description: `Cancel an order. ${CONFIRMATION_NOTE}`,
          inputSchema: cancel.inputSchema,
          annotations: { title: 'Cancel order' },
        },
        {
          name: 'ping',
          description: 'Check the service',
          inputSchema: ping.inputSchema,
          annotations: { readOnlyHint: true },
        },
      ],
    });
  });

  it("gives Gemini function declarations in Gemini's Schema subset", () => {
    expect(exportTools([lookup, ping], 'gemini')).toEqual({
      functionDeclarations: [
        {
          name: 'lookup_order',
          description: lookup.description,
          parameters: {
            type: 'OBJECT',
            properties: {
              order_id: {
                type: 'STRING',
                maxLength: 4096,
                description: 'The order number. Example: "ORD-12345".',
              },
              when: { type: 'STRING', maxLength: 10, description: 'Format: a date as YYYY-MM-DD.' },
              email: { type: 'STRING', maxLength: 254, description: 'Format: an email address.' },
              transfer_to: { type: 'STRING', maxLength: 16, pattern: '^\\+[1-9][0-9]{7,14}$' },
              speed: { type: 'STRING', enum: ['Express', 'Standard'], maxLength: 8, default: 'Standard' },
              count: { type: 'INTEGER', minimum: 1, maximum: 5 },
              tags: { type: 'ARRAY', items: { type: 'STRING', maxLength: 4096 }, maxItems: 100 },
              extra: {
                type: 'STRING',
                description: expect.stringMatching(
                  /^Anything else .*8192 bytes.* Send a JSON object encoded as a JSON string\.$/,
                ),
              },
            },
            required: ['order_id'],
          },
        },
        // No arguments: Gemini refuses an OBJECT with empty properties, so parameters is left out.
        { name: 'ping', description: 'Check the service' },
      ],
    });
  });

  it('puts the confirmation sentence even on an empty description', () => {
    const tool = { ...cancel, description: '' };
    expect(exportTools([tool], 'anthropic')).toEqual([
      expect.objectContaining({ description: CONFIRMATION_NOTE }),
    ]);
  });

  it('is deterministic whatever the input order', () => {
    for (const format of TOOL_FORMATS) {
      expect(JSON.stringify(exportTools([ping, lookup, cancel], format))).toBe(
        JSON.stringify(exportTools([cancel, ping, lookup], format)),
      );
    }
  });

  it.each([
    ['an invalid name', [{ ...ping, name: 'ping.pong' }], 'not valid'],
    ['a repeated name', [ping, ping], 'repeated'],
  ])('refuses %s', (_name, tools, fragment) => {
    expect(() => exportTools(tools, 'openai')).toThrow(AppError);
    expect(() => exportTools(tools, 'openai')).toThrow(fragment);
  });

  it('refuses an unknown format', () => {
    expect(() => exportTools([ping], 'cohere' as never)).toThrow(
      'format must be one of openai, anthropic, gemini, mcp',
    );
  });

  it('always exports unique names that match the pattern', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 70 }), { maxLength: 20 }),
        fc.constantFrom(...TOOL_FORMATS),
        (names, format) => {
          const taken = new Set<string>();
          const tools = names.map((name): ToolSource => {
            const toolName = toolNameFor(name, taken);
            taken.add(toolName);
            return { name: toolName, description: name, inputSchema: ping.inputSchema };
          });
          const exported = exportTools(tools, format);
          const exportedNames = namesIn(exported);
          expect(exportedNames).toHaveLength(names.length);
          expect(new Set(exportedNames).size).toBe(names.length);
          for (const name of exportedNames) expect(name).toMatch(TOOL_NAME_PATTERN);
        },
      ),
    );
  });
});

describe('the Gemini schema conversion', () => {
  it.each<[string, unknown, unknown]>([
    ['a nullable type list', { type: ['string', 'null'] }, { type: 'STRING', nullable: true }],
    [
      'an untyped object',
      { properties: { a: { type: 'number' } } },
      { type: 'OBJECT', properties: { a: { type: 'NUMBER' } } },
    ],
    [
      'an array without items',
      { type: 'array' },
      {
        type: 'ARRAY',
        items: { type: 'STRING', description: 'Send a JSON value encoded as a JSON string.' },
      },
    ],
    ['a const', { const: 'fixed' }, { type: 'STRING', enum: ['fixed'] }],
    [
      'a date-time format, which Gemini takes',
      { type: 'string', format: 'date-time' },
      { type: 'STRING', format: 'date-time' },
    ],
    [
      'a uuid format, which it does not',
      { type: 'string', format: 'uuid' },
      { type: 'STRING', description: 'Format: a UUID.' },
    ],
    ['an int64 format', { type: 'integer', format: 'int64' }, { type: 'INTEGER', format: 'int64' }],
    ['a numeric enum', { type: 'integer', enum: [1, 2] }, { type: 'INTEGER', description: 'One of: 1, 2.' }],
    [
      'anyOf',
      { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      { anyOf: [{ type: 'STRING' }, { type: 'INTEGER' }] },
    ],
    [
      'keywords it does not know',
      {
        type: 'object',
        properties: { a: { type: 'string', $ref: '#/x', oneOf: [], not: {} } },
        additionalProperties: false,
        $schema: 'x',
        title: 'T',
      },
      { type: 'OBJECT', properties: { a: { type: 'STRING' } } },
    ],
    [
      'required naming a missing property',
      { type: 'object', properties: { a: {} }, required: ['a', 'b'] },
      {
        type: 'OBJECT',
        properties: { a: { type: 'STRING', description: 'Send a JSON value encoded as a JSON string.' } },
        required: ['a'],
      },
    ],
    [
      'a boolean schema',
      true,
      { type: 'STRING', description: 'Send any JSON value encoded as a JSON string.' },
    ],
  ])('translates %s', (_name, input, output) => {
    expect(convert(input, 0)).toEqual(output);
  });

  it('leaves out the parameters of a tool without arguments', () => {
    expect(toGeminiParameters({ type: 'object', properties: {} })).toBeUndefined();
    expect(toGeminiParameters({ type: 'object' })).toBeUndefined();
  });

  it('never emits a keyword outside the Gemini Schema object', () => {
    const schemaArbitrary = fc.letrec((tie) => ({
      node: fc.dictionary(
        fc.oneof(fc.constantFrom(...KEYWORDS), fc.string()),
        fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom('object', 'array', 'string', 'integer', 'number', 'boolean', 'null', [
            'string',
            'null',
          ]),
          tie('node'),
          fc.array(tie('node'), { maxLength: 3 }),
          fc.dictionary(fc.string(), tie('node'), { maxKeys: 3 }),
        ),
        { maxKeys: 6 },
      ),
    })).node;
    fc.assert(
      fc.property(schemaArbitrary, (schema) => {
        for (const key of keywordsIn(convert(schema, 0))) expect(GEMINI_SCHEMA_KEYWORDS).toContain(key);
        const root = toGeminiParameters({ ...schema, type: 'object' });
        if (root) for (const key of keywordsIn(root)) expect(GEMINI_SCHEMA_KEYWORDS).toContain(key);
      }),
      { numRuns: 1000 },
    );
  });
});

const KEYWORDS = [
  'type',
  'properties',
  'items',
  'required',
  'enum',
  'const',
  'format',
  'pattern',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
  'examples',
  'default',
  'additionalProperties',
  'minimum',
  'maximum',
  'maxLength',
  'maxItems',
  'description',
  '$schema',
];

/** Every keyword used anywhere in a converted schema (property names are not keywords). */
function keywordsIn(schema: Record<string, unknown>): string[] {
  const keys = Object.keys(schema);
  const nested: Record<string, unknown>[] = [];
  if (schema.items) nested.push(schema.items as Record<string, unknown>);
  if (schema.properties) nested.push(...(Object.values(schema.properties) as Record<string, unknown>[]));
  if (Array.isArray(schema.anyOf)) nested.push(...(schema.anyOf as Record<string, unknown>[]));
  return [...keys, ...nested.flatMap(keywordsIn)];
}

function namesIn(exported: unknown): string[] {
  const list = Array.isArray(exported)
    ? exported
    : ((exported as { tools?: unknown[]; functionDeclarations?: unknown[] }).tools ??
      (exported as { functionDeclarations: unknown[] }).functionDeclarations);
  return list.map((tool: any) => tool.name ?? tool.function.name);
}
