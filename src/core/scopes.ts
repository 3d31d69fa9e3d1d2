/** What an API key may do. `admin` implies every other scope and adds cross-organization management. */
export const SCOPE_DESCRIPTIONS = {
  'actions:read': 'Read actions, integrations, executions and tool definitions',
  'actions:write':
    'Create, change and delete actions and integrations (code that can read secrets also needs secrets:use)',
  'actions:execute': 'Execute actions and confirm pending executions',
  'secrets:read': 'List secret names and metadata (never values)',
  'secrets:write': 'Create, rotate and delete secrets, and bind them to the hosts they may go to',
  'secrets:use':
    'Write code that can read secrets: create or change a code action that has secrets in scope, or add a secret to an integration that has code actions (besides actions:write)',
  'workflows:read': 'Read workflows and their runs',
  'workflows:write': 'Create, change and delete workflows',
  'workflows:execute': 'Start and cancel workflow runs, send events',
  'agents:read': 'Read agents',
  'agents:write': 'Create, change, publish and delete agents',
  'keys:read': "List the organization's API keys",
  'keys:write': 'Create and revoke API keys of the organization (never with more scopes than the caller has)',
  admin: 'Everything above, plus creating organizations and their keys',
} as const satisfies Record<string, string>;

export type Scope = keyof typeof SCOPE_DESCRIPTIONS;

export const SCOPES = Object.keys(SCOPE_DESCRIPTIONS) as readonly Scope[];

/**
 * Names other products use for a set of our scopes. Langdock's `INTEGRATION_API` lets a key manage
 * integrations and their code actions, which read the integration's secrets; here that is reading,
 * writing and executing actions, and writing code that uses secrets.
 */
export const SCOPE_ALIASES: Readonly<Record<string, readonly Scope[]>> = {
  INTEGRATION_API: ['actions:read', 'actions:write', 'actions:execute', 'secrets:use'],
};

export const isScope = (value: string): value is Scope => Object.hasOwn(SCOPE_DESCRIPTIONS, value);

/** Expands aliases and removes duplicates; returns the names it did not recognise in `unknown`. */
export function normalizeScopes(requested: readonly string[]): { scopes: Scope[]; unknown: string[] } {
  const scopes = new Set<Scope>();
  const unknown: string[] = [];
  for (const name of requested) {
    const alias = SCOPE_ALIASES[name];
    if (alias) alias.forEach((scope) => scopes.add(scope));
    else if (isScope(name)) scopes.add(name);
    else unknown.push(name);
  }
  return { scopes: SCOPES.filter((scope) => scopes.has(scope)), unknown };
}

export const hasScope = (granted: readonly Scope[], required: Scope): boolean =>
  granted.includes('admin') || granted.includes(required);

/** The scopes in `requested` that a holder of `granted` may not hand out. */
export const scopesBeyond = (granted: readonly Scope[], requested: readonly Scope[]): Scope[] =>
  granted.includes('admin') ? [] : requested.filter((scope) => !granted.includes(scope));
