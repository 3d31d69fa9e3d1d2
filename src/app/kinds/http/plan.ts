/**
 * An http action compiled once per action version: its templates as renderers, its auth, its retry
 * policy, which placeholders carry secrets, and what is fixed about its URL, so that a run only looks
 * its values up and fills them in.
 */
import {
  IDEMPOTENT_METHODS,
  absoluteUrl,
  type AuthConfig,
  type HttpConfig,
} from '../../../core/actions/kinds/http.ts';
import type { Action, Integration } from '../../../core/actions/model.ts';
import {
  compileForm,
  compileHeaders,
  compileJson,
  compileUrl,
  referencesIn,
  referencesInTree,
  type Renderer,
} from '../../../core/templates/index.ts';

export interface HttpPlan {
  readonly method: string;
  readonly auth: AuthConfig;
  readonly overrides: Readonly<Record<string, string>>;
  /** `secrets.NAME` names the templates use. */
  readonly secretNames: readonly string[];
  readonly url: Renderer<string>;
  /**
   * The host of every URL `url` renders, when the text it renders is already a URL's serialisation
   * (the usual case): a run then needs no URL parse of its own. Undefined when each must be parsed.
   */
  readonly host: string | undefined;
  readonly headers: Renderer<Record<string, string>>;
  /** The JSON tree (values not copied: it is only serialised) or the form text; undefined: no body. */
  readonly body: Renderer<unknown> | undefined;
  /**
   * References whose values are secrets (`secrets.NAME`) or count as ones (a password input, named as
   * the execution names it): the recorded request is rendered with a marker in their place.
   */
  readonly secretRefs: ReadonlyMap<string, { input: string } | { secret: string }>;
  /** Whether the URL, the headers or the body use one of secretRefs. */
  readonly marks: { readonly url: boolean; readonly headers: boolean; readonly body: boolean };
  /** Whether a failed attempt may be sent again (idempotent method), before any Idempotency-Key. */
  readonly idempotent: boolean;
  readonly maxAttempts: number | undefined;
  readonly timeoutMs: number | null;
}

/** The auth a run uses: the action's own, else its integration's, else none. */
export const authOf = (config: HttpConfig, integration: Integration | null): AuthConfig =>
  config.auth ?? (integration?.auth as AuthConfig | null | undefined) ?? { type: 'none' };

const SECRET_PREFIX = 'secrets.';

/** Compiles `config` for `action` (its variables) and `integration` (base URL and default auth). */
export function compilePlan(action: Action, config: HttpConfig, integration: Integration | null): HttpPlan {
  const auth = authOf(config, integration);
  const url = compileUrl({
    url: absoluteUrl(config, integration?.baseUrl ?? null),
    query: config.query,
    serialization: config.serialization ?? {},
    reservedQueryKeys: auth.type === 'api_key' && auth.in === 'query' ? [auth.name] : [],
  });
  const body =
    config.body === null
      ? undefined
      : config.body_type === 'form'
        ? compileForm(
            config.body as Record<string, string>,
            config.serialization?.body,
            auth.type === 'body' ? [auth.field] : [],
          )
        : compileJson(config.body, 'body', { clone: false });

  const urlRefs = [...referencesIn(config.url), ...Object.values(config.query).flatMap(referencesIn)];
  const headerRefs = Object.values(config.headers).flatMap(referencesIn);
  const bodyRefs = referencesInTree(config.body);
  const secretRefs = new Map<string, { input: string } | { secret: string }>();
  for (const ref of [...urlRefs, ...headerRefs, ...bodyRefs])
    if (ref.startsWith(SECRET_PREFIX)) secretRefs.set(ref, { secret: ref.slice(SECRET_PREFIX.length) });
  for (const variable of action.variables)
    if (variable.widget === 'password') secretRefs.set(variable.name, { input: variable.name });
  const marked = (refs: readonly string[]) => refs.some((ref) => secretRefs.has(ref));

  return {
    method: config.method,
    auth,
    overrides: config.response.error_messages,
    secretNames: [
      ...new Set(
        [...urlRefs, ...headerRefs, ...bodyRefs]
          .filter((ref) => ref.startsWith(SECRET_PREFIX))
          .map((ref) => ref.slice(SECRET_PREFIX.length)),
      ),
    ],
    url,
    host: auth.type === 'api_key' && auth.in === 'query' ? undefined : fixedHost(url),
    headers: compileHeaders(config.headers, config.serialization?.headers),
    body,
    secretRefs,
    marks: { url: marked(urlRefs), headers: marked(headerRefs), body: marked(bodyRefs) },
    idempotent: IDEMPOTENT_METHODS.has(config.method),
    maxAttempts: config.retry?.max_attempts,
    timeoutMs: config.timeout_ms,
  };
}

/**
 * The host, when the URL renders as its own serialisation whatever the values: rendered with a stand-in
 * for every value, it must come back unchanged from a parse. Values only ever add text that a URL keeps
 * as it is (percent-encoded path segments, form-encoded query values), so if the rest is already in
 * serialised form (lowercase scheme and host, no default port, a path), every rendering is.
 */
function fixedHost(url: Renderer<string>): string | undefined {
  let sample: string;
  try {
    sample = url(() => ({ found: true, value: 'x' }));
  } catch {
    return undefined;
  }
  const parsed = URL.parse(sample);
  return parsed?.href === sample ? parsed.hostname : undefined;
}

/** Plans kept, by action version. */
const CAPACITY = 1_000;

interface Entry {
  plan: HttpPlan;
  config: HttpConfig;
  variables: Action['variables'];
  /** What the plan took from the integration, compared by value (integrations are read per run). */
  integration: string;
  /** The config and variables as JSON, made when a run brings other objects for the same version. */
  signature: string | undefined;
}

const signatureOf = (config: HttpConfig, variables: Action['variables']) =>
  JSON.stringify([config, variables]);

/** What of the integration a plan depends on: its base URL, and its auth when the action has none. */
const integrationPart = (config: HttpConfig, integration: Integration | null): string =>
  integration === null ? '' : JSON.stringify([integration.baseUrl, config.auth ? null : integration.auth]);

/**
 * Plans by organization, action id and version, least recently used first out. An action version never
 * changes, but transient actions (workflow steps) reuse ids and versions for different configs, and an
 * older version is read into new objects on every run: a plan is reused only for the same config and
 * variables, by identity or, failing that, by value.
 */
export class PlanCache {
  readonly #entries = new Map<string, Entry>();

  get(action: Action, config: HttpConfig, integration: Integration | null): HttpPlan {
    const key = `${action.organizationId}\u0000${action.id}\u0000${action.version}`;
    const part = integrationPart(config, integration);
    const entry = this.#entries.get(key);
    if (entry && entry.integration === part) {
      if (entry.config === config && entry.variables === action.variables) return this.#touch(key, entry);
      entry.signature ??= signatureOf(entry.config, entry.variables);
      if (entry.signature === signatureOf(config, action.variables)) return this.#touch(key, entry);
    }
    const plan = compilePlan(action, config, integration);
    this.#entries.delete(key);
    if (this.#entries.size >= CAPACITY) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(key, {
      plan,
      config,
      variables: action.variables,
      integration: part,
      signature: undefined,
    });
    return plan;
  }

  #touch(key: string, entry: Entry): HttpPlan {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.plan;
  }
}
