/**
 * Every URL the server will send to is judged by the egress guard when it is saved, wherever it is saved:
 * an integration's base URL and its default auth's token URL, an action's URL and its auth's token URL,
 * a workflow http step's URL and auth. A refused URL is a 400 naming the field, and nothing is saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const METADATA = 'http://169.254.169.254/latest/meta-data/';
const LOOPBACK = 'http://127.0.0.1:5432/token';

const oauth2 = (tokenUrl: string) => ({
  type: 'oauth2_client_credentials',
  token_url: tokenUrl,
  client_id: 'switchboard',
  secret_id: '<secret>',
});
const tokenUrl = (url: string) => ({ type: 'token_url', url });
const httpStep = (input: Record<string, unknown>) => [{ $kind: 'Action', id: 'call', type: 'http', input }];
const httpAction = (http: Record<string, unknown>) => ({
  name: 'A',
  description: 'd',
  kind: 'http',
  http: { method: 'GET', ...http },
});

describe.each(STORE_KINDS)('the egress guard at save time on %s', (kind) => {
  let t: TestApp;
  let secretId: string;
  let integrationId: string;
  let workflowId: string;

  /** Puts the test's secret id where a case wrote `<secret>`. */
  const withSecret = (body: unknown): unknown =>
    JSON.parse(JSON.stringify(body).replaceAll('<secret>', secretId));

  beforeAll(async () => {
    t = await startTestApp(kind);
    secretId = (await t.request('POST', '/v1/secrets', { body: { name: 'CLIENT', value: 'client-secret' } }))
      .body.id;
    integrationId = (await t.request('POST', '/v1/integrations', { body: { name: 'Kept' } })).body.id;
    const workflow = await t.request('POST', '/v1/workflows', {
      body: {
        name: 'Kept',
        trigger_type: 'manual-trigger',
        workflow_blocks: httpStep({ url: 'https://api.example.com/' }),
      },
    });
    expect(workflow.status, workflow.text).toBe(201);
    workflowId = workflow.body.workflow_id;
  });
  afterAll(async () => t.close());

  const cases: [string, () => [string, string], unknown, string][] = [
    [
      'an integration’s base URL',
      () => ['POST', '/v1/integrations'],
      { name: 'I', base_url: METADATA },
      '/base_url',
    ],
    [
      'an integration’s OAuth2 token URL',
      () => ['POST', '/v1/integrations'],
      { name: 'I', auth: oauth2(METADATA) },
      '/auth/token_url',
    ],
    [
      'an integration’s authorization URL',
      () => ['POST', '/v1/integrations'],
      { name: 'I', auth: tokenUrl(LOOPBACK) },
      '/auth/url',
    ],
    [
      'an integration’s token URL, changed',
      () => ['PATCH', `/v1/integrations/${integrationId}`],
      { auth: oauth2(LOOPBACK) },
      '/auth/token_url',
    ],
    ['an action’s URL', () => ['POST', '/v1/actions'], httpAction({ url: METADATA }), '/http/url'],
    [
      'an action’s OAuth2 token URL',
      () => ['POST', '/v1/actions'],
      httpAction({ url: 'https://api.example.com/', auth: oauth2(METADATA) }),
      '/http/auth/token_url',
    ],
    [
      'an action’s authorization URL',
      () => ['POST', '/v1/actions'],
      httpAction({ url: 'https://api.example.com/', auth: tokenUrl(LOOPBACK) }),
      '/http/auth/url',
    ],
    [
      'a workflow http step’s URL',
      () => ['POST', '/v1/workflows'],
      { name: 'W', trigger_type: 'manual-trigger', workflow_blocks: httpStep({ url: METADATA }) },
      '/workflow_blocks/0/input/url',
    ],
    [
      'a workflow http step’s URL with a placeholder in its path',
      () => ['POST', '/v1/workflows'],
      {
        name: 'W',
        trigger_type: 'manual-trigger',
        workflow_blocks: httpStep({ url: 'http://10.0.0.1/orders/{{trigger.id}}' }),
      },
      '/workflow_blocks/0/input/url',
    ],
    [
      'a workflow http step’s token URL',
      () => ['POST', '/v1/workflows'],
      {
        name: 'W',
        trigger_type: 'manual-trigger',
        workflow_blocks: httpStep({ url: 'https://api.example.com/', auth: oauth2(METADATA) }),
      },
      '/workflow_blocks/0/input/auth/token_url',
    ],
    [
      'a workflow http step’s URL, changed',
      () => ['PATCH', `/v1/workflows/${workflowId}`],
      { workflow_blocks: httpStep({ url: LOOPBACK }) },
      '/workflow_blocks/0/input/url',
    ],
  ];

  it.each(cases)('refuses %s that the guard refuses, naming the field', async (_name, route, body, path) => {
    const [method, url] = route();
    const before = await snapshot();
    const response = await t.request(method, url, { body: withSecret(body) });
    expect(response.status, response.text).toBe(400);
    expect(response.body.error.message).toMatch(/egress guard refuses/);
    expect(response.body.error.path).toBe(path);
    expect(await snapshot()).toEqual(before);
  });

  it('accepts the same fields with public URLs', async () => {
    const integration = await t.request('POST', '/v1/integrations', {
      body: withSecret({ name: 'Public', auth: oauth2('https://auth.example.com/token') }),
    });
    expect(integration.status, integration.text).toBe(201);
    const workflow = await t.request('POST', '/v1/workflows', {
      body: withSecret({
        name: 'Public',
        trigger_type: 'manual-trigger',
        workflow_blocks: httpStep({
          url: 'https://api.example.com/',
          auth: oauth2('https://auth.example.com/t'),
        }),
      }),
    });
    expect(workflow.status, workflow.text).toBe(201);
  });

  /** What a refused save must leave unchanged. */
  async function snapshot() {
    const [integrations, actions, workflows, integration, workflow] = await Promise.all([
      t.request('GET', '/v1/integrations'),
      t.request('GET', '/v1/actions'),
      t.request('GET', '/v1/workflows'),
      t.request('GET', `/v1/integrations/${integrationId}`),
      t.request('GET', `/v1/workflows/${workflowId}`),
    ]);
    return [integrations.body, actions.body, workflows.body, integration.body, workflow.body];
  }
});
