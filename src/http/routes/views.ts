/** Domain records as the native API shows them: snake_case, and never a secret value or key hash. */
import Type, { type Static } from 'typebox';
import type { SecretRecord } from '../../core/secrets.ts';
import type { ApiKey, Organization } from '../../core/tenancy.ts';
import { Timestamp } from '../schemas.ts';

export const OrganizationView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: Timestamp,
});
export const organizationView = (o: Organization): Static<typeof OrganizationView> => ({
  id: o.id,
  name: o.name,
  created_at: o.createdAt,
});

export const ApiKeyView = Type.Object({
  id: Type.String(),
  organization_id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  scopes: Type.Array(Type.String()),
  source: Type.String({ description: 'api, cli, or env (the SWITCHBOARD_ADMIN_KEY bootstrap key)' }),
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
  revoked_at: Type.Union([Timestamp, Type.Null()]),
});
export const apiKeyView = (k: ApiKey): Static<typeof ApiKeyView> => ({
  id: k.id,
  organization_id: k.organizationId,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  source: k.source,
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

export const CreatedApiKeyView = Type.Object({
  ...ApiKeyView.properties,
  key: Type.String({ description: 'The API key itself. Shown this once; store it now.' }),
});

export const SecretView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  allowed_hosts: Type.Array(Type.String(), {
    description: 'Hosts the value may be sent to; empty means any',
  }),
  key_version: Type.Integer({ description: 'Master key version the value is encrypted under' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const secretView = (s: SecretRecord): Static<typeof SecretView> => ({
  id: s.id,
  name: s.name,
  description: s.description,
  allowed_hosts: s.allowedHosts,
  key_version: s.keyVersion,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});
