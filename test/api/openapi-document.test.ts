/**
 * The document GET /openapi.json serves, walked operation by operation: what a generated client and the
 * linters (npm run lint:openapi) need from it. Every operation has a unique, readable operationId; a path
 * parameter has one name per collection; tags are declared with descriptions; servers are given; public
 * routes say `security: []`. The document does not depend on the store, so SQLite alone serves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Dialects whose routes are named after the vendor: their operationIds start with the dialect's tag. */
const DIALECTS = ['opencx', 'langdock', 'talkover'];
const PUBLIC_OPERATIONS = ['GET /healthz', 'GET /readyz', 'POST /v1/hooks/{token}'];

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
}

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: any;
  let operations: { method: string; path: string; operation: Operation }[];

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    doc = (await t.request('GET', '/openapi.json', { key: null })).body;
    operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(
      ([path, item]) =>
        Object.entries(item)
          .filter(([method]) => METHODS.includes(method))
          .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
  });
  afterAll(async () => t.close());

  it('gives every operation a unique camelCase operationId, vendor routes prefixed by their dialect', () => {
    expect(operations.length).toBeGreaterThan(70);
    const missing = operations.filter((o) => !o.operation.operationId).map((o) => `${o.method} ${o.path}`);
    expect(missing).toEqual([]);
    const ids = operations.map((o) => o.operation.operationId!);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const { operation } of operations) {
      expect(operation.operationId).toMatch(/^[a-z][a-zA-Z0-9]*$/);
      const dialect = DIALECTS.find((name) => operation.tags?.includes(name));
      if (dialect) expect(operation.operationId!.startsWith(dialect)).toBe(true);
      else expect(DIALECTS.some((name) => operation.operationId!.startsWith(name))).toBe(false);
    }
  });

  it.each([
    ['GET', '/v1/actions', 'listActions'],
    ['POST', '/v1/actions/{id}/execute', 'executeAction'],
    ['GET', '/v1/workflows/{workflow_id}/runs', 'listWorkflowRuns'],
    ['POST', '/v1/workflows/{workflow_id}/runs', 'startWorkflowRun'],
    ['GET', '/v1/tools', 'listTools'],
    ['POST', '/mcp', 'sendMcpMessage'],
    ['POST', '/actions', 'opencxCreateAction'],
    ['POST', '/integrations/v1/{integrationId}/actions/create', 'langdockCreateAction'],
    ['DELETE', '/api/v1/agents/{agent_id}/actions/{action_id}', 'talkoverDeleteAgentAction'],
  ])('names %s %s %s (a generated client keeps its method names)', (method, path, operationId) => {
    expect(doc.paths[path]?.[method.toLowerCase()]?.operationId).toBe(operationId);
  });

  it('names a path parameter one way per collection, and a workflow `workflow_id` wherever a path holds one', () => {
    const names = new Map<string, Set<string>>();
    for (const path of Object.keys(doc.paths)) {
      for (const match of path.matchAll(/([^/]+)\/\{([^}]+)\}/g)) {
        const collection = path.slice(0, match.index + match[1]!.length);
        names.set(collection, (names.get(collection) ?? new Set()).add(match[2]!));
      }
    }
    const ambiguous = [...names]
      .filter(([, set]) => set.size > 1)
      .map(([c, set]) => `${c}: ${[...set].join(', ')}`);
    expect(ambiguous).toEqual([]);
    expect([...names.get('/v1/workflows')!]).toEqual(['workflow_id']);
    expect([...names.get('/workflows')!]).toEqual(['workflow_id']);
    // every templated name is a declared path parameter of each of its operations
    for (const { path, operation } of operations) {
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(declared.sort()).toEqual(templated.sort());
    }
  });

  it('declares every tag it uses, each with a description, and no tag it does not use', () => {
    const declared = (doc.tags as { name: string; description: string }[]).map((tag) => tag.name);
    const used = new Set(operations.flatMap((o) => o.operation.tags ?? []));
    expect([...used].sort()).toEqual([...declared].sort());
    for (const tag of doc.tags) expect(tag.description).toMatch(/\w{3,}/);
    for (const { operation } of operations) expect(operation.tags?.length).toBeGreaterThan(0);
  });

  it('names its server and says which routes need no API key', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const open = operations
      .filter((o) => Array.isArray(o.operation.security) && o.operation.security.length === 0)
      .map((o) => `${o.method} ${o.path}`);
    expect(open.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
    const rest = operations.filter((o) => !open.includes(`${o.method} ${o.path}`));
    for (const { operation } of rest) expect(operation.security).toEqual([{ bearerAuth: [] }]);
  });

  it('names the auth variants and maps each `type` to its schema', () => {
    const auth =
      doc.paths['/v1/actions'].post.requestBody.content['application/json'].schema.properties.http.properties
        .auth;
    expect(auth.discriminator).toEqual({
      propertyName: 'type',
      mapping: {
        none: '#/components/schemas/NoAuth',
        bearer: '#/components/schemas/BearerAuth',
        basic: '#/components/schemas/BasicAuth',
        api_key: '#/components/schemas/ApiKeyAuth',
        body: '#/components/schemas/BodyAuth',
        oauth2_client_credentials: '#/components/schemas/OAuth2ClientCredentialsAuth',
        token_url: '#/components/schemas/TokenUrlAuth',
      },
    });
    for (const ref of Object.values<string>(auth.discriminator.mapping)) {
      expect(doc.components.schemas[ref.split('/').at(-1)!]).toMatchObject({ type: 'object' });
    }
  });

  it('keeps the URLs a workflow is reached at while its parameter is named workflow_id', async () => {
    const created = await t.request('POST', '/v1/workflows', {
      body: {
        name: 'Renamed parameter',
        trigger_type: 'manual-trigger',
        workflow_blocks: [{ $kind: 'Action', id: 's1', type: 'set', input: { values: { ok: true } } }],
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.workflow_id as string;
    expect((await t.request('GET', `/v1/workflows/${id}`)).body.workflow_id).toBe(id);
    expect((await t.request('PATCH', `/v1/workflows/${id}`, { body: { name: 'Renamed' } })).status).toBe(200);
    expect((await t.request('POST', `/v1/workflows/${id}/runs`, { body: { input: {} } })).status).toBe(202);
    expect((await t.request('GET', `/v1/workflows/${id}/runs`)).body.data).toHaveLength(1);
    expect((await t.request('DELETE', `/v1/workflows/${id}`)).status).toBe(204);
  });
});
