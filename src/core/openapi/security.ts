/**
 * Security schemes → the http kind's auth, with the secret the caller names per scheme in `secrets`:
 * http bearer → bearer, http basic → basic (needs a username), apiKey in a header or query → api_key,
 * oauth2 clientCredentials → oauth2_client_credentials (needs a client_id). An operation's requirement
 * list is a choice of alternatives: the first one that can be met with the secrets given is used. With
 * none, an operation that also allows anonymous calls (`{}`) is imported without auth; any other is
 * skipped, with the reason ("provide secrets.<scheme>").
 */
import type { AuthConfig } from '../actions/kinds/http.ts';
import { variableName } from './names.ts';
import { deref } from './refs.ts';
import { type Json, isRecord, list, quote, record, setEntry, show, stringList, text } from './values.ts';

/** What the caller gives for one scheme: a secret id, plus a username or client id where needed. */
export interface SchemeCredential {
  secretId: string;
  username?: string | undefined;
  clientId?: string | undefined;
  /** Replaces the token URL the document gives (another environment, a proxy). */
  tokenUrl?: string | undefined;
  scopes?: string[] | undefined;
}

export interface AuthPlan {
  auth: AuthConfig | null;
  /** Credentials beyond the first (a requirement naming two API keys), sent as {{secrets.NAME}}. */
  secrets: Record<string, string>;
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Where a credential goes, so a parameter of the same name is not asked of the agent as well. */
  carries: { in: 'header' | 'query'; name: string }[];
  notes: string[];
}

export interface SchemeSummary {
  name: string;
  /** `http bearer`, `apiKey in header X-API-Key`, `oauth2 (clientCredentials)`. */
  type: string;
  /** The auth type it becomes, or null when it cannot be mapped. */
  auth: AuthConfig['type'] | null;
  secret: 'provided' | 'missing';
  /** Why it cannot be used as given. */
  reason?: string;
}

type Mapped = { ok: true; auth: AuthConfig } | { ok: false; reason: string };

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
const NO_AUTH: AuthPlan = { auth: null, secrets: {}, headers: {}, query: {}, carries: [], notes: [] };

export function schemesOf(root: Json): Json {
  return record(record(root.components).securitySchemes);
}

export function authFor(
  root: Json,
  security: unknown,
  credentials: Readonly<Record<string, SchemeCredential>>,
  serverUrl: string | null,
): AuthPlan | { problem: string } {
  const alternatives = list(security).filter(isRecord);
  if (alternatives.length === 0) return structuredClone(NO_AUTH);
  const reasons: string[] = [];
  let anonymous = false;
  for (const alternative of alternatives) {
    const names = Object.keys(alternative);
    if (names.length === 0) {
      anonymous = true;
      continue;
    }
    const mapped = names.map((name) => ({
      name,
      result: mapScheme(root, name, stringList(alternative[name]), credentials[name], serverUrl),
    }));
    const failed = mapped.flatMap(({ result }) => (result.ok ? [] : [result.reason]));
    if (failed.length > 0) {
      reasons.push(...failed);
      continue;
    }
    const plan = combine(mapped as { name: string; result: { ok: true; auth: AuthConfig } }[]);
    if ('problem' in plan) reasons.push(plan.problem);
    else return plan;
  }
  const unique = [...new Set(reasons)];
  if (anonymous)
    return {
      ...structuredClone(NO_AUTH),
      notes:
        unique.length > 0
          ? [`imported without auth (the API also allows anonymous calls): ${unique.join('; ')}`]
          : [],
    };
  return { problem: unique.join('; ') };
}

/** One credential goes in `auth`; further ones must be API keys, sent from the action's secrets. */
function combine(
  mapped: { name: string; result: { ok: true; auth: AuthConfig } }[],
): AuthPlan | { problem: string } {
  const [first, ...rest] = mapped;
  const plan: AuthPlan = { ...structuredClone(NO_AUTH), auth: first?.result.auth ?? null };
  if (plan.auth?.type === 'api_key') plan.carries.push({ in: plan.auth.in, name: plan.auth.name });
  for (const { name, result } of rest) {
    const { auth } = result;
    if (auth.type !== 'api_key')
      return {
        problem: `the requirement ${mapped.map((m) => m.name).join(' + ')} needs several credentials at once, and only API keys can be added to another`,
      };
    const secretName = variableName(name);
    setEntry(plan.secrets, secretName, auth.secret_id);
    setEntry(auth.in === 'header' ? plan.headers : plan.query, auth.name, `{{secrets.${secretName}}}`);
    plan.carries.push({ in: auth.in, name: auth.name });
  }
  return plan;
}

export function mapScheme(
  root: Json,
  name: string,
  scopes: string[],
  credential: SchemeCredential | undefined,
  serverUrl: string | null,
): Mapped {
  const schemes = schemesOf(root);
  if (!Object.hasOwn(schemes, name))
    return { ok: false, reason: `security scheme ${quote(name)} is not defined in the document` };
  const scheme = deref(root, schemes[name]).value;
  const cannot = (why: string): Mapped => ({
    ok: false,
    reason: `security scheme ${quote(name)} cannot be mapped: ${why}`,
  });
  const provide = (extra = ''): Mapped => ({ ok: false, reason: `provide secrets.${name}${extra}` });
  switch (scheme.type) {
    case 'http': {
      const kind = show(scheme.scheme).toLowerCase();
      if (kind === 'bearer')
        return credential
          ? { ok: true, auth: { type: 'bearer', secret_id: credential.secretId } }
          : provide();
      if (kind !== 'basic')
        return cannot(`HTTP ${kind || 'authentication without a scheme'} is not supported`);
      if (credential?.username === undefined)
        return provide(' as {"secret_id", "username"} (HTTP basic: the secret is the password)');
      return {
        ok: true,
        auth: { type: 'basic', username: credential.username, secret_id: credential.secretId },
      };
    }
    case 'apiKey': {
      const where = scheme.in;
      const keyName = text(scheme.name);
      if (where !== 'header' && where !== 'query')
        return cannot(`API keys in a ${show(where)} are not supported`);
      if (keyName === undefined || !HEADER_NAME.test(keyName)) return cannot('the API key has no valid name');
      if (!credential) return provide();
      return {
        ok: true,
        auth: { type: 'api_key', in: where, name: keyName, secret_id: credential.secretId },
      };
    }
    case 'oauth2':
      return clientCredentials(record(scheme.flows), scopes, credential, serverUrl, {
        cannot,
        provide,
      });
    case 'openIdConnect':
      return cannot('OpenID Connect needs a person to sign in');
    default:
      return cannot(`type ${quote(show(scheme.type))} is not supported`);
  }
}

function clientCredentials(
  flows: Json,
  scopes: string[],
  credential: SchemeCredential | undefined,
  serverUrl: string | null,
  say: { cannot: (why: string) => Mapped; provide: (extra?: string) => Mapped },
): Mapped {
  const flow = flows.clientCredentials;
  if (!isRecord(flow))
    return say.cannot(
      'only the OAuth2 clientCredentials flow is supported (the others need a person to sign in)',
    );
  const elsewhere = otherFlowScopes(flows, flow);
  const userOnly = scopes.filter(
    (scope) => !Object.hasOwn(record(flow.scopes), scope) && elsewhere.has(scope),
  );
  if (userOnly.length > 0)
    return say.cannot(
      `the scopes ${userOnly.join(', ')} are granted only by OAuth2 flows where a person signs in, not by client credentials`,
    );
  if (credential?.clientId === undefined) return say.provide(' as {"secret_id", "client_id"}');
  const given = credential.tokenUrl ?? text(flow.tokenUrl);
  if (given === undefined) return say.cannot('the clientCredentials flow has no tokenUrl');
  let tokenUrl: string;
  try {
    tokenUrl = new URL(given, serverUrl ?? undefined).href;
  } catch {
    return say.cannot(
      `the token URL ${quote(given)} is relative and there is no server URL to resolve it against`,
    );
  }
  const wanted = scopes.length > 0 ? scopes : (credential.scopes ?? []);
  return {
    ok: true,
    auth: {
      type: 'oauth2_client_credentials',
      token_url: tokenUrl,
      client_id: credential.clientId,
      secret_id: credential.secretId,
      ...(wanted.length > 0 ? { scopes: wanted.slice(0, 50) } : {}),
    },
  };
}

function otherFlowScopes(flows: Json, own: Json): Set<string> {
  return new Set(
    Object.values(flows).flatMap((flow) => (flow === own ? [] : Object.keys(record(record(flow).scopes)))),
  );
}

export function summarizeSchemes(
  root: Json,
  credentials: Readonly<Record<string, SchemeCredential>>,
  serverUrl: string | null,
): SchemeSummary[] {
  return Object.entries(schemesOf(root)).map(([name, raw]) => {
    let scheme: Json = {};
    let mapped: Mapped;
    try {
      scheme = deref(root, raw).value;
      mapped = mapScheme(root, name, [], credentials[name], serverUrl);
    } catch (error) {
      mapped = { ok: false, reason: (error as Error).message };
    }
    return {
      name,
      type: describe(scheme),
      auth: mapped.ok ? mapped.auth.type : authTypeOf(scheme),
      secret: credentials[name] ? 'provided' : 'missing',
      ...(mapped.ok ? {} : { reason: mapped.reason }),
    };
  });
}

function authTypeOf(scheme: Json): AuthConfig['type'] | null {
  const http = show(scheme.scheme).toLowerCase();
  if (scheme.type === 'http') return http === 'bearer' ? 'bearer' : http === 'basic' ? 'basic' : null;
  if (scheme.type === 'apiKey') return scheme.in === 'header' || scheme.in === 'query' ? 'api_key' : null;
  if (scheme.type === 'oauth2')
    return isRecord(record(scheme.flows).clientCredentials) ? 'oauth2_client_credentials' : null;
  return null;
}

function describe(scheme: Json): string {
  switch (scheme.type) {
    case 'http':
      return `http ${show(scheme.scheme).toLowerCase()}`;
    case 'apiKey':
      return `apiKey in ${show(scheme.in)} ${show(scheme.name)}`;
    case 'oauth2':
      return `oauth2 (${Object.keys(record(scheme.flows)).join(', ')})`;
    default:
      return show(scheme.type ?? 'unknown');
  }
}
