/**
 * OpenAPI import of documents shaped like the public ones, on both stores: a document split over
 * several files (as DigitalOcean's) fetched by url from a loopback server, its references resolved
 * through the guarded client within the bounds on files, or skipped with the reason; list parameters
 * sent as the document's style says, end to end; and the http action's serialization setting written
 * by hand: checked at save (400 naming the parameter), shown by a dry run, sent as the dry run showed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

/** The files of a multi-file document, by path under /spec/. */
function specFiles(upstreamUrl: string): Record<string, string> {
  return {
    'openapi.yaml': [
      'openapi: 3.0.0',
      'info: {title: Cloud, version: "2"}',
      `servers: [{url: "${upstreamUrl}/echo/cloud"}]`,
      'paths:',
      '  /v2/droplets:',
      '    get: {$ref: "resources/droplets/list.yml"}',
      '    post: {$ref: "resources/droplets/create.yml"}',
      '  /v2/droplets/{droplet_id}:',
      '    $ref: "resources/droplets/item.yml"',
      '  /v2/gone:',
      '    get: {$ref: "resources/missing.yml"}',
      '  /v2/local:',
      '    get: {$ref: "file:///etc/hostname"}',
    ].join('\n'),
    'resources/droplets/list.yml': [
      'operationId: droplets_list',
      'summary: List droplets',
      'parameters:',
      '  - $ref: "parameters.yml#/tag_name"',
      '  - $ref: "../../shared/parameters.yml#/fields"',
      'responses:',
      '  "200": {$ref: "responses/never-read.yml"}',
    ].join('\n'),
    'resources/droplets/create.yml': [
      'operationId: droplets_create',
      'requestBody:',
      '  required: true',
      '  content:',
      '    application/json:',
      '      schema: {$ref: "models/droplet.yml"}',
    ].join('\n'),
    'resources/droplets/models/droplet.yml': [
      'type: object',
      'required: [name]',
      'properties:',
      '  name: {type: string, maxLength: 64}',
      '  tags: {type: array, items: {type: string}}',
    ].join('\n'),
    'resources/droplets/item.yml': [
      'parameters:',
      '  - {name: droplet_id, in: path, required: true, schema: {type: integer}}',
      'get: {operationId: droplets_get}',
    ].join('\n'),
    'resources/droplets/parameters.yml': 'tag_name: {name: tag_name, in: query, schema: {type: string}}',
    'shared/parameters.yml': [
      'fields:',
      '  name: fields',
      '  in: query',
      '  style: form',
      '  explode: false',
      '  schema: {type: array, items: {type: string}}',
    ].join('\n'),
  };
}

/** A document with one operation whose parameters are each in a file of their own. */
function wideSpec(files: number): string {
  const refs = Array.from({ length: files }, (_, i) => `      - $ref: "p/${i}.yml"`);
  return [
    'openapi: 3.0.0',
    'info: {title: Wide, version: "1"}',
    'servers: [{url: "https://api.example.com"}]',
    'paths:',
    '  /wide:',
    '    get:',
    '      operationId: wide',
    '      parameters:',
    ...refs,
  ].join('\n');
}

describe.each(STORE_KINDS)('OpenAPI import of multi-file documents on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let files: Record<string, string>;

  const importing = (body: Record<string, unknown>) => t.request('POST', '/v1/imports/openapi', { body });
  const execute = (id: string, inputs: Record<string, unknown>, dryRun = false) =>
    t.request('POST', `/v1/actions/${id}/execute`, {
      body: { inputs, ...(dryRun ? { dry_run: true } : {}) },
    });
  const fetched = (prefix: string) => upstream.requests.filter((r) => r.path.startsWith(prefix));

  beforeAll(async () => {
    upstream = await startUpstream();
    files = specFiles(upstream.url);
    upstream.setHandler((req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const file = path.startsWith('/spec/') ? files[path.slice('/spec/'.length)] : undefined;
      const wide = /^\/wide\/p\/(\d+)\.yml$/.exec(path);
      const text =
        file ??
        (path === '/wide/openapi.yaml'
          ? wideSpec(2001)
          : wide
            ? `name: p${wide[1]}\nin: query\nschema: {type: string}`
            : undefined);
      if (text === undefined) return false;
      res.writeHead(200, { 'content-type': 'application/yaml' });
      res.end(text);
      return true;
    });
    t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
  });

  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('previews a document split over files, each file fetched once through the guarded client', async () => {
    const before = upstream.requests.length;
    const response = await importing({ url: `${upstream.url}/spec/openapi.yaml` });
    expect(response.status).toBe(200);
    const operations = Object.fromEntries(response.body.operations.map((o: any) => [o.key, o.action]));
    expect(Object.keys(operations)).toEqual(['droplets_list', 'droplets_create', 'droplets_get']);
    expect(operations.droplets_list).toMatchObject({
      name: 'List droplets',
      variables: [
        { name: 'tag_name', type: 'string', required: false },
        { name: 'fields', type: 'array', items: { type: 'string' }, required: false },
      ],
      http: {
        method: 'GET',
        url: `${upstream.url}/echo/cloud/v2/droplets`,
        query: { tag_name: '{{tag_name}}', fields: '{{fields}}' },
        serialization: { query: { fields: { style: 'form', explode: false } } },
      },
    });
    expect(operations.droplets_create).toMatchObject({
      variables: [
        { name: 'name', type: 'string', required: true, max_length: 64 },
        { name: 'tags', type: 'array', required: false },
      ],
      http: { method: 'POST', body: { name: '{{name}}', tags: '{{tags}}' } },
    });
    expect(operations.droplets_get).toMatchObject({
      variables: [{ name: 'droplet_id', type: 'integer', required: true }],
      http: { url: `${upstream.url}/echo/cloud/v2/droplets/{{droplet_id}}` },
    });
    expect(response.body.skipped).toEqual([
      expect.objectContaining({
        key: 'GET /v2/gone',
        reason: expect.stringMatching(
          /resources\/missing\.yml#" could not be read: 127\.0\.0\.2:\d+ answered HTTP 404$/,
        ),
      }),
      expect.objectContaining({
        key: 'GET /v2/local',
        reason:
          'the $ref "file:///etc/hostname" could not be read: only http and https files are read, not file ones',
      }),
    ]);
    const paths = upstream.requests.slice(before).map((r) => r.path);
    // the response file is in a part the importer never reads, so it is not fetched
    expect(paths.sort()).toEqual(
      [
        '/spec/openapi.yaml',
        '/spec/resources/droplets/list.yml',
        '/spec/resources/droplets/create.yml',
        '/spec/resources/droplets/item.yml',
        '/spec/resources/missing.yml',
        '/spec/resources/droplets/parameters.yml',
        '/spec/shared/parameters.yml',
        '/spec/resources/droplets/models/droplet.yml',
      ].sort(),
    );
  });

  it('imports from the files and sends a list as the document’s style says', async () => {
    const response = await importing({
      url: `${upstream.url}/spec/openapi.yaml`,
      select: ['droplets_list', 'droplets_create'],
    });
    expect(response.status).toBe(201);
    const id = response.body.created.find((c: any) => c.key === 'droplets_list').action_id as string;
    const dry = await execute(id, { fields: ['id', 'name,size'], tag_name: 'web' }, true);
    const sent = `${upstream.url}/echo/cloud/v2/droplets?`;
    // PostgreSQL's jsonb keeps object keys in an order of its own, so the pairs are compared as a set
    const pairs = (url: string) =>
      url
        .slice(url.indexOf('?') + 1)
        .split('&')
        .sort();
    expect(dry.body.request.url.startsWith(sent)).toBe(true);
    expect(pairs(dry.body.request.url)).toEqual(['fields=id,name%2Csize', 'tag_name=web']);
    const run = await execute(id, { fields: ['id', 'name,size'], tag_name: 'web' });
    expect(run.body.status).toBe('succeeded');
    expect(pairs(run.body.output.path)).toEqual(['fields=id,name%2Csize', 'tag_name=web']);
  });

  it('stops at the bound on files, and the operation that needs one past it says why', async () => {
    const before = fetched('/wide/').length;
    const response = await importing({ url: `${upstream.url}/wide/openapi.yaml` });
    expect(response.status).toBe(200);
    expect(response.body.skipped).toEqual([
      expect.objectContaining({
        key: 'wide',
        reason: expect.stringMatching(
          /p\/2000\.yml#" could not be read: the document refers to more than 2000 files$/,
        ),
      }),
    ]);
    // the document and 2000 of the 2001 files it names
    expect(fetched('/wide/').length - before).toBe(2001);
  }, 120_000);

  describe('the serialization setting written by hand', () => {
    const create = (http: Record<string, unknown>, variables: unknown[]) =>
      t.request('POST', '/v1/actions', {
        body: {
          name: `Styled ${Math.random()}`,
          description: 'Styled parameters',
          kind: 'http',
          variables,
          http,
        },
      });

    it.each([
      [
        'deepObject on a path parameter',
        {
          url: 'https://api.example.com/items/{{id}}',
          serialization: { path: { id: { style: 'deepObject' } } },
        },
        '/http/serialization/path/id',
        'path parameter "id": deepObject is not a style for a path parameter; use simple, label, matrix',
      ],
      [
        'a style for a query parameter the action does not have',
        { url: 'https://api.example.com/items', serialization: { query: { ids: { style: 'form' } } } },
        '/http/serialization/query/ids',
        'query parameter "ids": the action has no such query parameter',
      ],
      [
        'a serialised query value that is not one placeholder',
        {
          url: 'https://api.example.com/items',
          query: { ids: 'x{{id}}' },
          serialization: { query: { ids: { style: 'form', explode: false } } },
        },
        '/http/serialization/query/ids',
        'query parameter "ids": a serialised value must be exactly one placeholder, such as "{{ids}}"',
      ],
      [
        'a form body field on a JSON body',
        {
          method: 'POST',
          url: 'https://api.example.com/items',
          body: { ids: '{{id}}' },
          serialization: { body: { ids: { style: 'deepObject' } } },
        },
        '/http/serialization/body/ids',
        'form body field "ids": the action has no such form body field',
      ],
      [
        'pipeDelimited exploded',
        {
          url: 'https://api.example.com/items',
          query: { ids: '{{id}}' },
          serialization: { query: { ids: { style: 'pipeDelimited', explode: true } } },
        },
        '/http/serialization/query/ids',
        'query parameter "ids": pipeDelimited is defined only with explode false',
      ],
    ])('refuses %s with a 400 naming the parameter', async (_name, http, path, message) => {
      const response = await create({ method: 'GET', ...http }, [
        { name: 'id', type: 'string', required: true },
      ]);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VALIDATION_FAILED');
      expect(response.body.error).toMatchObject({ path, message });
      expect(response.body.error.details.issues).toEqual([{ path, message }]);
    });

    it('a dry run shows the request it would send, and the run sends exactly that', async () => {
      const response = await create(
        {
          method: 'GET',
          url: `${upstream.url}/echo/items/{{ids}}`,
          query: { color: '{{color}}', filter: '{{filter}}', plain: '{{plain}}' },
          headers: { 'X-Tags': '{{tags}}' },
          serialization: {
            path: { ids: { style: 'matrix', explode: true, name: 'id' } },
            query: { color: { style: 'pipeDelimited' }, filter: { style: 'deepObject' } },
            headers: { 'X-Tags': { style: 'simple' } },
          },
        },
        [
          { name: 'ids', type: 'array', items: { type: 'integer' }, required: true },
          { name: 'color', type: 'array', items: { type: 'string' }, required: true },
          { name: 'filter', type: 'object', required: true },
          { name: 'plain', type: 'array', items: { type: 'string' }, required: true },
          { name: 'tags', type: 'array', items: { type: 'string' }, required: true },
        ],
      );
      expect(response.status).toBe(201);
      expect(response.body.http.serialization.query.color).toEqual({ style: 'pipeDelimited' });
      const inputs = {
        ids: [3, 4],
        color: ['blue', 'black|brown'],
        filter: { status: 'open', 'a&b': 'c=d' },
        plain: ['x', 'y'],
        tags: ['a', 'b'],
      };
      const path = `${upstream.url}/echo/items/;id=3;id=4?`;
      const expected = [
        'color=blue%7Cblack%7Cbrown',
        'filter%5Bstatus%5D=open',
        'filter%5Ba%26b%5D=c%3Dd',
        // a list without a serialisation stays JSON text, as for every action saved before it
        'plain=%5B%22x%22%2C%22y%22%5D',
      ];
      // PostgreSQL's jsonb keeps object keys in an order of its own, so the pairs are compared as a set
      const pairs = (url: string) =>
        url
          .slice(url.indexOf('?') + 1)
          .split('&')
          .sort();
      const dry = await execute(response.body.id, inputs, true);
      expect(dry.body.request.url.startsWith(path)).toBe(true);
      expect(pairs(dry.body.request.url)).toEqual(expected.sort());
      expect(dry.body.request.headers).toMatchObject({ 'X-Tags': 'a,b' });
      const run = await execute(response.body.id, inputs);
      expect(run.body.status).toBe('succeeded');
      expect(`${upstream.url}${run.body.output.path}`).toBe(dry.body.request.url);
      expect(run.body.output.headers['x-tags']).toBe('a,b');
      expect(run.body.output.query).toEqual({
        color: 'blue|black|brown',
        'filter[status]': 'open',
        'filter[a&b]': 'c=d',
        plain: '["x","y"]',
      });
    });

    it('sends a form body field as its style says (Stripe’s metadata[key]=value)', async () => {
      const response = await create(
        {
          method: 'POST',
          url: `${upstream.url}/echo/customers`,
          body_type: 'form',
          body: { email: '{{email}}', metadata: '{{metadata}}' },
          serialization: { body: { metadata: { style: 'deepObject' } } },
        },
        [
          { name: 'email', type: 'email', required: true },
          { name: 'metadata', type: 'object', required: false },
        ],
      );
      expect(response.status).toBe(201);
      const run = await execute(response.body.id, {
        email: 'ada@example.com',
        metadata: { order_id: '6735' },
      });
      expect(run.body.status).toBe('succeeded');
      expect(run.body.output.body).toBe('email=ada%40example.com&metadata%5Border_id%5D=6735');
    });

    it('is described in /openapi.json with the http action', async () => {
      const doc = (await t.request('GET', '/openapi.json')).body;
      const body = doc.paths['/v1/actions'].post.requestBody.content['application/json'].schema;
      const serialization = body.properties.http.properties.serialization;
      expect(serialization.description).toMatch(/OpenAPI's style and explode/);
      expect(Object.keys(serialization.properties)).toEqual(['query', 'headers', 'path', 'body']);
    });

    it('refuses, as invalid input, a value that would bring another query parameter', async () => {
      const response = await create(
        {
          method: 'GET',
          url: `${upstream.url}/echo/items`,
          query: { filter: '{{filter}}', limit: '10' },
          serialization: { query: { filter: { style: 'form', explode: true } } },
        },
        [{ name: 'filter', type: 'object', required: true }],
      );
      const run = await execute(response.body.id, { filter: { limit: '100000' } });
      expect(run.body.status).toBe('failed');
      expect(run.body.error.category).toBe('invalid_input');
      const fine = await execute(response.body.id, { filter: { status: 'open' } });
      expect(fine.body.output.query).toEqual({ status: 'open', limit: '10' });
    });
  });
});
