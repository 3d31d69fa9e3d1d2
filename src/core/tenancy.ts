import type { Scope } from './scopes.ts';

/** The tenant. Every other record belongs to exactly one. */
export interface Organization {
  id: string;
  name: string;
  createdAt: string;
}

/** Where a key came from: the API, the CLI, or the SWITCHBOARD_ADMIN_KEY bootstrap. */
export type ApiKeySource = 'api' | 'cli' | 'env';

export interface ApiKey {
  id: string;
  organizationId: string;
  name: string;
  /** The first characters of the token, kept so people can recognise a key; never enough to use it. */
  prefix: string;
  scopes: Scope[];
  source: ApiKeySource;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** Who is calling: resolved from the API key on every request. */
export interface Principal {
  organizationId: string;
  keyId: string;
  scopes: readonly Scope[];
}
