/**
 * OpenCX's `payload` (an OpenAPI operation) with `api_endpoint` and `request_type` → the variables and
 * request template of a native http action, through the OpenAPI importer's operation planner: the same
 * parameter, body and schema mapping an imported document gets.
 *
 * `api_endpoint` is any absolute http(s) URL a WHATWG URL parser accepts, templates included
 * (`https://h/v1/bookings/{id}`), and is kept as given. The URL called:
 * - without `payload.path`: `api_endpoint`, its `{param}` segments path parameters (described in
 *   `payload.parameters`, or taken as required text);
 * - with `payload.path` (which may hold `{param}` path parameters): the base URL followed by the path. The
 *   base URL is `payload.base_url`, else the first absolute `payload.servers` URL, else `api_endpoint`
 *   up to where the path's fixed start begins in it (`https://h/v1/bookings` with `/bookings/{id}` →
 *   `https://h/v1`), else `api_endpoint` itself up to its first `{param}` segment (`https://h/v1` with
 *   `/bookings/{id}`).
 * A query string in `api_endpoint` is sent as fixed query values. The method is `request_type`;
 * `payload.method`, when given, must agree with it. Credentials are not part of OpenCX's payload: add
 * them natively (PATCH /v1/actions/{id} `http.auth`); an OpenCX update keeps them.
 */
import type { HttpConfigInput } from '../../../core/actions/kinds/http.ts';
import type { Variable } from '../../../core/actions/variable-model.ts';
import { AppError } from '../../../core/errors.ts';
import { planOperation } from '../../../core/openapi/operation.ts';
import { isRecord, list, text, type Json } from '../../../core/openapi/values.ts';

export interface RequestTemplate {
  variables: Variable[];
  http: HttpConfigInput;
}

export interface EndpointSpec {
  api_endpoint: string;
  request_type: string;
  payload: Record<string, unknown>;
}

const ABSOLUTE = /^(https?:\/\/[^/?#]+)([^?#]*)(\?[^#]*)?/i;
/** Payload members that describe where and how to call, not the operation: kept out of the planner. */
const NOT_OPERATION = ['base_url', 'path', 'method', 'servers', 'security', 'callbacks'];

const invalid = (path: string, message: string) => new AppError('VALIDATION_FAILED', message, { path });

export function requestTemplate(spec: EndpointSpec): RequestTemplate {
  const method = spec.request_type.toUpperCase();
  const declared = text(spec.payload.method);
  if (declared !== undefined && declared.toUpperCase() !== method)
    throw invalid(
      '/payload/method',
      `payload.method (${declared}) and request_type (${spec.request_type}) name different methods; make them agree`,
    );
  const parsed = URL.parse(spec.api_endpoint);
  const endpoint = ABSOLUTE.exec(spec.api_endpoint);
  if (!parsed || !/^https?:$/.test(parsed.protocol) || !endpoint)
    throw invalid('/api_endpoint', 'api_endpoint must be an absolute http:// or https:// URL');
  const { base, path } = baseAndPath(spec, endpoint);
  const operation: Json = Object.fromEntries(
    Object.entries(spec.payload).filter(([key]) => !NOT_OPERATION.includes(key)),
  );
  const planned = planOperation(
    {
      root: { openapi: '3.1.0', paths: {} },
      credentials: {},
      server: { baseUrl: base },
      toolNames: new Set(),
    },
    { key: 'payload', path, method: method.toLowerCase(), pathItem: {}, operation },
  );
  if ('reason' in planned)
    throw new AppError('UNPROCESSABLE', `The payload cannot become a runnable request: ${planned.reason}`);
  const { http, variables } = planned.action;
  const fixed = Object.fromEntries(new URLSearchParams(endpoint[3] ?? ''));
  const query = { ...fixed, ...http.query };
  return {
    variables,
    http: { ...http, ...(Object.keys(query).length > 0 ? { query } : {}) },
  };
}

function baseAndPath(spec: EndpointSpec, endpoint: RegExpExecArray): { base: string; path: string } {
  const [, origin = '', endpointPath = ''] = endpoint;
  const given = text(spec.payload.path);
  if (given === undefined || given.trim() === '') return { base: origin, path: endpointPath || '/' };
  // `{{id}}` (Switchboard's placeholders) reads as OpenAPI's `{id}`
  const path = `/${given.trim().replace(/^\/+/, '')}`.replace(/\{\{\s*([^{}\s]+)\s*\}\}/g, '{$1}');
  const declaredBase = text(spec.payload.base_url) ?? serverUrl(spec.payload.servers);
  if (declaredBase !== undefined) {
    if (!ABSOLUTE.test(declaredBase))
      throw invalid('/payload/base_url', 'payload.base_url must be an absolute http:// or https:// URL');
    return { base: declaredBase.replace(/\/+$/, ''), path };
  }
  const fixedStart = (path.split('{')[0] ?? '').replace(/\/+$/, '');
  const at = fixedStart === '' ? -1 : endpointPath.lastIndexOf(fixedStart);
  const boundary = endpointPath.charAt(at + fixedStart.length);
  const prefix =
    at >= 0 && (boundary === '' || boundary === '/') ? endpointPath.slice(0, at) : untemplated(endpointPath);
  return { base: `${origin}${prefix.replace(/\/+$/, '')}`, path };
}

/** A template endpoint's path up to its first `{param}` segment: the path comes from payload.path. */
const untemplated = (path: string): string =>
  path.includes('{') ? (path.split('{')[0] ?? '').replace(/\/[^/]*$/, '') : path;

function serverUrl(servers: unknown): string | undefined {
  for (const server of list(servers)) {
    const url = isRecord(server) ? text(server.url) : undefined;
    if (url !== undefined && ABSOLUTE.test(url)) return url;
  }
  return undefined;
}
