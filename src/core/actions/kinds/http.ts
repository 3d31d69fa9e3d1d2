/**
 * The http kind's configuration: a request template, auth from a secret, timeout, retries and response
 * shaping (the Custom Actions guide's request, OpenCX's operation payload, Talkover's webhook; see
 * docs/dialects/). Wire shape and stored shape are the same document. Execution lives in app/kinds/http/.
 */
import Type, { type Static } from 'typebox';
import { discriminated } from '../../schema/discriminated.ts';
import {
  PARAMETER_STYLES,
  type ParameterPlace,
  type Serialization,
  TemplateError,
  referencesIn,
  referencesInTree,
  renderUrl,
  serializationProblem,
  soleReference,
  splitUrlTemplate,
} from '../../templates/index.ts';
import type { DefinitionIssue } from '../model.ts';
import { RUNTIME_VARIABLES, type Variable } from '../variables.ts';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
const BODYLESS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

const SecretId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Id of a secret of your organization',
});
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$";

// each variant is named ($id): the API document lists them as schemas a generated client can name
export const AuthSchema = discriminated('type', [
  Type.Object({ type: Type.Literal('none') }, { $id: 'NoAuth', additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('bearer'), secret_id: SecretId },
    { $id: 'BearerAuth', additionalProperties: false, description: 'Authorization: Bearer <secret>' },
  ),
  Type.Object(
    { type: Type.Literal('basic'), username: Type.String({ maxLength: 256 }), secret_id: SecretId },
    {
      $id: 'BasicAuth',
      additionalProperties: false,
      description: 'Authorization: Basic base64(username:secret)',
    },
  ),
  Type.Object(
    {
      type: Type.Literal('api_key'),
      in: Type.Union([Type.Literal('header'), Type.Literal('query')]),
      name: Type.String({ pattern: HEADER_NAME }),
      secret_id: SecretId,
    },
    {
      $id: 'ApiKeyAuth',
      additionalProperties: false,
      description: 'The secret in a header or query parameter of your choosing',
    },
  ),
  Type.Object(
    { type: Type.Literal('body'), field: Type.String({ minLength: 1, maxLength: 128 }), secret_id: SecretId },
    {
      $id: 'BodyAuth',
      additionalProperties: false,
      description: 'The secret as a top-level field of the request body',
    },
  ),
  Type.Object(
    {
      type: Type.Literal('oauth2_client_credentials'),
      token_url: Type.String({ minLength: 1, maxLength: 2048 }),
      client_id: Type.String({ minLength: 1, maxLength: 512 }),
      secret_id: SecretId,
      scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 50 })),
      audience: Type.Optional(Type.String({ maxLength: 512 })),
    },
    {
      $id: 'OAuth2ClientCredentialsAuth',
      additionalProperties: false,
      description: 'A token from the token URL (client credentials grant), cached until it expires',
    },
  ),
  Type.Object(
    {
      type: Type.Literal('token_url'),
      url: Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Fetched first, through the same egress guard: its JSON answer holds the token',
      }),
      method: Type.Optional(
        Type.Union([Type.Literal('POST'), Type.Literal('GET')], { description: 'Default POST' }),
      ),
      secret_id: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          description:
            'A secret the token URL is called with: Authorization: Bearer <secret>, or Basic with username',
        }),
      ),
      username: Type.Optional(Type.String({ maxLength: 256 })),
      token_path: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
          maxLength: 256,
          description: 'Dotted path of the token in the answer (default access_token, then token)',
        }),
      ),
      header: Type.Optional(
        Type.String({ pattern: HEADER_NAME, description: 'Where the token goes (default Authorization)' }),
      ),
      prefix: Type.Optional(
        Type.String({
          maxLength: 32,
          pattern: '^[\\x20-\\x7e]*$',
          description: 'Text before the token (default "Bearer " in Authorization, else none)',
        }),
      ),
    },
    {
      $id: 'TokenUrlAuth',
      additionalProperties: false,
      description:
        'A token fetched from an authorization URL before the call (a webhook’s authorization_url), cached until its expires_in (default 5 minutes) and fetched again after a 401',
    },
  ),
]);
export type AuthConfig = Static<typeof AuthSchema>;

/** The secret ids an auth config names (token_url may name none). */
export function authSecretIds(auth: AuthConfig | null | undefined): string[] {
  if (!auth || auth.type === 'none') return [];
  return auth.secret_id === undefined ? [] : [auth.secret_id];
}

/** The URLs an auth config fetches tokens from, each with its JSON Pointer under `at` (`/http/auth`). */
export function authUrls(auth: AuthConfig | null | undefined, at: string): { path: string; url: string }[] {
  if (auth?.type === 'oauth2_client_credentials') return [{ path: `${at}/token_url`, url: auth.token_url }];
  if (auth?.type === 'token_url') return [{ path: `${at}/url`, url: auth.url }];
  return [];
}

export const ResponseShapingSchema = Type.Object(
  {
    select: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
        maxItems: 50,
        description:
          'Dotted paths to keep from a JSON response (`order.status`, `items.0.name`); the rest is dropped',
      }),
    ),
    max_length: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 200_000,
        description: 'Characters of output kept for the model (default 10,000)',
      }),
    ),
    error_messages: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^([1-5]([0-9]{2}|xx)|[a-z_]+)$' }),
        Type.String({ minLength: 1, maxLength: 500 }),
        {
          description: 'What the agent should say, by status (`404`), class (`5xx`) or category (`timeout`)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

const SerializationSchema = Type.Object(
  {
    style: Type.Enum(PARAMETER_STYLES, {
      description:
        'query and form body fields: form, spaceDelimited, pipeDelimited, deepObject; path: simple, label, matrix; headers: simple',
    }),
    explode: Type.Optional(
      Type.Boolean({ description: 'Default true for form and deepObject, false for the other styles' }),
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'matrix only: the name before "=" (default: the variable)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const HttpSerializationSchema = Type.Object(
  {
    query: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), SerializationSchema, {
        description: 'By key of `query`; its value must be one placeholder, e.g. "{{ids}}"',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), SerializationSchema, {
        description: 'By name in `headers`; its value must be one placeholder',
      }),
    ),
    path: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), SerializationSchema, {
        description: 'By the variable of a `{{placeholder}}` in a path segment of `url`',
      }),
    ),
    body: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), SerializationSchema, {
        description:
          'By field of a form body (body_type form), with the query styles; its value must be one placeholder',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "How a parameter sends a whole value (a list or object) by OpenAPI's style and explode: " +
      '{"query": {"ids": {"style": "form", "explode": false}}} sends ids=a,b. A parameter not named here ' +
      'sends a list or object as JSON text.',
  },
);
export type HttpSerialization = Static<typeof HttpSerializationSchema>;

export const HttpConfigSchema = Type.Object(
  {
    method: Type.Enum(HTTP_METHODS),
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'https://host/path/{{var}}?q={{var}}. Placeholders only in path segments and query values; relative to the integration base_url when it starts with /',
    }),
    query: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 4096 })),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME }), Type.String({ maxLength: 8192 })),
    ),
    body: Type.Optional(
      Type.Unknown({
        description:
          'A JSON document; string values may hold placeholders ("{{count}}" alone keeps its type)',
      }),
    ),
    body_type: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('form')])),
    serialization: Type.Optional(HttpSerializationSchema),
    auth: Type.Optional(AuthSchema),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    retry: Type.Optional(
      Type.Object(
        {
          max_attempts: Type.Integer({
            minimum: 1,
            maximum: 5,
            description:
              'Attempts in all (1: no retry). Default 3 for idempotent methods or with an Idempotency-Key, else 1',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    response: Type.Optional(ResponseShapingSchema),
  },
  { additionalProperties: false },
);
export type HttpConfigInput = Static<typeof HttpConfigSchema>;

/** The stored form: every optional part filled in. */
export interface HttpConfig {
  method: HttpMethod;
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  body_type: 'json' | 'form';
  /** Absent (every action saved before it existed, and most since): lists and objects go as JSON text. */
  serialization?: HttpSerialization;
  /** null: the integration's default auth, or none. */
  auth: AuthConfig | null;
  timeout_ms: number | null;
  retry: { max_attempts: number } | null;
  response: { select: string[] | null; max_length: number; error_messages: Record<string, string> };
}

export const DEFAULT_RESPONSE_MAX_LENGTH = 10_000;

export function normalizeHttpConfig(input: HttpConfigInput): HttpConfig {
  return {
    method: input.method,
    url:
      /^[a-z][a-z0-9+.-]*:/i.test(input.url) || input.url.startsWith('/')
        ? input.url
        : `https://${input.url}`,
    query: input.query ?? {},
    headers: input.headers ?? {},
    body: input.body ?? null,
    body_type: input.body_type ?? 'json',
    ...(input.serialization === undefined ? {} : { serialization: input.serialization }),
    auth: input.auth ?? null,
    timeout_ms: input.timeout_ms ?? null,
    retry: input.retry ?? null,
    response: {
      select: input.response?.select ?? null,
      max_length: input.response?.max_length ?? DEFAULT_RESPONSE_MAX_LENGTH,
      error_messages: input.response?.error_messages ?? {},
    },
  };
}

/** The absolute URL template: relative URLs hang off the integration's base URL. */
export function absoluteUrl(config: Pick<HttpConfig, 'url'>, baseUrl: string | null): string {
  if (!config.url.startsWith('/')) return config.url;
  return `${(baseUrl ?? '').replace(/\/+$/, '')}${config.url}`;
}

/** Headers the client sets itself or that change how the message is framed. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-connection',
]);

export interface HttpCheckContext {
  variables: readonly Variable[];
  contextVariables: readonly string[];
  /** Names usable as `{{secrets.NAME}}`: the action's and its integration's. */
  secretNames: ReadonlySet<string>;
  baseUrl: string | null;
}

/** Where a reference may point: an input, a runtime variable, a declared context key, or a secret. */
export function knownReference(ref: string, context: Omit<HttpCheckContext, 'baseUrl'>): boolean {
  if (ref.startsWith('secrets.')) return context.secretNames.has(ref.slice('secrets.'.length));
  return (
    context.variables.some((v) => v.name === ref) ||
    (RUNTIME_VARIABLES as readonly string[]).includes(ref) ||
    context.contextVariables.includes(ref)
  );
}

/** Save-time checks beyond the schema. Paths are relative to the action (`/http/...`). */
export function checkHttpConfig(config: HttpConfig, context: HttpCheckContext): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const url = absoluteUrl(config, context.baseUrl);
  if (config.url.startsWith('/') && !context.baseUrl) {
    issues.push({
      path: '/http/url',
      message: 'A relative URL needs an integration with a base_url; give the full https:// URL',
    });
  } else {
    issues.push(...checkUrlTemplate(url));
  }

  const refs = [
    ...referencesIn(config.url).map((ref) => ({ ref, where: '/http/url' })),
    ...Object.entries(config.query).flatMap(([k, v]) =>
      referencesIn(v).map((ref) => ({ ref, where: `/http/query/${k}` })),
    ),
    ...Object.entries(config.headers).flatMap(([k, v]) =>
      referencesIn(v).map((ref) => ({ ref, where: `/http/headers/${k}` })),
    ),
    ...referencesInTree(config.body).map((ref) => ({ ref, where: '/http/body' })),
  ];
  const unknown = [...new Set(refs.filter(({ ref }) => !knownReference(ref, context)).map(({ ref }) => ref))];
  if (unknown.length > 0) {
    issues.push({
      path: '/http',
      message:
        `Unknown placeholders: ${unknown.map((r) => `{{${r}}}`).join(', ')}. Each must be a variable, a runtime variable ` +
        `(${RUNTIME_VARIABLES.join(', ')}), a context_variables entry, or secrets.NAME for a secret of the action or its integration.`,
    });
  }
  const pathPart = splitSafely(config.url)?.pathSegments.join('/') ?? '';
  if (referencesIn(pathPart).some((ref) => ref.startsWith('secrets.'))) {
    issues.push({
      path: '/http/url',
      message: 'Secrets may not appear in the URL path (it is logged); use auth, a header or a query value',
    });
  }

  for (const name of Object.keys(config.headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      issues.push({
        path: `/http/headers/${name}`,
        message: `The ${name} header is set by Switchboard and cannot be configured`,
      });
    }
  }
  issues.push(...checkSerialization(config));
  const hasBody = config.body !== null;
  if (hasBody && BODYLESS.has(config.method)) {
    issues.push({
      path: '/http/body',
      message: `A ${config.method} request has no body; use query parameters or another method`,
    });
  }
  if (config.body_type === 'form' && hasBody && !isFlatStringRecord(config.body)) {
    issues.push({ path: '/http/body', message: 'A form body must be an object whose values are strings' });
  }
  if (config.auth?.type === 'body') {
    if (BODYLESS.has(config.method)) {
      issues.push({
        path: '/http/auth',
        message: 'Body auth needs a method with a body (POST, PUT, PATCH or DELETE)',
      });
    } else if (hasBody && (typeof config.body !== 'object' || Array.isArray(config.body))) {
      issues.push({ path: '/http/auth', message: 'Body auth needs the body to be a JSON object' });
    }
  }
  for (const { path, url } of authUrls(config.auth, '/http/auth'))
    issues.push(...checkUrlTemplate(url, path, false));
  if (config.auth?.type === 'token_url') {
    if (config.auth.header !== undefined && RESERVED_HEADERS.has(config.auth.header.toLowerCase()))
      issues.push({
        path: '/http/auth/header',
        message: `The ${config.auth.header} header is set by Switchboard and cannot carry the token`,
      });
    if (config.auth.username !== undefined && config.auth.secret_id === undefined)
      issues.push({ path: '/http/auth/username', message: 'A username needs a secret_id (its password)' });
  }
  return issues;
}

const PLACE_LABEL: Readonly<Record<ParameterPlace, string>> = {
  query: 'query parameter',
  header: 'header',
  path: 'path parameter',
  form: 'form body field',
};
const PLACE_KEY: Readonly<Record<ParameterPlace, keyof HttpSerialization>> = {
  query: 'query',
  header: 'headers',
  path: 'path',
  form: 'body',
};

/**
 * Each serialised parameter must exist, be a single placeholder (its whole value is serialised), and
 * use a style OpenAPI defines for its place; the message names the parameter.
 */
function checkSerialization(config: HttpConfig): DefinitionIssue[] {
  const given = config.serialization ?? {};
  const pathRefs = new Set(referencesIn(splitSafely(config.url)?.pathSegments.join('/') ?? ''));
  const check = (
    place: ParameterPlace,
    key: string,
    s: Serialization,
    templates: Record<string, string> | null,
  ): DefinitionIssue | undefined => {
    const path = `/http/serialization/${PLACE_KEY[place]}/${key}`;
    const label = `${PLACE_LABEL[place]} "${key}"`;
    if (templates === null ? !pathRefs.has(key) : !Object.hasOwn(templates, key))
      return {
        path,
        message:
          templates === null
            ? `${label}: no path segment of the URL holds {{${key}}}`
            : `${label}: the action has no such ${PLACE_LABEL[place]}`,
      };
    const template = templates?.[key];
    if (template !== undefined && soleReference(template) === undefined)
      return {
        path,
        message: `${label}: a serialised value must be exactly one placeholder, such as "{{${key}}}"`,
      };
    const problem = serializationProblem(place, s);
    return problem === undefined ? undefined : { path, message: `${label}: ${problem}` };
  };
  return [
    ...Object.entries(given.query ?? {}).map(([key, s]) => check('query', key, s, config.query)),
    ...Object.entries(given.headers ?? {}).map(([key, s]) => check('header', key, s, config.headers)),
    ...Object.entries(given.path ?? {}).map(([key, s]) => check('path', key, s, null)),
    ...Object.entries(given.body ?? {}).map(([key, s]) => check('form', key, s, formFields(config))),
  ].filter((issue): issue is DefinitionIssue => issue !== undefined);
}

/** The fields of a form body, whose values are templates; none for a JSON body. */
function formFields(config: HttpConfig): Record<string, string> {
  return config.body_type === 'form' && isFlatStringRecord(config.body)
    ? (config.body as Record<string, string>)
    : {};
}

function splitSafely(url: string) {
  try {
    return splitUrlTemplate(url);
  } catch {
    return undefined;
  }
}

/** A URL template must parse, be http(s), have a static host and carry no credentials. */
export function checkUrlTemplate(url: string, path = '/http/url', templated = true): DefinitionIssue[] {
  try {
    const split = splitUrlTemplate(url);
    if (!templated && referencesIn(url).length > 0)
      return [{ path, message: 'This URL cannot contain placeholders' }];
    if (split.origin.includes('@')) {
      return [{ path, message: 'Credentials in URLs are not allowed; store them as a secret and use auth' }];
    }
    const sample = new URL(renderUrl({ url }, () => ({ found: true, value: 'x' })));
    if (sample.protocol !== 'http:' && sample.protocol !== 'https:')
      return [{ path, message: 'Only http and https URLs are allowed' }];
    if (!sample.hostname) return [{ path, message: 'The URL needs a host' }];
    return [];
  } catch (error) {
    const message = error instanceof TemplateError ? error.message : 'The URL is not valid';
    return [{ path, message }];
  }
}

function isFlatStringRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
