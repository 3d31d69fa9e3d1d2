/**
 * The http kind: render the request template, add auth, keep every secret on its hosts, send through the
 * guarded client with retries, and shape the answer for a model (DESIGN.md, "Executing an http action").
 */
import {
  HttpConfigSchema,
  IDEMPOTENT_METHODS,
  absoluteUrl,
  authSecretIds,
  authUrls,
  checkHttpConfig,
  normalizeHttpConfig,
  type AuthConfig,
  type HttpConfig,
  type HttpConfigInput,
} from '../../../core/actions/kinds/http.ts';
import type { Integration } from '../../../core/actions/model.ts';
import { categoryOfStatus, messageFor, type ErrorCategory } from '../../../core/actions/outcomes.ts';
import { shapeBody, truncateText } from '../../../core/actions/shape.ts';
import { redactorFor } from '../../../core/redaction.ts';
import { AppError } from '../../../core/errors.ts';
import type { ExecutionError, RecordedRequest, RecordedResponse } from '../../../core/executions.ts';
import type { Clock } from '../../../core/ports/clock.ts';
import {
  EgressError,
  type EgressErrorCode,
  type EgressResponse,
  type HttpClient,
} from '../../../core/ports/http-client.ts';
import type { SecretRecord } from '../../../core/secrets.ts';
import {
  TemplateError,
  referencesIn,
  referencesInTree,
  renderForm,
  renderHeaders,
  renderJson,
  renderUrl,
} from '../../../core/templates/index.ts';
import type { ActionKind, RunContext, RunOutcome } from '../kind.ts';
import { buildLookup } from '../lookup.ts';
import { guardRedirects, refusal, secretRefusedFor } from '../host-binding.ts';
import { clientCredentialsKey, fetchClientCredentials } from './oauth2.ts';
import { TokenCache, TokenError, type IssuedToken } from './token-cache.ts';
import { credentialHeader, fetchFromTokenUrl, tokenHeader, tokenUrlKey } from './token-url.ts';
import { sendWithRetries, sleep, type SendResult } from './send.ts';

export interface HttpKindDeps {
  http: HttpClient;
  clock: Clock;
  /** The operator's default and largest deadline per attempt (SWITCHBOARD_EGRESS_TIMEOUT_MS, _CAP_MS). */
  timeoutMs: number;
  timeoutCapMs: number;
  /** How much of a request or response body an execution record keeps. */
  recordBodyBytes: number;
  random?: () => number;
}

/** Response headers worth recording; the rest (cookies above all) are dropped. */
const RECORDED_RESPONSE_HEADERS = [
  'content-type',
  'content-length',
  'retry-after',
  'location',
  'www-authenticate',
  'x-request-id',
  'request-id',
  'etag',
  'date',
];

const CATEGORY_OF_EGRESS: Readonly<Record<EgressErrorCode, ErrorCategory>> = {
  EGRESS_DENIED: 'blocked',
  INVALID_URL: 'invalid_input',
  TOO_MANY_REDIRECTS: 'upstream_error',
  CONNECT_TIMEOUT: 'timeout',
  UPSTREAM_TIMEOUT: 'timeout',
  RESPONSE_TOO_LARGE: 'response_too_large',
  REQUEST_TOO_LARGE: 'invalid_input',
  CONNECTION_FAILED: 'upstream_error',
  ABORTED: 'timeout',
};

interface PreparedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The host the action calls: where secrets without allowed_hosts are bound. */
  host: string;
  /** Secrets the request carries (in headers, query or body). */
  carried: SecretRecord[];
  /** The auth fetched a token, which a 401 may mean was revoked early. */
  fetchedToken: boolean;
}

class RunFailure extends Error {
  readonly error: ExecutionError;
  constructor(error: ExecutionError) {
    super(error.message);
    this.error = error;
  }
}

const failure = (
  category: ErrorCategory,
  detail: string,
  overrides: Record<string, string>,
  status?: number,
): RunFailure =>
  new RunFailure({ category, message: messageFor(category, status, overrides), detail, status });

/** `secrets.NAME` references of a config; configs are immutable per action version, so once each. */
const secretNames = new WeakMap<HttpConfig, readonly string[]>();
function secretNamesIn(config: HttpConfig): readonly string[] {
  let names = secretNames.get(config);
  if (!names) {
    const refs = [
      ...referencesIn(config.url),
      ...Object.values(config.query).flatMap(referencesIn),
      ...Object.values(config.headers).flatMap(referencesIn),
      ...referencesInTree(config.body),
    ];
    names = [
      ...new Set(refs.filter((ref) => ref.startsWith('secrets.')).map((ref) => ref.slice('secrets.'.length))),
    ];
    secretNames.set(config, names);
  }
  return names;
}

export function createHttpKind(deps: HttpKindDeps): ActionKind<HttpConfig> {
  const tokens = new TokenCache(deps.clock);
  const random = deps.random ?? Math.random;

  const record = (text: string | undefined): { text: string | null; truncated: boolean } => {
    if (text === undefined) return { text: null, truncated: false };
    const cut = truncateText(text, deps.recordBodyBytes);
    return { text: cut.text, truncated: cut.truncated };
  };

  async function prepare(
    config: HttpConfig,
    context: RunContext,
    auth: AuthConfig,
    refreshToken: boolean,
  ): Promise<PreparedRequest> {
    const overrides = config.response.error_messages;
    const secretValues = new Map<string, string>();
    const carried: SecretRecord[] = [];
    for (const name of secretNamesIn(config)) {
      const secret = await context.secrets.byName(name);
      secretValues.set(name, secret.value);
      carried.push(secret.record);
    }
    const lookup = buildLookup({
      variables: context.action.variables,
      contextVariables: context.action.contextVariables,
      inputs: context.inputs,
      context: context.context,
      secrets: secretValues,
      now: new Date(deps.clock.now()),
    });

    let url: URL;
    let headers: Record<string, string>;
    let body: unknown;
    try {
      url = new URL(
        renderUrl(
          {
            url: absoluteUrl(config, context.integration?.baseUrl ?? null),
            query: config.query,
            serialization: config.serialization ?? {},
            reservedQueryKeys: auth.type === 'api_key' && auth.in === 'query' ? [auth.name] : [],
          },
          lookup,
        ),
      );
      headers = renderHeaders(config.headers, lookup, config.serialization?.headers);
      body =
        config.body === null
          ? undefined
          : config.body_type === 'form'
            ? renderForm(
                config.body as Record<string, string>,
                lookup,
                config.serialization?.body,
                auth.type === 'body' ? [auth.field] : [],
              )
            : renderJson(config.body, lookup);
    } catch (error) {
      if (error instanceof TemplateError) {
        throw failure('invalid_input', error.message, overrides);
      }
      throw error;
    }

    const headerNames = new Map(Object.keys(headers).map((name) => [name.toLowerCase(), name]));
    const setHeader = (name: string, value: string) => {
      const existing = headerNames.get(name.toLowerCase());
      if (existing) delete headers[existing];
      headers[name] = value;
      headerNames.set(name.toLowerCase(), name);
    };

    if (auth.type === 'token_url') {
      const secret = auth.secret_id === undefined ? null : await context.secrets.byId(auth.secret_id);
      const credential = credentialHeader(auth, secret);
      if (secret && credential) context.secrets.derive(secret.record.name, credential);
      const token = await fetchToken(
        tokenUrlKey(context.action.organizationId, auth, secret),
        () => fetchFromTokenUrl(deps.http, auth, secret),
        refreshToken,
        overrides,
      );
      context.secrets.derive(`${secret?.record.name ?? 'authorization URL'} token`, token);
      setHeader(...tokenHeader(auth, token));
    } else if (auth.type !== 'none') {
      const secret = await context.secrets.byId(auth.secret_id);
      switch (auth.type) {
        case 'bearer':
          setHeader('Authorization', `Bearer ${secret.value}`);
          carried.push(secret.record);
          break;
        case 'basic': {
          const credential = `${auth.username}:${secret.value}`;
          context.secrets.derive(secret.record.name, credential);
          setHeader('Authorization', `Basic ${Buffer.from(credential, 'utf8').toString('base64')}`);
          carried.push(secret.record);
          break;
        }
        case 'api_key':
          if (auth.in === 'header') setHeader(auth.name, secret.value);
          else url.searchParams.set(auth.name, secret.value);
          carried.push(secret.record);
          break;
        case 'body':
          if (config.body_type === 'form') {
            const form = new URLSearchParams(typeof body === 'string' ? body : '');
            form.set(auth.field, secret.value);
            body = form.toString();
          } else {
            body = { ...(body as Record<string, unknown> | undefined), [auth.field]: secret.value };
          }
          carried.push(secret.record);
          break;
        case 'oauth2_client_credentials': {
          const token = await fetchToken(
            clientCredentialsKey(context.action.organizationId, auth, secret),
            () => fetchClientCredentials(deps.http, auth, secret),
            refreshToken,
            overrides,
          );
          context.secrets.derive(`${secret.record.name} access token`, token);
          setHeader('Authorization', `Bearer ${token}`);
          break;
        }
      }
    }

    let encoded: string | undefined;
    if (typeof body === 'string') {
      encoded = body;
      if (!headerNames.has('content-type')) setHeader('Content-Type', 'application/x-www-form-urlencoded');
    } else if (body !== undefined) {
      encoded = JSON.stringify(body);
      if (!headerNames.has('content-type')) setHeader('Content-Type', 'application/json');
    }
    if (context.idempotencyKey && !headerNames.has('idempotency-key'))
      setHeader('Idempotency-Key', context.idempotencyKey);

    const refused = secretRefusedFor(url.hostname, carried, [url.hostname]);
    if (refused)
      throw failure('blocked', refusal(refused, url.hostname, [url.hostname], false).message, overrides);
    return {
      method: config.method,
      url: url.toString(),
      headers,
      body: encoded,
      host: url.hostname,
      carried,
      fetchedToken: auth.type === 'oauth2_client_credentials' || auth.type === 'token_url',
    };
  }

  /** A token from the cache or its endpoint; its failures become the run's (unauthorized, or the egress category). */
  async function fetchToken(
    key: string,
    fetch: () => Promise<IssuedToken>,
    refresh: boolean,
    overrides: Record<string, string>,
  ): Promise<string> {
    try {
      return await tokens.token(key, fetch, refresh);
    } catch (error) {
      if (error instanceof TokenError) throw failure('unauthorized', error.message, overrides);
      if (error instanceof EgressError)
        throw failure(CATEGORY_OF_EGRESS[error.code], `Token endpoint: ${error.message}`, overrides);
      throw error;
    }
  }

  /**
   * The request as recorded, with the secrets this run put into it masked here, where they were put:
   * the execution-wide redaction pass then finds nothing in the usual case and has no work to redo.
   */
  function recordedRequest(request: PreparedRequest, context: RunContext): RecordedRequest {
    return redactorFor(context.secrets.values()).value({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: record(request.body).text,
    });
  }

  function recordedResponse(response: EgressResponse): RecordedResponse {
    const headers: Record<string, string> = {};
    for (const name of RECORDED_RESPONSE_HEADERS) {
      const value = response.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const body = record(new TextDecoder().decode(response.body));
    return { status: response.status, headers, body: body.text, bodyTruncated: body.truncated };
  }

  async function send(
    request: PreparedRequest,
    config: HttpConfig,
    context: RunContext,
  ): Promise<SendResult> {
    const timeoutMs = Math.min(config.timeout_ms ?? deps.timeoutMs, deps.timeoutCapMs);
    const retryable = IDEMPOTENT_METHODS.has(request.method) || context.idempotencyKey !== null;
    const attempts = config.retry?.max_attempts ?? (retryable ? 3 : 1);
    return sendWithRetries(
      {
        method: request.method,
        url: request.url,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        beforeRedirect: guardRedirects(request.carried, [request.host]),
      },
      { attempts: retryable ? attempts : 1, timeoutMs, deadline: deps.clock.now() + deps.timeoutCapMs },
      { http: deps.http, now: () => deps.clock.now(), sleep, random },
      context.signal,
    );
  }

  async function run(config: HttpConfig, context: RunContext): Promise<RunOutcome> {
    const overrides = config.response.error_messages;
    const auth: AuthConfig = config.auth ??
      (context.integration?.auth as AuthConfig | null | undefined) ?? { type: 'none' };
    let request: PreparedRequest | undefined;
    try {
      request = await prepare(config, context, auth, false);
      if (context.dryRun)
        return { status: 'dry_run', request: recordedRequest(request, context), attempts: 0 };
      let result = await send(request, config, context);
      let attempts = result.attempts;
      if (request.fetchedToken && 'response' in result && result.response.status === 401) {
        // the cached token may have been revoked early: fetch a fresh one once and try again
        request = await prepare(config, context, auth, true);
        result = await send(request, config, context);
        attempts += result.attempts;
      }
      if ('error' in result) {
        const category = CATEGORY_OF_EGRESS[result.error.code];
        return {
          status: 'failed',
          error: {
            category,
            message: messageFor(category, undefined, overrides),
            detail: result.error.message,
          },
          request: recordedRequest(request, context),
          response: result.lastResponse ? recordedResponse(result.lastResponse) : null,
          attempts,
        };
      }
      const { response } = result;
      const recorded = recordedResponse(response);
      if (response.status >= 200 && response.status < 300) {
        const shaped = shapeBody(response.body, response.headers['content-type'], {
          select: config.response.select,
          maxLength: config.response.max_length,
        });
        return {
          status: 'succeeded',
          output: shaped.output,
          outputTruncated: shaped.truncated,
          request: recordedRequest(request, context),
          response: recorded,
          attempts,
          ...(shaped.parseError ? { extra: { parse_error: shaped.parseError } } : {}),
        };
      }
      const category = categoryOfStatus(response.status);
      const excerpt = truncateText(new TextDecoder().decode(response.body), 500).text;
      return {
        status: 'failed',
        error: {
          category,
          message: messageFor(category, response.status, overrides),
          detail: `HTTP ${response.status} from ${request.host}${excerpt ? `: ${excerpt}` : ''}`,
          status: response.status,
        },
        request: recordedRequest(request, context),
        response: recorded,
        attempts,
      };
    } catch (error) {
      if (error instanceof RunFailure) {
        return {
          status: 'failed',
          error: error.error,
          request: request ? recordedRequest(request, context) : null,
          attempts: 0,
        };
      }
      if (error instanceof AppError && error.code === 'UNPROCESSABLE') {
        return {
          status: 'failed',
          error: {
            category: 'invalid_input',
            message: messageFor('invalid_input', undefined, overrides),
            detail: error.message,
          },
          attempts: 0,
        };
      }
      throw error;
    }
  }

  return {
    kind: 'http',
    configSchema: HttpConfigSchema,
    normalize: (input) => normalizeHttpConfig(input as HttpConfigInput),
    check: (config, context) =>
      checkHttpConfig(config, { ...context, baseUrl: context.integration?.baseUrl ?? null }),
    secretIds: (config) => authSecretIds(config.auth),
    urls: (config, integration: Integration | null) => [
      { path: '/http/url', url: absoluteUrl(config, integration?.baseUrl ?? null) },
      ...authUrls(config.auth, '/http/auth'),
    ],
    outputPaths: (config) => (config.response.select?.length ? config.response.select : null),
    run,
  };
}
