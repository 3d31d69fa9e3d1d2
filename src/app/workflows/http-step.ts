/**
 * The workflow `http` step runs through the http action kind itself (render per placement, auth from a
 * secret, SSRF guard, retries, shaping), as a transient action that is never stored. `{{step.output.x}}`
 * and `{{trigger.x}}` are not names the kind knows, so each distinct reference becomes a flat variable
 * (`wf_0`, `wf_1`, ...) whose value is looked up in the run: the kind then renders it where it goes
 * (percent-encoded in the URL, refused in a header if it holds CR/LF, typed in a JSON body).
 */
import {
  HTTP_METHODS,
  authUrls,
  checkHttpConfig,
  normalizeHttpConfig,
  type HttpConfig,
  type HttpConfigInput,
} from '../../core/actions/kinds/http.ts';
import { kindConfig, type ActionConfigs } from '../../core/actions/kinds/index.ts';
import type { Action, DefinitionIssue, SavedUrl } from '../../core/actions/model.ts';
import type { Variable } from '../../core/actions/variables.ts';
import { parseTemplate } from '../../core/templates/index.ts';

export interface FlatHttp {
  config: HttpConfig;
  /** wf_N → the reference it stands for. */
  refs: Map<string, string>;
}

function rewrite(template: string, names: Map<string, string>): string {
  return parseTemplate(template)
    .map((segment) => {
      if (segment.kind === 'text') return segment.text;
      if (segment.ref.startsWith('secrets.')) return `{{${segment.ref}}}`;
      let name = names.get(segment.ref);
      if (!name) {
        name = `wf_${names.size}`;
        names.set(segment.ref, name);
      }
      return `{{${name}}}`;
    })
    .join('');
}

function rewriteTree(value: unknown, names: Map<string, string>): unknown {
  if (typeof value === 'string') return rewrite(value, names);
  if (Array.isArray(value)) return value.map((item) => rewriteTree(item, names));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteTree(v, names)]));
  return value;
}

const strings = (value: unknown): Record<string, string> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      )
    : {};

/** The step's input as an http kind config over flat variables. */
export function flattenHttpStep(input: Record<string, unknown>): FlatHttp {
  const names = new Map<string, string>();
  const method = (
    typeof input.method === 'string' ? input.method.toUpperCase() : 'GET'
  ) as HttpConfigInput['method'];
  const config = normalizeHttpConfig({
    method,
    url: rewrite(typeof input.url === 'string' ? input.url : '', names),
    query: Object.fromEntries(Object.entries(strings(input.query)).map(([k, v]) => [k, rewrite(v, names)])),
    headers: Object.fromEntries(
      Object.entries(strings(input.headers)).map(([k, v]) => [k, rewrite(v, names)]),
    ),
    ...(input.body === undefined || input.body === null ? {} : { body: rewriteTree(input.body, names) }),
    ...(input.body_type === 'form' ? { body_type: 'form' as const } : {}),
    ...(input.auth && typeof input.auth === 'object' ? { auth: input.auth as HttpConfigInput['auth'] } : {}),
    ...(typeof input.timeout_ms === 'number' ? { timeout_ms: input.timeout_ms } : {}),
  });
  return { config, refs: new Map([...names].map(([ref, name]) => [name, ref])) };
}

const variablesOf = (refs: Map<string, string>): Variable[] =>
  [...refs.keys()].map((name): Variable => ({ name, type: 'string' }));

/** Save-time checks of an http step (placement rules of the URL template, method). */
export function checkHttpStep(input: Record<string, unknown>): DefinitionIssue[] {
  const method = typeof input.method === 'string' ? input.method.toUpperCase() : 'GET';
  if (!(HTTP_METHODS as readonly string[]).includes(method))
    return [{ path: '/input/method', message: `method must be one of ${HTTP_METHODS.join(', ')}` }];
  try {
    const { config, refs } = flattenHttpStep(input);
    return checkHttpConfig(config, {
      variables: variablesOf(refs),
      contextVariables: [],
      secretNames: new Set(),
      baseUrl: null,
    }).map((issue) => ({ ...issue, path: issue.path.replace(/^\/http/, '/input') }));
  } catch (error) {
    return [{ path: '/input', message: (error as Error).message }];
  }
}

/** The URLs a valid http step sends to (its request and its auth's token URL), for the egress guard. */
export function httpStepUrls(input: Record<string, unknown>): SavedUrl[] {
  const { config } = flattenHttpStep(input);
  return [{ path: '/input/url', url: config.url }, ...authUrls(config.auth, '/input/auth')];
}

/** An action that exists only for one run of a step (an http or code step runs through its kind). */
export function transientAction<K extends 'http' | 'code'>(
  organizationId: string,
  stepName: string,
  kind: K,
  config: ActionConfigs[K],
  variables: Variable[],
  now: string,
): Action<K> {
  return {
    id: `workflow-step:${stepName}`,
    organizationId,
    version: 1,
    createdAt: now,
    updatedAt: now,
    name: stepName,
    description: `workflow ${kind} step`,
    toolName: `workflow_${kind}_step`,
    status: 'active',
    channels: [],
    tags: [],
    variables,
    contextVariables: [],
    integrationId: null,
    secrets: {},
    requiresConfirmation: false,
    executionMode: 'sync',
    messages: { speakOnSend: null, speakOnReceive: null },
    ...kindConfig(kind, config),
  };
}

export const transientHttpAction = (organizationId: string, stepName: string, flat: FlatHttp, now: string) =>
  transientAction(organizationId, stepName, 'http', flat.config, variablesOf(flat.refs), now);
