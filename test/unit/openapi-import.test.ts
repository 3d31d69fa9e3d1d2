/**
 * OpenAPI import, the mapping: three public API descriptions of different styles (Swagger 2.0 Petstore,
 * OpenAPI 3.0 GitHub Enterprise Server, OpenAPI 3.1 Spotify in YAML) and small inline documents, one
 * behaviour each: $ref, allOf, oneOf, cycles, servers, parameters, bodies, security, and what is skipped.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AppError } from '../../src/core/errors.ts';
import type { PlannedOperation } from '../../src/core/openapi/index.ts';
import { doc, operation, plan, reason } from '../helpers/openapi.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/openapi/${name}`, import.meta.url), 'utf8');
const PETSTORE = fixture('petstore-swagger2.json');
const GITHUB = fixture('github-issues-openapi30.json');
const SPOTIFY = fixture('spotify-openapi31.yaml');

const variable = (op: PlannedOperation, name: string) => op.action.variables.find((v) => v.name === name);

describe('Swagger 2.0: Petstore', () => {
  const result = plan(PETSTORE, { credentials: { api_key: { secretId: 'sec_1' } } });

  it('converts host, basePath and schemes to a server, preferring https', () => {
    expect(result.format).toBe('swagger 2.0');
    expect(result.title).toBe('Swagger Petstore');
    expect(result.server).toBe('https://petstore.swagger.io/v2');
  });

  it('maps a path parameter, the operation’s own winning over the path level, and the api key', () => {
    const op = operation(result, 'getPetById');
    expect(op.action.http).toEqual({
      method: 'GET',
      url: 'https://petstore.swagger.io/v2/pet/{{petId}}',
      auth: { type: 'api_key', in: 'header', name: 'api_key', secret_id: 'sec_1' },
    });
    expect(op.action.variables).toEqual([
      { name: 'petId', type: 'integer', required: true, description: 'ID of pet to return' },
    ]);
    expect(op.action).toMatchObject({
      name: 'Find pet by ID',
      tool_name: 'get_pet_by_id',
      tags: ['openapi', 'pet'],
    });
  });

  it('maps a body parameter through #/definitions, and notes the list of objects it cannot hold', () => {
    const op = operation(result, 'updatePet');
    expect(op.action.http.body).toEqual({
      id: '{{id}}',
      category: '{{category}}',
      name: '{{name}}',
      photoUrls: '{{photoUrls}}',
      status: '{{status}}',
    });
    expect(variable(op, 'category')).toMatchObject({ type: 'object', required: false });
    expect(variable(op, 'name')).toMatchObject({ type: 'string', required: true, example: 'doggie' });
    expect(variable(op, 'photoUrls')).toMatchObject({
      type: 'array',
      items: { type: 'string' },
      required: true,
    });
    expect(variable(op, 'status')).toMatchObject({ type: 'enum', enum: ['available', 'pending', 'sold'] });
    expect(op.notes.join('\n')).toMatch(/body field "tags" is a list of objects.*left out/);
    // the first alternative (implicit OAuth2) cannot be met; the api key can
    expect(op.action.http.auth).toMatchObject({ type: 'api_key' });
  });

  it('maps formData to a form body and enum items to a list of enum', () => {
    const form = operation(result, 'updatePetWithForm');
    expect(form.action.http).toMatchObject({
      body_type: 'form',
      body: { name: '{{name}}', status: '{{status}}' },
    });
    const find = operation(result, 'findPetsByStatus');
    expect(variable(find, 'status')).toMatchObject({
      type: 'array',
      items: { type: 'enum', enum: ['available', 'pending', 'sold'] },
    });
    expect(find.action.http.query).toEqual({ status: '{{status}}' });
    expect(variable(operation(result, 'getOrderById'), 'orderId')).toMatchObject({ minimum: 1, maximum: 10 });
  });

  it.each([
    ['uploadFile', /only multipart\/form-data/],
    ['addPet', /"petstore_auth" cannot be mapped: only the OAuth2 clientCredentials flow/],
    ['deletePet', /"petstore_auth" cannot be mapped/],
  ])('skips %s with the reason', (key, why) => {
    expect(reason(result, key)).toMatch(why);
  });

  it('asks for the secret of a scheme that was not given', () => {
    const without = plan(PETSTORE);
    expect(reason(without, 'getPetById')).toBe('provide secrets.api_key');
    expect(without.securitySchemes).toContainEqual({
      name: 'api_key',
      type: 'apiKey in header api_key',
      auth: 'api_key',
      secret: 'missing',
      reason: 'provide secrets.api_key',
    });
    expect(operation(without, 'placeOrder').action.http.auth).toBeUndefined();
  });
});

describe('OpenAPI 3.0: GitHub Enterprise Server issues', () => {
  const result = plan(GITHUB, { credentials: { bearerAuth: { secretId: 'sec_gh' } } });

  it('substitutes server variables with their defaults; base_url replaces the server', () => {
    expect(result.server).toBe('https://github.example.com/api/v3');
    expect(operation(result, 'issues/get').action.http.url).toBe(
      'https://github.example.com/api/v3/repos/{{owner}}/{{repo}}/issues/{{issue_number}}',
    );
    const based = plan(GITHUB, {
      credentials: { bearerAuth: { secretId: 'sec_gh' } },
      baseUrl: 'http://127.0.0.2:9000/gh/',
    });
    expect(operation(based, 'issues/get').action.http.url).toBe(
      'http://127.0.0.2:9000/gh/repos/{{owner}}/{{repo}}/issues/{{issue_number}}',
    );
  });

  it('merges path-level parameters ($ref) with the operation’s, the operation’s winning', () => {
    const list = operation(result, 'issues/list-for-repo');
    expect(list.action.variables.map((v) => v.name)).toEqual([
      'owner',
      'repo',
      'milestone',
      'state',
      'labels',
      'sort',
      'since',
      'per_page',
      'page',
      'X_GitHub_Api_Version',
    ]);
    expect(list.action.http.headers).toEqual({ 'X-GitHub-Api-Version': '{{X_GitHub_Api_Version}}' });
    expect(variable(list, 'per_page')).toMatchObject({
      type: 'integer',
      default: 30,
      minimum: 1,
      maximum: 100,
    });
    expect(variable(list, 'state')).toMatchObject({ type: 'enum', default: 'open' });
    expect(variable(list, 'since')?.description).toMatch(/Format: date-time\.$/);
    expect(list.notes).toContain(
      'header parameter "X-GitHub-Api-Version" is the variable X_GitHub_Api_Version',
    );
    const update = operation(result, 'issues/update');
    expect(variable(update, 'issue_number')).toMatchObject({
      description: 'The number that identifies the issue (as shown in its URL).',
      minimum: 1,
    });
  });

  it('reads a requestBodies $ref with allOf, and reduces oneOf to text with a note', () => {
    const create = operation(result, 'issues/create');
    expect(create.action.http.body).toEqual({
      title: '{{title}}',
      body: '{{body}}',
      assignees: '{{assignees}}',
      milestone: '{{milestone}}',
    });
    expect(variable(create, 'title')).toMatchObject({ type: 'string', required: true });
    expect(create.notes).toEqual(
      expect.arrayContaining([
        'body field "title": oneOf: one of several shapes; taken as text',
        expect.stringMatching(/body field "labels" is a list of objects/),
      ]),
    );
    expect(create.action.http.auth).toEqual({ type: 'bearer', secret_id: 'sec_gh' });
  });

  it('merges allOf with an inline part (PATCH), and honours security: [] as no auth', () => {
    const update = operation(result, 'issues/update');
    expect(Object.keys(update.action.http.body as object)).toEqual([
      'body',
      'assignees',
      'milestone',
      'state',
      'state_reason',
    ]);
    expect(variable(update, 'state_reason')).toMatchObject({ type: 'enum', example: 'not_planned' });
    expect(operation(result, 'meta/get').action.http.auth).toBeUndefined();
  });

  it('skips a binary upload with the reason', () => {
    expect(reason(result, 'repos/upload-release-asset')).toMatch(/only application\/octet-stream/);
  });
});

describe('OpenAPI 3.1 (YAML): Spotify', () => {
  const credentials = { oauth_2_0: { secretId: 'sec_sp', clientId: 'client-1' } };
  const result = plan(SPOTIFY, { credentials });

  it('maps OAuth2 client credentials, and reads examples, const and type lists', () => {
    expect(result.format).toBe('openapi 3.1.0');
    const search = operation(result, 'search');
    expect(search.action.http.auth).toEqual({
      type: 'oauth2_client_credentials',
      token_url: 'https://accounts.spotify.com/api/token',
      client_id: 'client-1',
      secret_id: 'sec_sp',
    });
    expect(variable(search, 'q')).toMatchObject({ example: 'remaster%20track:Doxy%20artist:Miles%20Davis' });
    expect(variable(search, 'include_external')).toMatchObject({ type: 'enum', enum: ['audio'] });
    expect(variable(search, 'limit')).toMatchObject({ default: 20, minimum: 0, maximum: 50 });
  });

  it('skips an operation whose scopes only a signed-in person can grant', () => {
    expect(reason(result, 'start-a-users-playback')).toMatch(
      /the scopes user-modify-playback-state are granted only by OAuth2 flows where a person signs in/,
    );
  });

  it('reads a $ref with a sibling description and a nullable type list in a body', () => {
    const parsed = parseYaml(SPOTIFY);
    delete parsed.paths['/me/player/play'].put.security;
    const play = operation(plan(parsed, { credentials }), 'start-a-users-playback');
    expect(variable(play, 'offset')).toMatchObject({
      type: 'object',
      description: 'Indicates from where in the context playback should start.',
    });
    expect(variable(play, 'position_ms')).toMatchObject({ type: 'integer', minimum: 0 });
    expect(variable(play, 'context_uri')).toMatchObject({ example: 'spotify:album:1Je1IMUlBXcx1Fz0WE7oPT' });
    expect(play.action.http.query).toEqual({ device_id: '{{device_id}}' });
  });

  it('uses a token_url given with the secret, and asks for a client id when missing', () => {
    const local = plan(SPOTIFY, {
      credentials: { oauth_2_0: { ...credentials.oauth_2_0, tokenUrl: 'http://127.0.0.2:1/token' } },
    });
    expect(operation(local, 'get-an-artist').action.http.auth).toMatchObject({
      token_url: 'http://127.0.0.2:1/token',
    });
    expect(reason(plan(SPOTIFY, { credentials: { oauth_2_0: { secretId: 's' } } }), 'search')).toBe(
      'provide secrets.oauth_2_0 as {"secret_id", "client_id"}',
    );
  });
});

describe('schemas', () => {
  it('turns a recursive schema into an object variable, with a note', () => {
    const result = plan(
      doc(
        {
          '/nodes': {
            post: {
              operationId: 'createNode',
              requestBody: {
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } },
              },
            },
          },
        },
        {
          components: {
            schemas: {
              Node: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string', maxLength: 80 },
                  parent: { $ref: '#/components/schemas/Node' },
                  self: { allOf: [{ $ref: '#/components/schemas/Node' }] },
                },
              },
            },
          },
        },
      ),
    );
    const op = operation(result, 'createNode');
    expect(op.action.variables).toEqual([
      { name: 'name', type: 'string', required: true, max_length: 80 },
      { name: 'parent', type: 'object', required: false },
      { name: 'self', type: 'object', required: false },
    ]);
    expect(op.notes).toContain(
      'body field "parent": #/components/schemas/Node refers to itself; taken as a free-form object',
    );
  });

  it('gives up on schemas whose allOf parts multiply without a cycle, instead of hanging', () => {
    const schemas = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `S${i}`,
        { allOf: [{ $ref: `#/components/schemas/S${i + 1}` }, { $ref: `#/components/schemas/S${i + 1}` }] },
      ]),
    );
    const started = Date.now();
    const result = plan(
      doc(
        {
          '/x': {
            post: {
              operationId: 'op',
              requestBody: {
                content: { 'application/json': { schema: { $ref: '#/components/schemas/S0' } } },
              },
            },
          },
        },
        { components: { schemas } },
      ),
    );
    expect(reason(result, 'op')).toBe('its schemas combine too many allOf / oneOf / anyOf parts to read');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    [{ type: 'string', format: 'date' }, { type: 'date' }],
    [{ type: 'string', format: 'email' }, { type: 'email' }],
    [
      { type: 'number', minimum: 0.5 },
      { type: 'number', minimum: 0.5 },
    ],
    [
      { type: 'boolean', default: false },
      { type: 'boolean', default: false },
    ],
    [
      { type: 'integer', enum: [1, 2, 3] },
      { type: 'integer', description: 'One of: 1, 2, 3.' },
    ],
    [{ type: 'object', additionalProperties: true }, { type: 'object' }],
    [{ oneOf: [{ type: 'integer' }, { type: 'integer' }] }, { type: 'integer' }],
    [{ anyOf: [{ type: 'object' }, { type: 'string' }] }, { type: 'object' }],
    [
      { type: ['string', 'null'], maxLength: 100000 },
      { type: 'string', max_length: 32768 },
    ],
    [{ type: 'string', default: 'x'.repeat(5000) }, { type: 'string' }],
    [{ type: 'integer', example: 'many' }, { type: 'integer' }],
    [{}, { type: 'string' }],
  ])('a query parameter with schema %j becomes %j', (schema, expected) => {
    const result = plan(
      doc({ '/things': { get: { operationId: 'list', parameters: [{ name: 'p', in: 'query', schema }] } } }),
    );
    const p = variable(operation(result, 'list'), 'p');
    expect(p).toMatchObject(expected);
    if (!('default' in expected)) expect(p).not.toHaveProperty('default');
    if (!('example' in expected)) expect(p).not.toHaveProperty('example');
  });

  it('sends a whole body that is a list as one variable, with its JSON media type', () => {
    const result = plan(
      doc({
        '/tags': {
          put: {
            operationId: 'setTags',
            requestBody: {
              required: true,
              content: {
                'application/vnd.api+json': { schema: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
        },
      }),
    );
    const op = operation(result, 'setTags');
    expect(op.action.http).toMatchObject({
      body: '{{body}}',
      body_type: 'json',
      headers: { 'Content-Type': 'application/vnd.api+json' },
    });
    expect(op.action.variables).toEqual([
      { name: 'body', type: 'array', items: { type: 'string' }, required: true },
    ]);
  });
});

describe('parameters and names', () => {
  it('resolves name collisions deterministically and reports each', () => {
    const result = plan(
      doc({
        '/orders/{id}': {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          post: {
            operationId: 'updateOrder',
            parameters: [
              { name: 'ID', in: 'query', schema: { type: 'string' } },
              { name: 'timezone', in: 'query', schema: { type: 'string' } },
              { name: 'X-Request-Id', in: 'header', schema: { type: 'string' } },
              { name: 'Accept', in: 'header', schema: { type: 'string' } },
              { name: 'session', in: 'cookie', schema: { type: 'string' } },
            ],
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { id: { type: 'string' }, note: { type: 'string', readOnly: true } },
                  },
                },
              },
            },
          },
        },
      }),
    );
    const op = operation(result, 'updateOrder');
    expect(op.action.variables.map((v) => v.name)).toEqual([
      'id',
      'query_ID',
      'query_timezone',
      'X_Request_Id',
      'body_id',
    ]);
    expect(op.action.http).toMatchObject({
      url: 'https://api.example.com/v1/orders/{{id}}',
      query: { ID: '{{query_ID}}', timezone: '{{query_timezone}}' },
      headers: { 'X-Request-Id': '{{X_Request_Id}}' },
      body: { id: '{{body_id}}' },
    });
    expect(op.notes).toEqual(
      expect.arrayContaining([
        'query parameter "ID" is the variable query_ID: "ID" is taken by the path parameter "id"',
        'query parameter "timezone" is the variable query_timezone: "timezone" is a runtime variable',
        'body field "id" is the variable body_id: "id" is taken by the path parameter "id"',
        'header parameter "Accept" is left out: Switchboard sets Accept itself',
        'cookie parameter "session" is a cookie, and http actions send no cookies; left out (it is optional)',
      ]),
    );
  });

  it.each([
    [
      'a required cookie',
      { get: { operationId: 'op', parameters: [{ name: 's', in: 'cookie', required: true }] } },
      'cookie parameter "s" is a cookie, and http actions send no cookies',
    ],
    [
      'a GET that requires a body',
      {
        get: {
          operationId: 'op',
          requestBody: { required: true, content: { 'application/json': { schema: {} } } },
        },
      },
      'it requires a request body with GET, which an http action cannot send',
    ],
    [
      'an external $ref',
      { get: { operationId: 'op', parameters: [{ $ref: 'common.yaml#/parameters/page' }] } },
      'the $ref "common.yaml#/parameters/page" points outside the document; import it by url, or bundle it into one file (for example with `redocly bundle`)',
    ],
    [
      'a $ref to nothing',
      { get: { operationId: 'op', parameters: [{ $ref: '#/components/parameters/missing' }] } },
      'the $ref "#/components/parameters/missing" points to nothing in the document',
    ],
    [
      'a required list of objects',
      {
        post: {
          operationId: 'op',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: { items: { type: 'array', items: { type: 'object' } } },
                },
              },
            },
          },
        },
      },
      'body field "items" is a list of objects, which an action variable cannot hold',
    ],
    [
      'TRACE',
      { trace: { operationId: 'op' } },
      'http actions send GET, POST, PUT, PATCH, DELETE, HEAD, not TRACE',
    ],
  ])('skips %s', (_name, pathItem, why) => {
    expect(reason(plan(doc({ '/things': pathItem })), 'op')).toBe(why);
  });

  it('keys operations without a unique operationId by "METHOD /path"', () => {
    const result = plan(
      doc({
        '/a': { get: { operationId: 'same' }, post: {} },
        '/b': { get: { operationId: 'same' } },
      }),
    );
    expect(result.operations.map((o) => o.key)).toEqual(['GET /a', 'POST /a', 'GET /b']);
    expect(result.operations.map((o) => o.action.tool_name)).toEqual(['same', 'post_a', 'same_2']);
  });

  it('gives tool names not yet taken in the organization', () => {
    const result = plan(doc({ '/a': { get: { operationId: 'listThings' } } }), {
      toolNames: new Set(['list_things']),
    });
    expect(result.operations[0]?.action.tool_name).toBe('list_things_2');
  });
});

describe('servers', () => {
  const relative = doc({ '/ping': { get: { operationId: 'ping' } } }, { servers: [{ url: '/api' }] });

  it.each([
    ['relative, inline', relative, {}, undefined, /the server URL "\/api" is relative; give base_url/],
    [
      'relative, fetched',
      relative,
      { documentUrl: 'https://docs.example.com/specs/openapi.json' },
      'https://docs.example.com/api/ping',
      undefined,
    ],
    [
      'absent, with base_url',
      doc({ '/ping': { get: { operationId: 'ping' } } }, { servers: [] }),
      { baseUrl: 'https://x.example.com' },
      'https://x.example.com/ping',
      undefined,
    ],
    [
      'a variable without a default',
      doc(
        { '/ping': { get: { operationId: 'ping' } } },
        { servers: [{ url: 'https://{tenant}.example.com' }] },
      ),
      {},
      undefined,
      /the server URL "https:\/\/\{tenant\}.example.com" has the variable \{tenant\} with no default; give base_url/,
    ],
    [
      'an operation-level server',
      doc({ '/ping': { get: { operationId: 'ping', servers: [{ url: 'https://other.example.com/' }] } } }),
      {},
      'https://other.example.com/ping',
      undefined,
    ],
  ])('%s', (_name, document, options, url, why) => {
    const result = plan(document, options);
    if (url) expect(operation(result, 'ping').action.http.url).toBe(url);
    else expect(reason(result, 'ping')).toMatch(why as RegExp);
  });
});

describe('security', () => {
  const schemes = {
    bearer: { type: 'http', scheme: 'bearer' },
    basic: { type: 'http', scheme: 'basic' },
    key: { type: 'apiKey', in: 'query', name: 'key' },
    tenant: { type: 'apiKey', in: 'header', name: 'X-Tenant' },
    cookie: { type: 'apiKey', in: 'cookie', name: 'sid' },
    oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://example.com/.well-known/openid-configuration' },
    digest: { type: 'http', scheme: 'digest' },
  };
  const secured = (security: unknown) =>
    doc({ '/x': { get: { operationId: 'op', security } } }, { components: { securitySchemes: schemes } });

  it.each([
    ['bearer', [{ bearer: [] }], { bearer: { secretId: 's' } }, { type: 'bearer', secret_id: 's' }],
    [
      'basic with a username',
      [{ basic: [] }],
      { basic: { secretId: 's', username: 'ada' } },
      { type: 'basic', username: 'ada', secret_id: 's' },
    ],
    [
      'an api key in the query',
      [{ key: [] }],
      { key: { secretId: 's' } },
      { type: 'api_key', in: 'query', name: 'key', secret_id: 's' },
    ],
    [
      'the first alternative that can be met',
      [{ oidc: [] }, { bearer: [] }],
      { bearer: { secretId: 's' } },
      { type: 'bearer', secret_id: 's' },
    ],
  ])('maps %s', (_name, security, credentials, auth) => {
    expect(operation(plan(secured(security), { credentials }), 'op').action.http.auth).toEqual(auth);
  });

  it.each([
    ['a missing secret', [{ bearer: [] }], {}, 'provide secrets.bearer'],
    [
      'basic without a username',
      [{ basic: [] }],
      { basic: { secretId: 's' } },
      'provide secrets.basic as {"secret_id", "username"} (HTTP basic: the secret is the password)',
    ],
    [
      'a cookie api key',
      [{ cookie: [] }],
      {},
      'security scheme "cookie" cannot be mapped: API keys in a cookie are not supported',
    ],
    [
      'OpenID Connect',
      [{ oidc: [] }],
      {},
      'security scheme "oidc" cannot be mapped: OpenID Connect needs a person to sign in',
    ],
    [
      'HTTP digest',
      [{ digest: [] }],
      {},
      'security scheme "digest" cannot be mapped: HTTP digest is not supported',
    ],
    ['an undefined scheme', [{ nope: [] }], {}, 'security scheme "nope" is not defined in the document'],
    [
      'two credentials that are not api keys',
      [{ bearer: [], basic: [] }],
      { bearer: { secretId: 's' }, basic: { secretId: 't', username: 'u' } },
      'the requirement bearer + basic needs several credentials at once, and only API keys can be added to another',
    ],
  ])('skips an operation with %s', (_name, security, credentials, why) => {
    expect(reason(plan(secured(security), { credentials }), 'op')).toBe(why);
  });

  it('imports without auth when the API also allows anonymous calls, saying why', () => {
    const op = operation(plan(secured([{ bearer: [] }, {}])), 'op');
    expect(op.action.http.auth).toBeUndefined();
    expect(op.notes).toEqual([
      'imported without auth (the API also allows anonymous calls): provide secrets.bearer',
    ]);
  });

  it('sends a second api key from the action’s secrets, and does not ask for it as a parameter', () => {
    const document = secured([{ bearer: [], tenant: [] }]) as any;
    document.paths['/x'].get.parameters = [
      { name: 'x-tenant', in: 'header', required: true, schema: { type: 'string' } },
    ];
    const op = operation(
      plan(document, { credentials: { bearer: { secretId: 's' }, tenant: { secretId: 't' } } }),
      'op',
    );
    expect(op.action.http).toMatchObject({
      auth: { type: 'bearer', secret_id: 's' },
      headers: { 'X-Tenant': '{{secrets.tenant}}' },
    });
    expect(op.action.secrets).toEqual({ tenant: 't' });
    expect(op.action.variables).toEqual([]);
  });
});

describe('what is not an operation', () => {
  it('lists callbacks and webhooks as skipped, and notes the callback on its operation', () => {
    const result = plan({
      ...doc({
        '/subscriptions': {
          post: {
            operationId: 'subscribe',
            callbacks: { onEvent: { '{$request.body#/url}': { post: { responses: {} } } } },
          },
        },
      }),
      openapi: '3.1.0',
      webhooks: { newPet: { post: { operationId: 'newPetHook' } } },
    });
    expect(result.skipped).toEqual([
      {
        key: 'subscribe callback onEvent',
        operationId: null,
        method: null,
        path: '{$request.body#/url}',
        reason: 'a callback: the API calls it; it is not a request an agent makes',
      },
      {
        key: 'webhook newPet',
        operationId: 'newPetHook',
        method: 'POST',
        path: null,
        reason: 'a webhook: the API calls it; it is not a request an agent makes',
      },
    ]);
    expect(operation(result, 'subscribe').notes).toEqual([
      'callback onEvent is not imported: a callback: the API calls it; it is not a request an agent makes',
    ]);
  });
});

describe('select', () => {
  const document = doc({ '/a': { get: { operationId: 'getA' }, post: {} } });

  it('plans the operations named by key, operationId or "METHOD /path"', () => {
    expect(plan(document, { select: ['getA'] }).operations.map((o) => o.key)).toEqual(['getA']);
    expect(plan(document, { select: ['post /a'] }).operations.map((o) => o.key)).toEqual(['POST /a']);
    expect(plan(document, { select: ['GET /a', 'POST /a'] }).operations).toHaveLength(2);
  });

  it('refuses a name that matches no operation, before anything is planned', () => {
    expect(() => plan(document, { select: ['getA', 'getB'] })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        path: '/select',
        message: expect.stringContaining('"getB"'),
      }),
    );
  });
});

describe('documents that cannot be read', () => {
  it.each([
    ['empty text', '   ', 'The document is empty'],
    ['broken JSON', '{"openapi": ', 'The document is not valid JSON'],
    ['broken YAML', 'openapi: 3.0.0\n  paths: [', 'The document is neither JSON nor valid YAML'],
    ['a list', '[1, 2]', 'a JSON or YAML object'],
    [
      'no version field',
      { info: {}, paths: {} },
      'it has no "openapi" field (3.x) and no "swagger" field (2.0)',
    ],
    ['Swagger 1.2', { swagger: '1.2', paths: {} }, 'Swagger 1.2 is not supported'],
    ['OpenAPI 4', { openapi: '4.0.0', paths: {} }, 'OpenAPI 4.0.0 is not supported'],
    ['no paths', { openapi: '3.0.0', info: {} }, 'The document has no "paths" object'],
    [
      'a YAML alias bomb',
      `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
      'The document is neither JSON nor valid YAML',
    ],
    ['deep nesting', `${'['.repeat(500)}${']'.repeat(500)}`, 'nested'],
  ])('%s → 400 saying what is wrong', (_name, document, message) => {
    let error: unknown;
    try {
      plan(document);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', path: '/document' });
    expect((error as Error).message).toContain(message);
  });

  it('refuses secrets for a scheme the document does not define', () => {
    expect(() => plan(PETSTORE, { credentials: { apikey: { secretId: 's' } } })).toThrow(
      expect.objectContaining({
        path: '/secrets/apikey',
        message: 'secrets.apikey names no security scheme of the document',
      }),
    );
  });
});
