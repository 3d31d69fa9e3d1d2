/**
 * OpenAPI import on the shapes public documents use (each written here, small, in the shape of the real
 * one): Stripe's GET and DELETE with an optional empty form body and deepObject query parameters,
 * Asana's comma-separated `opt_fields`, Kubernetes' Swagger 2.0 collectionFormat, Twilio's operation
 * with two hundred body fields, and DigitalOcean's operations kept in files of their own.
 */
import { describe, expect, it } from 'vitest';
import { ReferencedFiles } from '../../src/core/openapi/index.ts';
import { doc, operation, plan, reason } from '../helpers/openapi.ts';

const EMPTY_FORM = {
  required: false,
  content: {
    'application/x-www-form-urlencoded': {
      encoding: {},
      schema: { type: 'object', properties: {}, additionalProperties: false },
    },
  },
};
const optionalJson = (required: boolean) => ({
  required,
  content: {
    'application/json': { schema: { type: 'object', properties: { reason: { type: 'string' } } } },
  },
});

describe('request bodies on GET, HEAD and DELETE', () => {
  it.each([
    ['GET', 'an empty optional form body (Stripe)', EMPTY_FORM, 'it holds no fields'],
    ['DELETE', 'an empty optional form body (Stripe)', EMPTY_FORM, 'it holds no fields'],
    ['HEAD', 'an optional JSON body', optionalJson(false), 'it is optional on HEAD'],
    ['GET', 'an optional JSON body', optionalJson(false), 'it is optional on GET'],
    [
      'DELETE',
      'an optional JSON body (Kubernetes DeleteOptions)',
      optionalJson(false),
      'it is optional on DELETE',
    ],
    ['GET', 'a required but empty body', { ...EMPTY_FORM, required: true }, 'it holds no fields'],
  ])('a %s with %s is imported without the body', (method, _what, requestBody, why) => {
    const result = plan(doc({ '/things': { [method.toLowerCase()]: { operationId: 'op', requestBody } } }));
    const op = operation(result, 'op');
    expect(op.action.http).toEqual({ method, url: 'https://api.example.com/v1/things' });
    expect(op.action.variables).toEqual([]);
    expect(op.notes).toContain(`request body: ${why}; the request is sent without one`);
  });

  it('a DELETE that requires a body with fields keeps it', () => {
    const result = plan(
      doc({ '/things': { delete: { operationId: 'op', requestBody: optionalJson(true) } } }),
    );
    expect(operation(result, 'op').action.http).toMatchObject({ body: { reason: '{{reason}}' } });
  });

  it('a POST whose form body can hold nothing is sent without one', () => {
    const result = plan(
      doc({ '/things/{id}/close': { post: { operationId: 'op', requestBody: EMPTY_FORM } } }),
    );
    const op = operation(result, 'op');
    expect(op.action.http).toEqual({ method: 'POST', url: 'https://api.example.com/v1/things/{{id}}/close' });
    expect(op.notes).toContain('request body: it holds no fields; the request is sent without one');
  });

  it('a GET that requires a body with fields is still skipped, saying why', () => {
    const result = plan(doc({ '/search': { get: { operationId: 'op', requestBody: optionalJson(true) } } }));
    expect(reason(result, 'op')).toBe(
      'it requires a request body with GET, which an http action cannot send',
    );
  });
});

describe('parameter serialisation from style and explode', () => {
  const parameters = [
    {
      name: 'opt_fields',
      in: 'query',
      style: 'form',
      explode: false,
      schema: { type: 'array', items: { type: 'string' } },
    },
    { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
    {
      name: 'expand',
      in: 'query',
      style: 'deepObject',
      explode: true,
      schema: { type: 'array', items: { type: 'string' } },
    },
    {
      name: 'created',
      in: 'query',
      style: 'deepObject',
      explode: true,
      schema: { type: 'object', properties: { gte: { type: 'integer' } } },
    },
    {
      name: 'ids',
      in: 'query',
      style: 'pipeDelimited',
      schema: { type: 'array', items: { type: 'integer' } },
    },
    {
      name: 'words',
      in: 'query',
      style: 'spaceDelimited',
      explode: false,
      schema: { type: 'array', items: { type: 'string' } },
    },
    { name: 'filter', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
    { name: 'limit', in: 'query', schema: { type: 'integer' } },
    { name: 'X-Fields', in: 'header', schema: { type: 'array', items: { type: 'string' } } },
    {
      name: 'color-id',
      in: 'path',
      required: true,
      style: 'matrix',
      explode: true,
      schema: { type: 'string' },
    },
    {
      name: 'shape',
      in: 'path',
      required: true,
      style: 'label',
      schema: { type: 'array', items: { type: 'string' } },
    },
  ];
  const result = plan(doc({ '/paint/{color-id}/{shape}': { get: { operationId: 'paint', parameters } } }));

  it('fills the config’s serialization for every list, object, label and matrix parameter', () => {
    const op = operation(result, 'paint');
    expect(op.action.http.serialization).toEqual({
      path: {
        color_id: { style: 'matrix', explode: true, name: 'color-id' },
        shape: { style: 'label' },
      },
      query: {
        opt_fields: { style: 'form', explode: false },
        tags: { style: 'form' },
        expand: { style: 'deepObject', explode: true },
        created: { style: 'deepObject', explode: true },
        ids: { style: 'pipeDelimited' },
        words: { style: 'spaceDelimited', explode: false },
      },
      headers: { 'X-Fields': { style: 'simple' } },
    });
    expect(op.action.http.url).toBe('https://api.example.com/v1/paint/{{color_id}}/{{shape}}');
    // `content` parameters are sent as that media type's text: JSON, as an unstyled value is
    expect(op.action.http.query?.filter).toBe('{{filter}}');
    expect(op.notes.join('\n')).not.toMatch(/JSON text/);
  });

  it.each([
    [
      'deepObject on a path parameter',
      { name: 'id', in: 'path', required: true, style: 'deepObject', schema: { type: 'object' } },
      'path parameter "id" cannot be sent: deepObject is not a style for a path parameter; use simple, label, matrix',
    ],
    [
      'an unknown style',
      { name: 'q', in: 'query', required: true, style: 'tabDelimited', schema: { type: 'array' } },
      'query parameter "q" has the style "tabDelimited", which an http action cannot send',
    ],
  ])('a required parameter with %s skips the operation, saying so', (_what, parameter, why) => {
    const path = parameter.in === 'path' ? '/x/{id}' : '/x';
    expect(reason(plan(doc({ [path]: { get: { operationId: 'op', parameters: [parameter] } } })), 'op')).toBe(
      why,
    );
  });

  it('a scalar with the deepObject style is sent as name=value, as Stripe means it', () => {
    const parameter = { name: 'trial_end', in: 'query', style: 'deepObject', schema: { type: 'integer' } };
    const op = operation(plan(doc({ '/x': { get: { operationId: 'op', parameters: [parameter] } } })), 'op');
    expect(op.action.http).toEqual({
      method: 'GET',
      url: 'https://api.example.com/v1/x',
      query: { trial_end: '{{trial_end}}' },
    });
  });

  it('an optional parameter with a style it cannot send is left out, noted', () => {
    const parameter = { name: 'q', in: 'query', style: 'matrix', schema: { type: 'array' } };
    const op = operation(plan(doc({ '/x': { get: { operationId: 'op', parameters: [parameter] } } })), 'op');
    expect(op.action.http.query).toBeUndefined();
    expect(op.notes).toContain(
      'query parameter "q" cannot be sent: matrix is not a style for a query parameter; use form, spaceDelimited, pipeDelimited, deepObject; left out (it is optional)',
    );
  });

  /** Kubernetes-like: one list query parameter in the Swagger 2.0 way. */
  const swaggerList = (parameter: Record<string, unknown>) => ({
    swagger: '2.0',
    info: { title: 'k', version: '1' },
    host: 'k8s.example.com',
    paths: {
      '/pods': {
        get: {
          operationId: 'list',
          parameters: [{ name: 'fields', in: 'query', type: 'array', ...parameter }],
        },
      },
    },
  });

  it.each([
    [undefined, { style: 'form', explode: false }],
    ['csv', { style: 'form', explode: false }],
    ['multi', { style: 'form', explode: true }],
    ['ssv', { style: 'spaceDelimited', explode: false }],
    ['pipes', { style: 'pipeDelimited', explode: false }],
  ])('Swagger 2.0 collectionFormat %s becomes %j', (collectionFormat, expected) => {
    const swagger = swaggerList({ items: { type: 'string' }, collectionFormat });
    expect(operation(plan(swagger), 'list').action.http.serialization).toEqual({
      query: { fields: expected },
    });
  });

  it('Swagger 2.0 collectionFormat tsv, which 3.x has no style for, is left out with the reason', () => {
    const swagger = swaggerList({ collectionFormat: 'tsv' });
    expect(operation(plan(swagger), 'list').notes.join('\n')).toMatch(
      /query parameter "fields" has the style "tabDelimited \(collectionFormat tsv\)", which an http action cannot send; left out/,
    );
  });
});

describe('form body fields, by their encoding', () => {
  const form = (encoding: Record<string, unknown>, required: string[] = []) => ({
    '/v1/customers': {
      post: {
        operationId: 'PostCustomers',
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              encoding,
              schema: {
                type: 'object',
                required,
                properties: {
                  email: { type: 'string' },
                  metadata: { type: 'object', additionalProperties: { type: 'string' } },
                  expand: { type: 'array', items: { type: 'string' } },
                  preferred_locales: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        },
      },
    },
  });

  it('sends a list or object field as its encoding says, form exploded by default (Stripe)', () => {
    const encoding = {
      metadata: { style: 'deepObject', explode: true },
      expand: { style: 'deepObject', explode: true },
    };
    const op = operation(plan(doc(form(encoding))), 'PostCustomers');
    expect(op.action.http).toMatchObject({
      body_type: 'form',
      body: {
        email: '{{email}}',
        metadata: '{{metadata}}',
        expand: '{{expand}}',
        preferred_locales: '{{preferred_locales}}',
      },
      serialization: {
        body: {
          metadata: { style: 'deepObject', explode: true },
          expand: { style: 'deepObject', explode: true },
          preferred_locales: { style: 'form' },
        },
      },
    });
    expect(op.notes.join('\n')).not.toMatch(/JSON text/);
  });

  it('a required field whose encoding no form can send skips the operation, saying so', () => {
    const result = plan(doc(form({ metadata: { style: 'matrix' } }, ['metadata'])));
    expect(reason(result, 'PostCustomers')).toBe(
      'body field "metadata" cannot be sent: matrix is not a style for a form field; use form, spaceDelimited, pipeDelimited, deepObject',
    );
  });
});

describe('the variable cap', () => {
  it('skips an operation with more inputs than an action takes, saying so (Twilio’s Parameter1..99)', () => {
    const properties = Object.fromEntries(
      Array.from({ length: 99 }, (_, i) => [
        [`Parameter${i + 1}.Name`, { type: 'string' }],
        [`Parameter${i + 1}.Value`, { type: 'string' }],
      ]).flat(),
    );
    const result = plan(
      doc({
        '/Streams': {
          post: {
            operationId: 'createStream',
            requestBody: {
              content: {
                'application/x-www-form-urlencoded': {
                  schema: {
                    type: 'object',
                    required: ['Url'],
                    properties: { Url: { type: 'string' }, ...properties },
                  },
                },
              },
            },
          },
        },
      }),
    );
    expect(reason(result, 'createStream')).toBe(
      'it has 199 parameters and body fields (1 required); an action takes at most 100 inputs',
    );
  });
});

describe('operations kept in other files', () => {
  const root = {
    openapi: '3.0.0',
    info: { title: 'DO', version: '2' },
    servers: [{ url: 'https://api.example.com' }],
    paths: {
      '/v2/droplets': {
        get: { $ref: 'resources/droplets/list.yml' },
        post: { $ref: 'resources/droplets/create.yml' },
      },
      '/v2/secret': { get: { $ref: 'file:///etc/passwd' } },
    },
  };

  it('given inline, each is skipped with the reason, never imported as an empty shell', () => {
    const result = plan(root);
    expect(result.operations).toEqual([]);
    expect(result.skipped.map((s) => [s.key, s.reason])).toEqual([
      [
        'GET /v2/droplets',
        expect.stringMatching(
          /"resources\/droplets\/list.yml" points outside the document; import it by url/,
        ),
      ],
      ['POST /v2/droplets', expect.stringMatching(/points outside the document/)],
      ['GET /v2/secret', expect.stringMatching(/points outside the document/)],
    ]);
  });

  it('bundled with the files its references name, each is read from its file, relative to that file', () => {
    const base = 'https://specs.example.com/spec/openapi.yaml';
    const files = new ReferencedFiles(root, base);
    // file: and other schemes are never named for fetching
    expect(files.pending()).toEqual([
      'https://specs.example.com/spec/resources/droplets/list.yml',
      'https://specs.example.com/spec/resources/droplets/create.yml',
    ]);
    files.add('https://specs.example.com/spec/resources/droplets/list.yml', {
      operationId: 'droplets_list',
      summary: 'List droplets',
      parameters: [{ $ref: 'parameters.yml#/tag_name' }, { $ref: '../../shared/parameters.yml#/per_page' }],
      responses: { '200': { $ref: 'responses/never-fetched.yml' } },
    });
    expect(files.pending()).toEqual([
      'https://specs.example.com/spec/resources/droplets/create.yml',
      'https://specs.example.com/spec/resources/droplets/parameters.yml',
      'https://specs.example.com/spec/shared/parameters.yml',
    ]);
    files.add('https://specs.example.com/spec/resources/droplets/parameters.yml', {
      tag_name: { name: 'tag_name', in: 'query', schema: { $ref: '#/tag_schema' } },
      tag_schema: { type: 'string', maxLength: 50 },
    });
    files.add('https://specs.example.com/spec/shared/parameters.yml', {
      per_page: { name: 'per_page', in: 'query', schema: { type: 'integer', maximum: 200 } },
    });
    files.fail(
      'https://specs.example.com/spec/resources/droplets/create.yml',
      'specs.example.com answered HTTP 404',
    );
    expect(files.pending()).toEqual([]);

    const result = plan(files.bundle(), { documentUrl: base });
    const list = operation(result, 'droplets_list');
    expect(list.action).toMatchObject({
      name: 'List droplets',
      variables: [
        { name: 'tag_name', type: 'string', required: false, max_length: 50 },
        { name: 'per_page', type: 'integer', required: false, maximum: 200 },
      ],
      http: { method: 'GET', query: { tag_name: '{{tag_name}}', per_page: '{{per_page}}' } },
    });
    expect(reason(result, 'POST /v2/droplets')).toBe(
      'the $ref "https://specs.example.com/spec/resources/droplets/create.yml#" could not be read: specs.example.com answered HTTP 404',
    );
    expect(reason(result, 'GET /v2/secret')).toBe(
      'the $ref "file:///etc/passwd" could not be read: only http and https files are read, not file ones',
    );
  });
});
