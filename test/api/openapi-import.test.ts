/**
 * POST /v1/imports/openapi on both stores: preview and import each of the three fixture documents
 * (Swagger 2.0 inline text, OpenAPI 3.0 as a parsed object, OpenAPI 3.1 YAML fetched by url), then
 * execute one imported operation of each against a loopback upstream; relative servers resolved against
 * the document's URL; skipped and refused operations with their reasons; bad requests as 4xx.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/openapi/${name}`, import.meta.url), 'utf8');
const PETSTORE = fixture('petstore-swagger2.json');
const GITHUB = JSON.parse(fixture('github-issues-openapi30.json')) as Record<string, unknown>;
const SPOTIFY = fixture('spotify-openapi31.yaml');

const PET_KEY = 'pet-key-5f2b9c1d7e3a';
const GH_TOKEN = 'ghp-token-0a9b8c7d6e5f';
const SPOTIFY_SECRET = 'spotify-secret-1b2c3d4e';
const SPOTIFY_TOKEN = 'sp-access-token-42';

/** Petstore without a host: its basePath is then relative to where the document is served. */
function hostlessPetstore(): string {
  const document = JSON.parse(PETSTORE) as Record<string, unknown>;
  delete document.host;
  document.basePath = '/echo/v2';
  return JSON.stringify(document);
}

describe.each(STORE_KINDS)('OpenAPI import on %s', (kind) => {
  let t: TestApp;
  let upstream: Upstream;
  let petKey: string;
  let ghToken: string;
  let spotifySecret: string;

  const importing = (body: Record<string, unknown>, key?: string) =>
    t.request('POST', '/v1/imports/openapi', { body, ...(key ? { key } : {}) });
  const execute = (id: string, inputs: Record<string, unknown>) =>
    t.request('POST', `/v1/actions/${id}/execute`, { body: { inputs } });
  const lastRequest = (prefix: string) =>
    [...upstream.requests].reverse().find((r) => r.path.startsWith(prefix));
  const actionCount = async () =>
    (await t.request('GET', '/v1/actions?limit=100')).body.data.length as number;
  const createdId = (body: any, key: string): string => {
    const found = body.created.find((c: { key: string }) => c.key === key);
    if (!found) throw new Error(`${key} not created: ${JSON.stringify(body)}`);
    return found.action_id as string;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.setHandler((req, res) => {
      const send = (status: number, type: string, body: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
        return true;
      };
      if (req.url === '/openapi/petstore.json') return send(200, 'application/json', hostlessPetstore());
      if (req.url === '/openapi/spotify.yaml') return send(200, 'application/yaml', SPOTIFY);
      if (req.url === '/spotify/token') {
        const form = new URLSearchParams(req.body.toString('utf8'));
        const good = form.get('client_id') === 'client-1' && form.get('client_secret') === SPOTIFY_SECRET;
        return good
          ? send(200, 'application/json', JSON.stringify({ access_token: SPOTIFY_TOKEN, expires_in: 3600 }))
          : send(401, 'application/json', '{"error":"invalid_client"}');
      }
      return false;
    });
    t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' });
    const secret = async (name: string, value: string) =>
      (await t.request('POST', '/v1/secrets', { body: { name, value } })).body.id as string;
    petKey = await secret('PET_KEY', PET_KEY);
    ghToken = await secret('GH_TOKEN', GH_TOKEN);
    spotifySecret = await secret('SPOTIFY', SPOTIFY_SECRET);
  });

  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it('previews Swagger 2.0 text without saving anything, listing what it skips and why', async () => {
    const before = await actionCount();
    const response = await importing({ document: PETSTORE, secrets: { api_key: petKey } });
    expect(response.status).toBe(200);
    expect(response.body.dry_run).toBe(true);
    expect(response.body.document).toEqual({
      format: 'swagger 2.0',
      title: 'Swagger Petstore',
      version: '1.0.7',
      url: null,
      server: 'https://petstore.swagger.io/v2',
    });
    const get = response.body.operations.find((o: any) => o.key === 'getPetById');
    expect(get.action).toMatchObject({
      name: 'Find pet by ID',
      kind: 'http',
      tool_name: 'get_pet_by_id',
      variables: [{ name: 'petId', type: 'integer', required: true }],
      http: {
        method: 'GET',
        url: 'https://petstore.swagger.io/v2/pet/{{petId}}',
        auth: { type: 'api_key', in: 'header', name: 'api_key', secret_id: petKey },
      },
    });
    expect(response.body.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: 'uploadFile',
          reason: expect.stringMatching(/only multipart\/form-data/),
        }),
        expect.objectContaining({
          key: 'addPet',
          reason: expect.stringMatching(/"petstore_auth" cannot be mapped/),
        }),
      ]),
    );
    expect(response.body.security_schemes).toContainEqual({
      name: 'api_key',
      type: 'apiKey in header api_key',
      auth: 'api_key',
      secret: 'provided',
    });
    expect(await actionCount()).toBe(before);
  });

  it('imports Swagger 2.0 operations and executes one against the upstream with the api key', async () => {
    const response = await importing({
      document: PETSTORE,
      select: ['getPetById', 'placeOrder', 'addPet'],
      base_url: `${upstream.url}/echo/v2`,
      secrets: { api_key: petKey },
    });
    expect(response.status).toBe(201);
    expect(response.body.created.map((c: any) => c.key)).toEqual(['getPetById', 'placeOrder']);
    expect(response.body.refused).toEqual([
      { key: 'addPet', reason: expect.stringMatching(/"petstore_auth" cannot be mapped/) },
    ]);

    const pet = await execute(createdId(response.body, 'getPetById'), { petId: 'seven' });
    expect(pet.body.status).toBe('succeeded');
    const seen = lastRequest('/echo/v2/pet/')!;
    expect(seen.path).toBe('/echo/v2/pet/7');
    expect(seen.headers.api_key).toBe(PET_KEY);

    const order = await execute(createdId(response.body, 'placeOrder'), {
      petId: 7,
      quantity: '2',
      status: 'Placed',
    });
    expect(order.body.status).toBe('succeeded');
    const placed = lastRequest('/echo/v2/store/order')!;
    expect(placed.method).toBe('POST');
    expect(JSON.parse(placed.body.toString('utf8'))).toEqual({ petId: 7, quantity: 2, status: 'placed' });

    const saved = await t.request('GET', `/v1/actions/${createdId(response.body, 'getPetById')}`);
    expect(saved.body).toMatchObject({ tool_name: 'get_pet_by_id', tags: ['openapi', 'pet'] });
  });

  it('imports OpenAPI 3.0 given as an object, with bearer auth, and executes its JSON body', async () => {
    const preview = await importing({ document: GITHUB });
    expect(preview.status).toBe(200);
    expect(preview.body.skipped).toContainEqual(
      expect.objectContaining({ key: 'issues/create', reason: 'provide secrets.bearerAuth' }),
    );
    expect(preview.body.operations.map((o: any) => o.key)).toEqual(['meta/get']);

    const response = await importing({
      document: GITHUB,
      select: ['issues/create'],
      base_url: `${upstream.url}/echo/gh`,
      secrets: { bearerAuth: ghToken },
    });
    expect(response.status).toBe(201);
    expect(response.body.created[0].notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/body field "labels" is a list of objects/)]),
    );
    const run = await execute(createdId(response.body, 'issues/create'), {
      owner: 'octo',
      repo: 'hello world',
      title: 'Found a bug',
      assignees: ['ada'],
    });
    expect(run.body.status).toBe('succeeded');
    const seen = lastRequest('/echo/gh/repos/')!;
    expect(seen).toMatchObject({ method: 'POST', path: '/echo/gh/repos/octo/hello%20world/issues' });
    expect(seen.headers.authorization).toBe(`Bearer ${GH_TOKEN}`);
    expect(seen.headers['x-github-api-version']).toBe('2022-11-28');
    expect(JSON.parse(seen.body.toString('utf8'))).toEqual({ title: 'Found a bug', assignees: ['ada'] });
  });

  it('fetches OpenAPI 3.1 YAML by url and executes with OAuth2 client credentials', async () => {
    const url = `${upstream.url}/openapi/spotify.yaml`;
    const secrets = {
      oauth_2_0: {
        secret_id: spotifySecret,
        client_id: 'client-1',
        token_url: `${upstream.url}/spotify/token`,
      },
    };
    const response = await importing({
      url,
      select: ['get-an-artist', 'start-a-users-playback'],
      base_url: `${upstream.url}/echo/spotify`,
      secrets,
    });
    expect(response.status).toBe(201);
    expect(response.body.document).toMatchObject({ format: 'openapi 3.1.0', url });
    expect(response.body.refused).toEqual([
      {
        key: 'start-a-users-playback',
        reason: expect.stringMatching(
          /user-modify-playback-state are granted only by OAuth2 flows where a person signs in/,
        ),
      },
    ]);
    const run = await execute(createdId(response.body, 'get-an-artist'), { id: '0TnOYISbd1XYRBk9myaseg' });
    expect(run.body.status).toBe('succeeded');
    const seen = lastRequest('/echo/spotify/')!;
    expect(seen.path).toBe('/echo/spotify/artists/0TnOYISbd1XYRBk9myaseg');
    expect(seen.headers.authorization).toBe(`Bearer ${SPOTIFY_TOKEN}`);
  });

  it('takes YAML text longer than the 64 KB other routes allow a string, on this route only', async () => {
    const long = `${SPOTIFY}\n# ${'x'.repeat(100_000)}\n`;
    const response = await importing({ document: long, secrets: {} });
    expect(response.status).toBe(200);
    expect(response.body.document.format).toBe('openapi 3.1.0');
    const elsewhere = await t.request('POST', '/v1/actions', { body: { name: long, kind: 'http' } });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.message).toMatch(/longer than 65536 characters/);
  });

  it('resolves a relative server against the document url', async () => {
    const url = `${upstream.url}/openapi/petstore.json`;
    const preview = await importing({ url, dry_run: true, select: ['getOrderById'] });
    expect(preview.status).toBe(200);
    expect(preview.body.document.server).toBe(`${upstream.url}/echo/v2`);
    const response = await importing({ url, select: ['getOrderById'] });
    expect(response.status).toBe(201);
    const run = await execute(createdId(response.body, 'getOrderById'), { orderId: 3 });
    expect(run.body.status).toBe('succeeded');
    expect(lastRequest('/echo/v2/store/order/')?.path).toBe('/echo/v2/store/order/3');

    const inline = await importing({ document: hostlessPetstore(), select: ['getOrderById'], dry_run: true });
    expect(inline.body.skipped).toEqual([
      expect.objectContaining({
        key: 'getOrderById',
        reason: expect.stringMatching(/relative; give base_url/),
      }),
    ]);
  });

  it('refuses, with the reason, an operation whose URL the egress guard refuses', async () => {
    const document = {
      openapi: '3.0.3',
      info: { title: 'Metadata', version: '1' },
      servers: [{ url: 'http://169.254.169.254/latest' }],
      paths: { '/meta-data': { get: { operationId: 'metadata' } } },
    };
    const response = await importing({ document, select: ['metadata'] });
    expect(response.status).toBe(201);
    expect(response.body.created).toEqual([]);
    expect(response.body.refused).toEqual([
      {
        key: 'metadata',
        reason: expect.stringMatching(/^the egress guard refuses http:\/\/169\.254\.169\.254/),
      },
    ]);
  });

  it.each([
    ['a document that is not JSON or YAML', { document: '{"openapi": ' }, '/document', /not valid JSON/],
    [
      'a document without a version',
      { document: { info: {}, paths: {} } },
      '/document',
      /no "openapi" field/,
    ],
    ['neither document nor url', {}, '/document', /Give the document/],
    ['both document and url', { document: PETSTORE, url: 'https://example.com/x' }, '/document', /not both/],
    [
      'a url that is not http',
      { url: 'ftp://example.com/openapi.json' },
      '/url',
      /http:\/\/ or https:\/\/ URL/,
    ],
    [
      'a url the egress guard refuses',
      { url: 'http://127.0.0.1:9/openapi.json' },
      '/url',
      /egress guard refuses/,
    ],
    ['an unknown operation in select', { document: PETSTORE, select: ['nope'] }, '/select', /"nope"/],
    [
      'a secret id that does not exist',
      { document: PETSTORE, secrets: { api_key: 'missing' } },
      '/secrets/api_key',
      /no secret with id missing/,
    ],
    ['a base_url that is not a URL', { document: PETSTORE, base_url: 'petstore' }, '/base_url', /absolute/],
  ])('answers 400 for %s', async (_name, body, path, message) => {
    const before = await actionCount();
    const response = await importing(body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VALIDATION_FAILED', path });
    expect(response.body.error.message).toMatch(message);
    expect(await actionCount()).toBe(before);
  });

  it('answers 400 for secrets for a scheme the document does not define', async () => {
    const response = await importing({ document: PETSTORE, secrets: { apikey: petKey } });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      path: '/secrets/apikey',
      message: 'secrets.apikey names no security scheme of the document',
      details: { schemes: ['api_key', 'petstore_auth'] },
    });
  });

  it.each([
    ['answers HTTP 404', '/status/404', /answered HTTP 404/],
    ['is larger than 5 MB', '/big?bytes=6000000', /larger than 5 MB/],
  ])('answers 400 when the document url %s', async (_name, path, message) => {
    const response = await importing({ url: `${upstream.url}${path}` });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ path: '/url', message: expect.stringMatching(message) });
  });

  it('refuses unknown fields, and a key without actions:write', async () => {
    expect((await importing({ document: PETSTORE, extra: true })).status).toBe(400);
    const reader = await t.request('POST', '/v1/keys', {
      body: { name: 'reader', scopes: ['actions:read'] },
    });
    expect((await importing({ document: PETSTORE }, reader.body.key)).status).toBe(403);
  });
});
