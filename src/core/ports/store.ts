import type { Page, PageRequest } from '../pagination.ts';
import type { SealedSecret, SecretRecord } from '../secrets.ts';
import type { ApiKey, Organization } from '../tenancy.ts';

/**
 * Persistence. Every method that reads or writes tenant data takes the organization id, and a record of
 * another organization answers exactly like one that does not exist.
 */
export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly organizations: OrganizationRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly secrets: SecretRepository;
  readonly masterKeys: MasterKeyRepository;
  readonly settings: SettingsRepository;
  /** Runs `fn` in one transaction; everything it writes commits together or not at all. */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OrganizationRepository {
  insert(organization: Organization): Promise<void>;
  get(id: string): Promise<Organization | undefined>;
  list(page: PageRequest): Promise<Page<Organization>>;
}

export interface NewApiKey extends Omit<ApiKey, 'lastUsedAt' | 'revokedAt'> {
  tokenHash: string;
}

export interface ApiKeyRepository {
  insert(key: NewApiKey): Promise<void>;
  /** Looks a key up by the hash of its token, revoked or not. */
  findByHash(tokenHash: string): Promise<ApiKey | undefined>;
  get(organizationId: string, id: string): Promise<ApiKey | undefined>;
  list(organizationId: string, page: PageRequest): Promise<Page<ApiKey>>;
  /** Sets revoked_at if the key is live; false when there is no such live key. */
  revoke(organizationId: string, id: string, at: string): Promise<boolean>;
  /** Revokes every SWITCHBOARD_ADMIN_KEY bootstrap key except the one with this hash. */
  revokeEnvKeysExcept(tokenHash: string, at: string): Promise<number>;
  touch(id: string, at: string): Promise<void>;
}

export interface NewSecret extends SecretRecord {
  sealed: SealedSecret;
}

export interface SecretPatch {
  name?: string;
  description?: string | null;
  allowedHosts?: string[];
  sealed?: SealedSecret;
  updatedAt: string;
}

export interface SecretRepository {
  insert(secret: NewSecret): Promise<void>;
  get(organizationId: string, id: string): Promise<SecretRecord | undefined>;
  getByName(organizationId: string, name: string): Promise<SecretRecord | undefined>;
  list(organizationId: string, page: PageRequest): Promise<Page<SecretRecord>>;
  update(organizationId: string, id: string, patch: SecretPatch): Promise<SecretRecord | undefined>;
  delete(organizationId: string, id: string): Promise<boolean>;
  getSealed(organizationId: string, id: string): Promise<SealedSecret | undefined>;
  count(): Promise<number>;
  /** Master key versions that at least one secret is sealed under, with one sample row of each. */
  keyVersionsInUse(): Promise<{ keyVersion: number; organizationId: string; id: string }[]>;
  /** Every secret in id order after `afterId`, sealed: for re-encryption under a new master key. */
  listSealed(
    afterId: string | null,
    limit: number,
  ): Promise<(SealedSecret & { id: string; organizationId: string })[]>;
  /** Replaces the ciphertext if the row is still sealed under `expectedVersion`. */
  reseal(id: string, expectedVersion: number, sealed: SealedSecret): Promise<boolean>;
}

export interface MasterKeyRow {
  version: number;
  fingerprint: string;
  createdAt: string;
}

export interface MasterKeyRepository {
  list(): Promise<MasterKeyRow[]>;
  /** Registers a key under the next free version and returns it; returns the existing version if known. */
  register(fingerprint: string, at: string): Promise<number>;
}

export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key already has one; returns the value that is stored. */
  setIfAbsent(key: string, value: string): Promise<string>;
}
