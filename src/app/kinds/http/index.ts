/**
 * The http kind: render the request template, add auth, keep every secret on its hosts, send through the
 * guarded client with retries, and shape the answer for a model.
 */
import {
  HttpConfigSchema,
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
import { TemplateError, referencesIn, referencesInTree } from '../../../core/templates/index.ts';
import type { ActionKind, RunContext, RunOutcome } from '../kind.ts';
import { buildLookup } from '../lookup.ts';
import { guardRedirects, refusal, secretRefusedFor } from '../host-binding.ts';
import { clientCredentialsKey, fetchClientCredentials } from './oauth2.ts';
import { TokenCache, TokenError, type IssuedToken } from './token-cache.ts';
import { credentialHeader, fetchFromTokenUrl, tokenHeader, tokenUrlKey } from './token-url.ts';
import { sendWithRetries, sleep, type SendResult } from './send.ts';
import { PlanCache, authOf, type HttpPlan } from './plan.ts';
import { Markers, assemble, markingLookup, type AuthPart } from './request.ts';

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
  plan: HttpPlan;
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
  /** The request as recorded: a marker wherever a secret went. */
  recorded: RecordedRequest;
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

const decoder = new TextDecoder();

export function createHttpKind(deps: HttpKindDeps): ActionKind<HttpConfig> {
  const tokens = new TokenCache(deps.clock);
  const plans = new PlanCache();
  const random = deps.random ?? Math.random;

  const record = (text: string | undefined): { text: string | null; truncated: boolean } => {
    if (text === undefined) return { text: null, truncated: false };
    const cut = truncateText(text, deps.recordBodyBytes);
    return { text: cut.text, truncated: cut.truncated };
  };

  async function prepare(
    config: HttpConfig,
    context: RunContext,
    refreshToken: boolean,
  ): Promise<PreparedRequest> {
    const overrides = config.response.error_messages;
    // a template the plan cannot be made of fails as a template, once the secrets it names are read
    let plan: HttpPlan | undefined;
    let unusable: unknown;
    try {
      plan = plans.get(context.action, config, context.integration);
    } catch (error) {
      unusable = error;
    }
    const auth = plan?.auth ?? authOf(config, context.integration);
    const secretValues = new Map<string, string>();
    const recordedNames = new Map<string, string>();
    const carried: SecretRecord[] = [];
    for (const name of plan?.secretNames ?? secretNamesIn(config)) {
      const secret = await context.secrets.byName(name);
      secretValues.set(name, secret.value);
      recordedNames.set(name, secret.record.name);
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

    let rendered: { url: string; headers: Record<string, string>; body: unknown };
    try {
      if (!plan) throw unusable;
      rendered = { url: plan.url(lookup), headers: plan.headers(lookup), body: plan.body?.(lookup) };
    } catch (error) {
      if (error instanceof TemplateError) throw failure('invalid_input', error.message, overrides);
      throw error;
    }

    const markers = new Markers();
    const { real, marked } = await placeAuth(auth, context, markers, carried, refreshToken, overrides);
    const request = assemble(plan, lookup, real, config.body_type, context.idempotencyKey, rendered);

    const refused = secretRefusedFor(request.host, carried, [request.host]);
    if (refused)
      throw failure('blocked', refusal(refused, request.host, [request.host], false).message, overrides);

    // the same request with a marker wherever a secret went, rendering again only what holds one
    const marking = markingLookup(plan, lookup, markers, (name) => recordedNames.get(name) ?? name);
    const asRecorded = assemble(plan, marking, marked, config.body_type, context.idempotencyKey, {
      url: plan.marks.url ? plan.url(marking) : rendered.url,
      headers: plan.marks.headers ? plan.headers(marking) : rendered.headers,
      body: plan.marks.body ? plan.body?.(marking) : rendered.body,
    });
    const recordedHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(asRecorded.headers))
      recordedHeaders[name] = markers.swap(value);
    return {
      plan,
      method: config.method,
      url: request.url,
      headers: request.headers,
      body: request.body,
      host: request.host,
      carried,
      fetchedToken: auth.type === 'oauth2_client_credentials' || auth.type === 'token_url',
      recorded: {
        method: config.method,
        url: markers.swap(asRecorded.url),
        headers: recordedHeaders,
        body: record(asRecorded.body === undefined ? undefined : markers.swap(asRecorded.body)).text,
      },
    };
  }

  /**
   * Where auth puts its credential or token, as sent (`real`) and as recorded (`marked`, a marker in its
   * place); the secrets it carries join `carried`.
   */
  async function placeAuth(
    auth: AuthConfig,
    context: RunContext,
    markers: Markers,
    carried: SecretRecord[],
    refreshToken: boolean,
    overrides: Record<string, string>,
  ): Promise<{ real: AuthPart; marked: AuthPart }> {
    if (auth.type === 'none') return { real: { in: 'none' }, marked: { in: 'none' } };
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
      const name = `${secret?.record.name ?? 'authorization URL'} token`;
      context.secrets.derive(name, token);
      const [header, value] = tokenHeader(auth, token);
      return {
        real: { in: 'header', name: header, prefix: '', value },
        marked: { in: 'header', name: header, prefix: '', value: tokenHeader(auth, markers.for(name))[1] },
      };
    }
    const secret = await context.secrets.byId(auth.secret_id);
    const marker = markers.for(secret.record.name);
    switch (auth.type) {
      case 'bearer':
        carried.push(secret.record);
        return {
          real: { in: 'header', name: 'Authorization', prefix: 'Bearer ', value: secret.value },
          marked: { in: 'header', name: 'Authorization', prefix: 'Bearer ', value: marker },
        };
      case 'basic': {
        const credential = `${auth.username}:${secret.value}`;
        context.secrets.derive(secret.record.name, credential);
        carried.push(secret.record);
        return {
          real: {
            in: 'header',
            name: 'Authorization',
            prefix: 'Basic ',
            value: Buffer.from(credential, 'utf8').toString('base64'),
          },
          marked: { in: 'header', name: 'Authorization', prefix: 'Basic ', value: marker },
        };
      }
      case 'api_key':
        carried.push(secret.record);
        return auth.in === 'header'
          ? {
              real: { in: 'header', name: auth.name, prefix: '', value: secret.value },
              marked: { in: 'header', name: auth.name, prefix: '', value: marker },
            }
          : {
              real: { in: 'query', name: auth.name, value: secret.value },
              marked: { in: 'query', name: auth.name, value: marker },
            };
      case 'body':
        carried.push(secret.record);
        return {
          real: { in: 'body', field: auth.field, value: secret.value },
          marked: { in: 'body', field: auth.field, value: marker },
        };
      case 'oauth2_client_credentials': {
        const token = await fetchToken(
          clientCredentialsKey(context.action.organizationId, auth, secret),
          () => fetchClientCredentials(deps.http, auth, secret),
          refreshToken,
          overrides,
        );
        const name = `${secret.record.name} access token`;
        context.secrets.derive(name, token);
        return {
          real: { in: 'header', name: 'Authorization', prefix: 'Bearer ', value: token },
          marked: { in: 'header', name: 'Authorization', prefix: 'Bearer ', value: markers.for(name) },
        };
      }
    }
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
   * The request as recorded: built with markers where this run put secrets (prepare), then searched for
   * any secret value that reached it another way (an input that holds one), which normally finds
   * nothing and copies nothing.
   */
  function recordedRequest(request: PreparedRequest, context: RunContext): RecordedRequest {
    return redactorFor(context.secrets.values()).value(request.recorded);
  }

  function recordedResponse(response: EgressResponse): RecordedResponse {
    const headers: Record<string, string> = {};
    for (const name of RECORDED_RESPONSE_HEADERS) {
      const value = response.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const body = record(decoder.decode(response.body));
    return { status: response.status, headers, body: body.text, bodyTruncated: body.truncated };
  }

  async function send(request: PreparedRequest, context: RunContext): Promise<SendResult> {
    const { plan } = request;
    const timeoutMs = Math.min(plan.timeoutMs ?? deps.timeoutMs, deps.timeoutCapMs);
    const retryable = plan.idempotent || context.idempotencyKey !== null;
    const attempts = plan.maxAttempts ?? (retryable ? 3 : 1);
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
    let request: PreparedRequest | undefined;
    try {
      request = await prepare(config, context, false);
      if (context.dryRun)
        return { status: 'dry_run', request: recordedRequest(request, context), attempts: 0 };
      let result = await send(request, context);
      let attempts = result.attempts;
      if (request.fetchedToken && 'response' in result && result.response.status === 401) {
        // the cached token may have been revoked early: fetch a fresh one once and try again
        request = await prepare(config, context, true);
        result = await send(request, context);
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
