/**
 * Only keys trusted with secrets write code that reads them, on both stores: creating or changing a code
 * action with secrets in scope (its own, or its integration's) needs secrets:use besides actions:write,
 * through the native API and Langdock's (whose INTEGRATION_API grants it); so does adding a secret to an
 * integration that has code actions, even when the two saves race. Everything else keeps its old scope.
 * A refused save changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type Response, type TestApp } from '../helpers/app.ts';
import { createKey } from '../helpers/dialects.ts';
import { until } from '../helpers/wait.ts';

type Who = 'writer' | 'trusted' | 'langdock' | 'langdockBefore';

/** The scopes of each caller: `langdockBefore` is what INTEGRATION_API granted before secrets:use. */
const SCOPES: Record<Who, string[]> = {
  writer: ['actions:read', 'actions:write', 'workflows:read', 'workflows:write', 'workflows:execute'],
  trusted: ['actions:read', 'actions:write', 'secrets:use'],
  langdock: ['INTEGRATION_API'],
  langdockBefore: ['actions:read', 'actions:write', 'actions:execute'],
};

describe.each(STORE_KINDS)('the secrets:use scope on %s', (kind) => {
  let t: TestApp;
  const keys = {} as Record<Who, string>;
  let secretId: string;
  /** An integration with a secret, and one without. */
  let withSecrets: string;
  let plain: string;

  const code = (extra: Record<string, unknown> = {}) => ({
    name: `Code ${Math.random()}`,
    description: 'reads what it may',
    kind: 'code',
    code: { source: 'return Object.keys(secrets)' },
    ...extra,
  });
  const http = (extra: Record<string, unknown> = {}) => ({
    name: `Http ${Math.random()}`,
    description: 'calls an API',
    kind: 'http',
    http: { method: 'GET', url: 'https://api.example.com/x' },
    ...extra,
  });
  /** A code action made by the admin (who has every scope), for the changes below. */
  const adminCode = async (extra: Record<string, unknown>) => {
    const response = await t.request('POST', '/v1/actions', { body: code(extra) });
    expect(response.status, response.text).toBe(201);
    return response.body.id as string;
  };
  const integration = async (secrets: Record<string, string> = {}) =>
    (await t.request('POST', '/v1/integrations', { body: { name: `I ${Math.random()}`, secrets } })).body
      .id as string;
  const langdockCreate = (integrationId: string) => [
    'POST',
    `/integrations/v1/${integrationId}/actions/create`,
    { name: `Langdock ${Math.random()}`, code: 'return 1' },
  ];

  beforeAll(async () => {
    t = await startTestApp(kind);
    for (const who of Object.keys(SCOPES) as Who[]) keys[who] = await createKey(t, SCOPES[who], who);
    secretId = (
      await t.request('POST', '/v1/secrets', {
        body: { name: 'API_TOKEN', value: 'scoped-canary-1a2b3c4d5e6f', allowed_hosts: ['api.example.com'] },
      })
    ).body.id;
    withSecrets = await integration({ API_TOKEN: secretId });
    plain = await integration();
  });
  afterAll(async () => t.close());

  /** A new integration given an action by `populate`, and the request adding a secret to it. */
  const addSecretTo = async (
    populate: (id: string) => Promise<unknown>,
  ): Promise<[string, string, unknown]> => {
    const id = await integration();
    await populate(id);
    return ['PATCH', `/v1/integrations/${id}`, { secrets: { API_TOKEN: secretId } }];
  };

  /** Each case: who calls, and the request (made when the case runs, so ids exist). */
  const cases: [string, Who, () => Promise<[string, string, unknown]>, number][] = [
    [
      'a code action in an integration with secrets',
      'writer',
      async () => ['POST', '/v1/actions', code({ integration_id: withSecrets })],
      403,
    ],
    [
      'a code action in an integration with secrets',
      'trusted',
      async () => ['POST', '/v1/actions', code({ integration_id: withSecrets })],
      201,
    ],
    [
      'a code action with secrets of its own',
      'writer',
      async () => ['POST', '/v1/actions', code({ secrets: { API_TOKEN: secretId } })],
      403,
    ],
    [
      'a code action that can read no secret',
      'writer',
      async () => ['POST', '/v1/actions', code({ integration_id: plain })],
      201,
    ],
    [
      'an http action using the integration’s secrets',
      'writer',
      async () => [
        'POST',
        '/v1/actions',
        http({ integration_id: withSecrets, secrets: { API_TOKEN: secretId } }),
      ],
      201,
    ],
    [
      'a change of a code action’s source',
      'writer',
      async () => [
        'PATCH',
        `/v1/actions/${await adminCode({ integration_id: withSecrets })}`,
        { code: { source: 'return 2' } },
      ],
      403,
    ],
    [
      'a change of a code action’s name alone',
      'writer',
      async () => [
        'PATCH',
        `/v1/actions/${await adminCode({ secrets: { API_TOKEN: secretId } })}`,
        { name: 'Renamed' },
      ],
      403,
    ],
    [
      'a change of a code action’s source',
      'trusted',
      async () => [
        'PATCH',
        `/v1/actions/${await adminCode({ integration_id: withSecrets })}`,
        { code: { source: 'return 2' } },
      ],
      200,
    ],
    [
      'a code action moved into an integration with secrets',
      'writer',
      async () => [
        'PATCH',
        `/v1/actions/${await adminCode({ integration_id: plain })}`,
        { integration_id: withSecrets },
      ],
      403,
    ],
    [
      'a secret added to an integration with code actions',
      'writer',
      () => addSecretTo(async (id) => adminCode({ integration_id: id })),
      403,
    ],
    [
      'a secret added to an integration with code actions',
      'trusted',
      () => addSecretTo(async (id) => adminCode({ integration_id: id })),
      200,
    ],
    [
      'a secret added to an integration with only http actions',
      'writer',
      () => addSecretTo((id) => t.request('POST', '/v1/actions', { body: http({ integration_id: id }) })),
      200,
    ],
    [
      'another change of an integration with code actions and secrets',
      'writer',
      async () => {
        const id = await integration({ API_TOKEN: secretId });
        await adminCode({ integration_id: id });
        return ['PATCH', `/v1/integrations/${id}`, { name: 'Renamed', secrets: { API_TOKEN: secretId } }];
      },
      200,
    ],
    [
      'a Langdock action in an integration with secrets',
      'langdock',
      async () => langdockCreate(withSecrets) as never,
      201,
    ],
    [
      'a Langdock action in an integration with secrets',
      'langdockBefore',
      async () => langdockCreate(withSecrets) as never,
      403,
    ],
    [
      'a Langdock action in an integration without secrets',
      'langdockBefore',
      async () => langdockCreate(plain) as never,
      201,
    ],
    [
      'a Langdock replacement in an integration with secrets',
      'langdockBefore',
      async () => {
        const id = await adminCode({ integration_id: withSecrets });
        return [
          'PUT',
          `/integrations/v1/${withSecrets}/actions/${id}`,
          { name: `Replaced ${Math.random()}`, code: 'return 3' },
        ];
      },
      403,
    ],
  ];

  it.each(cases)('%s, by the %s key', async (_name, who, make, status) => {
    const [method, url, body] = await make();
    const before = await snapshot();
    const response = await t.request(method, url, { key: keys[who], body });
    expect(response.status, response.text).toBe(status);
    if (status !== 403) return;
    expect(await snapshot()).toEqual(before);
    expectScopeError(response);
  });

  it('lets a workflow’s code step be written without secrets:use: it can read no secret', async () => {
    await t.startWork();
    const workflow = await t.request('POST', '/v1/workflows', {
      key: keys.writer,
      body: {
        name: 'Code step',
        trigger_type: 'manual-trigger',
        workflow_blocks: [
          { $kind: 'Action', id: 'c', type: 'code', input: { source: 'return Object.keys(secrets)' } },
        ],
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    const started = await t.request('POST', `/v1/workflows/${workflow.body.workflow_id}/runs`, {
      key: keys.writer,
      body: { input: {} },
    });
    const run = await until(
      async () => (await t.request('GET', `/v1/runs/${started.body.id}`)).body,
      (r) => r.status === 'succeeded' || r.status === 'failed',
    );
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', output: [] });
  });

  it('never lets racing saves give code a secret written by a key without secrets:use', async () => {
    for (let round = 0; round < 8; round++) {
      const id = await integration();
      const [added, created] = await Promise.all([
        t.request('PATCH', `/v1/integrations/${id}`, {
          key: keys.writer,
          body: { secrets: { API_TOKEN: secretId } },
        }),
        t.request('POST', '/v1/actions', { key: keys.writer, body: code({ integration_id: id }) }),
      ]);
      // whichever commits first, the other sees it and is refused
      expect(['200/403', '403/201'], `round ${round}`).toContain(`${added.status}/${created.status}`);
    }
  });

  /** The native error body, or Langdock's on its routes. */
  function expectScopeError(response: Response): void {
    if (response.body.statusCode === undefined) {
      expect(response.body.error).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
      expect(response.body.error.message).toMatch(/"secrets:use"/);
    } else {
      expect(response.body).toMatchObject({
        statusCode: 403,
        message: expect.stringMatching(/"secrets:use"/),
      });
    }
  }

  /** What a refused save must leave as it was. */
  async function snapshot() {
    const [actions, integrations] = await Promise.all([
      t.request('GET', '/v1/actions?limit=100'),
      t.request('GET', '/v1/integrations?limit=100'),
    ]);
    return [actions.body, integrations.body];
  }
});
