/**
 * What the dialect suites (OpenCX's actions and workflows, Langdock's integrations) share: golden
 * fixtures under test/fixtures/<dialect>, golden bodies matched by shape, ajv validation against the
 * OpenCX's own schemas (test/fixtures/opencx/) with ErrorDto, the reason phrases the vendors' error bodies
 * name, the app beside a loopback upstream, and scoped keys.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { expect } from 'vitest';
import type { StoreKind } from './databases.ts';
import { startTestApp, type Response, type TestApp } from './app.ts';
import { startUpstream, type Upstream } from './upstream.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A well-formed id that names nothing. */
export const MISSING = '01a00000-0000-7000-8000-000000000000';

/** The reason phrase the vendors' error bodies give with each status. */
export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
};

/** Reads the golden fixtures of one dialect: `fixtures('opencx')('create-action.request')`. */
export function fixtures(dialect: 'opencx' | 'langdock'): (name: string) => any {
  return (name) =>
    JSON.parse(readFileSync(new URL(`../fixtures/${dialect}/${name}.json`, import.meta.url), 'utf8'));
}

/**
 * A golden body with its generated parts matched by shape: "<uuid>", "<date-time>", "<string>",
 * "<number>", and any other string `extra` answers a matcher for (undefined: no placeholder).
 */
export function byShape(value: unknown, extra: (text: string) => unknown = () => undefined): unknown {
  if (value === '<uuid>') return expect.stringMatching(UUID);
  if (value === '<number>') return expect.any(Number);
  if (value === '<date-time>') return expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  if (value === '<string>') return expect.any(String);
  if (typeof value === 'string') return extra(value) ?? value;
  if (Array.isArray(value)) return value.map((item) => byShape(item, extra));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, byShape(v, extra)]));
  return value;
}

/**
 * OpenCX's contract checks: each of `schemas` (fixture names under test/fixtures/opencx) and ErrorDto
 * compiled with ajv; `expectValid` holds a value to one of them, `expectError` a response to ErrorDto.
 */
export function openCxContract<K extends string>(schemas: Record<K, string>) {
  const fixture = fixtures('opencx');
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  const compiled = new Map<string, ValidateFunction>(
    Object.entries<string>({ ...schemas, error: 'error-dto.schema' }).map(([kind, name]) => [
      kind,
      ajv.compile(fixture(name)),
    ]),
  );

  function expectValid(kind: K | 'error', value: unknown): void {
    const validate = compiled.get(kind)!;
    expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
  }

  /** ErrorDto, and nothing else. */
  function expectError(response: Response, status: number, message?: RegExp): void {
    expect(response.status, response.text).toBe(status);
    expectValid('error', response.body);
    expect(response.body).toEqual({
      statusCode: status,
      message: message ? expect.stringMatching(message) : expect.any(String),
      error: REASONS[status],
    });
  }

  return { expectValid, expectError };
}

/** The app on a fresh `kind` store beside a loopback upstream it may call (127.0.0.2 is let through). */
export async function startWithUpstream(
  kind: StoreKind,
  env: Record<string, string> = {},
): Promise<{ t: TestApp; upstream: Upstream }> {
  const upstream = await startUpstream();
  const t = await startTestApp(kind, { SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2', ...env });
  return { t, upstream };
}

/** A new key of the default organization with `scopes`, named after them unless `name` is given. */
export async function createKey(t: TestApp, scopes: string[], name = scopes.join(' ')): Promise<string> {
  const response = await t.request('POST', '/v1/keys', { body: { name, scopes } });
  return response.body.key as string;
}
