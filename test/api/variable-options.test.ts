/**
 * POST /v1/actions/{id}/variables/{name}/options on both stores: each output shape an options action may
 * return, the 404 and 422 cases, and a Langdock SELECT field with a contextActionId end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe.each(STORE_KINDS)('variable options on %s', (kind) => {
  let t: TestApp;
  let counter = 0;

  async function codeAction(source: string, extra: Record<string, unknown> = {}): Promise<string> {
    const response = await t.request('POST', '/v1/actions', {
      body: {
        name: `Options ${++counter}`,
        description: 'lists options',
        kind: 'code',
        code: { source },
        ...extra,
      },
    });
    if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
    return response.body.id as string;
  }

  /** An action with a variable `choice` (a string, or a list with `multiple`) filled from `source`. */
  async function withOptionsFrom(source: string, multiple = false): Promise<string> {
    const variable = multiple
      ? { name: 'choice', type: 'array', items: { type: 'string' }, options_from: source }
      : { name: 'choice', type: 'string', options_from: source };
    return codeAction('return inputs.choice', { variables: [variable] });
  }

  const options = (id: string, name = 'choice', body: Record<string, unknown> = {}, key?: string) =>
    t.request('POST', `/v1/actions/${id}/variables/${name}/options`, { body, ...(key ? { key } : {}) });

  beforeAll(async () => {
    t = await startTestApp(kind, { SWITCHBOARD_SANDBOX_WORKERS: '1' });
  });
  afterAll(async () => t.close());

  it.each<[string, string, { label: string; value: string }[]]>([
    [
      'a list of strings',
      'return ["red", "green"]',
      [
        { label: 'red', value: 'red' },
        { label: 'green', value: 'green' },
      ],
    ],
    [
      'a list of {label, value}',
      'return [{ label: "Red", value: "r" }, { value: "g" }]',
      [
        { label: 'Red', value: 'r' },
        { label: 'g', value: 'g' },
      ],
    ],
    ['{options} of strings', 'return { options: ["a"] }', [{ label: 'a', value: 'a' }]],
    [
      '{options} of {label, value}',
      'return { options: [{ label: "A", value: "a" }], total: 1 }',
      [{ label: 'A', value: 'a' }],
    ],
    ['an empty list', 'return []', []],
  ])('reads %s, and records the run', async (_name, source, expected) => {
    const id = await withOptionsFrom(await codeAction(source));
    const response = await options(id);
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ options: expected, execution_id: expect.any(String) });
    const record = await t.request('GET', `/v1/executions/${response.body.execution_id}`);
    expect(record.body).toMatchObject({ status: 'succeeded' });
  });

  it('passes inputs and context on to the options action, and serves list variables too', async () => {
    const source = await codeAction('return [inputs.prefix + "-1", inputs.prefix + "-2"]', {
      variables: [{ name: 'prefix', type: 'string', required: true }],
    });
    const id = await withOptionsFrom(source, true);
    const response = await options(id, 'choice', { inputs: { prefix: 'p' }, context: { timezone: 'UTC' } });
    expect(response.body.options.map((o: { value: string }) => o.value)).toEqual(['p-1', 'p-2']);
    const failed = await options(id);
    expect(failed.status).toBe(422);
    expect(failed.body.error.message).toMatch(/The options action failed: .*prefix/);
  });

  it('answers 404 for an unknown action or variable', async () => {
    expect((await options('01a00000-0000-7000-8000-000000000000')).status).toBe(404);
    const id = await withOptionsFrom(await codeAction('return []'));
    const response = await options(id, 'nothing');
    expect(response.status).toBe(404);
    expect(response.body.error.message).toMatch(/no variable named "nothing"/);
  });

  it('answers 422 for a variable without options_from', async () => {
    const id = await codeAction('return 1', { variables: [{ name: 'plain', type: 'string' }] });
    const response = await options(id, 'plain');
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({
      code: 'UNPROCESSABLE',
      message: expect.stringMatching(/options_from/),
    });
  });

  it.each([
    ['a number', 'return 42', /returned a number; it must return a list of strings/],
    ['an object without options', 'return { items: [] }', /returned an object/],
    ['a list of numbers', 'return [1, 2]', /a number as option 0/],
    ['an option without a value', 'return [{ label: "x" }]', /an object as option 0/],
    [
      'too many options',
      'return Array.from({ length: 1001 }, (_, i) => String(i))',
      /1001 options; .* at most 1000/,
    ],
    [
      'a label over 200 characters',
      'return [{ label: "x".repeat(201), value: "x" }]',
      /label of 201 characters/,
    ],
  ])('answers 422 for an output that is %s, naming the execution', async (_name, source, message) => {
    const id = await withOptionsFrom(await codeAction(source));
    const response = await options(id);
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(message);
    const executionId = response.body.error.details.execution_id as string;
    expect(response.body.error.message).toContain(executionId);
    expect((await t.request('GET', `/v1/executions/${executionId}`)).status).toBe(200);
  });

  it('answers 422 when the options action fails, is switched off, or is gone', async () => {
    const failing = await codeAction('throw new Error("Projects are unavailable")');
    const response = await options(await withOptionsFrom(failing));
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(/The options action failed: Error: Projects are unavailable/);
    expect(response.body.error.details.execution_id).toEqual(expect.any(String));

    const source = await codeAction('return ["a"]');
    const id = await withOptionsFrom(source);
    await t.request('PATCH', `/v1/actions/${source}`, { body: { status: 'inactive' } });
    expect((await options(id)).body.error.message).toMatch(/inactive/);
    await t.request('DELETE', `/v1/actions/${source}`);
    const gone = await options(id);
    expect(gone.status).toBe(422);
    expect(gone.body.error.message).toMatch(/no longer exists/);
  });

  it('needs the actions:execute scope', async () => {
    const id = await withOptionsFrom(await codeAction('return []'));
    const reader = (await t.request('POST', '/v1/keys', { body: { name: 'r', scopes: ['actions:read'] } }))
      .body.key;
    expect((await options(id, 'choice', {}, reader)).status).toBe(403);
  });

  it('fills a Langdock SELECT field with a contextActionId, end to end', async () => {
    const integration = (await t.request('POST', '/v1/integrations', { body: { name: 'Projects' } })).body.id;
    const key = (await t.request('POST', '/v1/keys', { body: { name: 'ld', scopes: ['INTEGRATION_API'] } }))
      .body.key;
    const create = (body: unknown) =>
      t.request('POST', `/integrations/v1/${integration}/actions/create`, { key, body });
    const lister = await create({
      name: 'List Projects',
      code: 'return { options: [{ label: "Apollo", value: "p-1" }, { label: "Gemini", value: "p-2" }] }',
    });
    const picker = await create({
      name: 'Open Project',
      code: 'return { opened: inputs.project }',
      inputFields: [
        { label: 'Project', type: 'SELECT', contextActionId: lister.body.action.id, required: true },
      ],
    });
    expect(picker.status, picker.text).toBe(201);
    const field = picker.body.action.inputFields[0];
    expect(field).toMatchObject({ slug: 'project', type: 'SELECT', contextActionId: lister.body.action.id });

    const response = await t.request(
      'POST',
      `/v1/actions/${picker.body.action.id}/variables/${field.slug}/options`,
      { key, body: {} },
    );
    expect(response.status, response.text).toBe(200);
    expect(response.body.options).toEqual([
      { label: 'Apollo', value: 'p-1' },
      { label: 'Gemini', value: 'p-2' },
    ]);
    const run = await t.request('POST', `/v1/actions/${picker.body.action.id}/execute`, {
      key,
      body: { inputs: { project: 'p-2' } },
    });
    expect(run.body).toMatchObject({ status: 'succeeded', output: { opened: 'p-2' } });
  });
});
