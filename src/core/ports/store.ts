import type { Action, ActionStatus, ActionVersion, Integration } from '../actions/model.ts';
import type { Agent, AgentStatus, AgentVersion, FrozenAction } from '../agents.ts';
import type { ConfirmationDecision, ConfirmationRequest } from '../confirmations.ts';
import type { ExecutionRecord, ExecutionStatus } from '../executions.ts';
import type { Page, PageRequest } from '../pagination.ts';
import type { PostCallRequest } from '../post-call.ts';
import type { SealedSecret, SecretRecord } from '../secrets.ts';
import type { ApiKey, Organization } from '../tenancy.ts';
import type {
  WorkflowRepository,
  WorkflowRunRepository,
  WorkflowRunSlotRepository,
  WorkflowScheduleRepository,
  WorkflowToolRepository,
} from './workflow-store.ts';

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
  readonly integrations: IntegrationRepository;
  readonly actions: ActionRepository;
  readonly executions: ExecutionRepository;
  readonly idempotency: IdempotencyRepository;
  readonly agents: AgentRepository;
  readonly postCall: PostCallRepository;
  readonly confirmations: ConfirmationRepository;
  readonly actionAnnotations: ActionAnnotationRepository;
  readonly workflows: WorkflowRepository;
  readonly workflowRuns: WorkflowRunRepository;
  readonly workflowTools: WorkflowToolRepository;
  readonly workflowSchedules: WorkflowScheduleRepository;
  readonly workflowRunSlots: WorkflowRunSlotRepository;
  /**
   * The database server's clock, epoch ms (PostgreSQL's now()): one time for every process, whatever
   * their own clocks say. SQLite has no server; there it is this machine's clock.
   */
  databaseNow(): Promise<number>;
  /** Runs `fn` in one transaction; everything it writes commits together or not at all. */
  transaction<T>(fn: (store: Store) => Promise<T>): Promise<T>;
  /** Resolves when the database answers and could take a write now (readiness; docs/security.md H05). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The Store's repositories by name. */
export type RepositoryName = Exclude<
  keyof Store,
  'dialect' | 'databaseNow' | 'transaction' | 'ping' | 'close'
>;

/**
 * The part of the store a use case works with: the repositories it names, and transactions over just
 * those. A use case takes `Repositories<'actions' | 'secrets'>` rather than the whole Store, so what it
 * can read and write is in its signature; a Store is one of every such part.
 */
export type Repositories<K extends RepositoryName> = Pick<Store, K> & {
  /** Runs `fn` in one transaction; everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Repositories<K>) => Promise<T>): Promise<T>;
};

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
  /**
   * A number that changes whenever keys may have changed, in this process or any other (a revocation
   * from the CLI), asked of the database at the call; undefined when the store cannot tell cheaply, in
   * which case a cached key is trusted only for a while.
   */
  generation(): number | undefined;
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
  /** Metadata and ciphertext in one read: what revealing a value needs. */
  getWithSealed(
    organizationId: string,
    id: string,
  ): Promise<{ record: SecretRecord; sealed: SealedSecret } | undefined>;
  count(): Promise<number>;
  /** Master key versions that at least one secret is sealed under. */
  keyVersionsInUse(): Promise<number[]>;
  /** Every secret in id order after `afterId`, sealed: for checking and re-encrypting every value. */
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

export interface IntegrationRepository {
  insert(integration: Integration): Promise<void>;
  get(organizationId: string, id: string): Promise<Integration | undefined>;
  /**
   * The organization an integration belongs to, whichever it is. Only for a dialect that answers "not
   * yours" (403) apart from "no such integration" (404), as Langdock's does; native routes never call it.
   */
  organizationOf(id: string): Promise<string | undefined>;
  /**
   * Inside a transaction, holds the integration until the transaction ends, so that writers checking
   * its actions (names unique in it, their order) run one at a time. PostgreSQL locks the row; SQLite's
   * write transactions already run one at a time. False when it does not exist in the organization.
   */
  lock(organizationId: string, id: string): Promise<boolean>;
  list(organizationId: string, page: PageRequest): Promise<Page<Integration>>;
  update(integration: Integration): Promise<boolean>;
  delete(organizationId: string, id: string): Promise<boolean>;
}

export interface ActionFilter {
  kind?: string | undefined;
  status?: string | undefined;
  integrationId?: string | undefined;
  tag?: string | undefined;
}

export interface ActionRepository {
  /** Inserts the action and its first version. */
  insert(action: Action, createdBy: string | null): Promise<void>;
  /** Stores a new version if the current one is still `expectedVersion`; false when someone else saved first. */
  update(action: Action, expectedVersion: number, createdBy: string | null): Promise<boolean>;
  get(organizationId: string, id: string): Promise<Action | undefined>;
  /** The current version of a live action: a cheap read that says whether a cached copy is current. */
  currentVersion(organizationId: string, id: string): Promise<number | undefined>;
  getVersion(organizationId: string, id: string, version: number): Promise<ActionVersion | undefined>;
  /** Newest version first; the cursor is a version number. */
  listVersions(
    organizationId: string,
    id: string,
    page: PageRequest,
  ): Promise<Page<ActionVersion & { id: string }>>;
  list(organizationId: string, filter: ActionFilter, page: PageRequest): Promise<Page<Action>>;
  /** Every active action, for tool lists. */
  listActive(organizationId: string): Promise<Action[]>;
  findByToolName(organizationId: string, toolName: string): Promise<Action | undefined>;
  findByName(organizationId: string, integrationId: string | null, name: string): Promise<Action | undefined>;
  toolNames(organizationId: string): Promise<Set<string>>;
  /** Soft delete: the action leaves every list, its versions stay readable for its executions. */
  delete(organizationId: string, id: string, at: string): Promise<boolean>;
  countByIntegration(organizationId: string, integrationId: string): Promise<number>;
  /** The live actions of an integration, oldest first: ids and names, for checks that compare names. */
  namesInIntegration(organizationId: string, integrationId: string): Promise<{ id: string; name: string }[]>;
}

export interface AgentFilter {
  status?: AgentStatus | undefined;
}

/** A live action as an agent sees it: what publishing checks and freezes. */
export interface AgentActionState {
  id: string;
  name: string;
  version: number;
  status: ActionStatus;
}

/**
 * Agents and their published versions. Writes that touch an agent and its action list (insert, update)
 * run inside a transaction the caller opens.
 */
export interface AgentRepository {
  insert(agent: Agent): Promise<void>;
  get(organizationId: string, id: string): Promise<Agent | undefined>;
  /**
   * Inside a transaction, holds the agent until the transaction ends (as IntegrationRepository.lock), so
   * that publishing and the draft reset of a concurrent action change run one after the other.
   */
  lock(organizationId: string, id: string): Promise<Agent | undefined>;
  list(organizationId: string, filter: AgentFilter, page: PageRequest): Promise<Page<Agent>>;
  /** Replaces its fields and its action list; false when it does not exist. */
  update(agent: Agent): Promise<boolean>;
  delete(organizationId: string, id: string): Promise<boolean>;
  /** The live actions of the organization among `ids` (any order; missing or deleted ones left out). */
  liveActions(organizationId: string, ids: readonly string[]): Promise<AgentActionState[]>;
  /** Puts every published agent that lists one of the actions back to draft; returns how many. */
  markDraftByActions(organizationId: string, actionIds: readonly string[], at: string): Promise<number>;
  /** Takes the actions off every agent's list, putting those agents back to draft; returns how many. */
  removeActions(organizationId: string, actionIds: readonly string[], at: string): Promise<number>;
  insertVersion(organizationId: string, version: AgentVersion): Promise<void>;
  getVersion(organizationId: string, agentId: string, version: number): Promise<AgentVersion | undefined>;
  /**
   * The action versions a published version froze (any order), each with its action's state now:
   * `currentStatus` is null when the action has been deleted since.
   */
  frozenActions(
    organizationId: string,
    refs: readonly FrozenAction[],
  ): Promise<(ActionVersion & { currentStatus: ActionStatus | null })[]>;
}

export interface ExecutionFilter {
  actionId?: string | undefined;
  status?: ExecutionStatus | undefined;
  /** ISO timestamps bounding started_at: since inclusive, until exclusive. */
  since?: string | undefined;
  until?: string | undefined;
}

export interface ExecutionRepository {
  /**
   * `serialized[i]`, when given, is records[i] as JSON already: it is stored as is. A record replaces an
   * earlier one with its id (a post-call execution is recorded `queued`, then as each attempt ends),
   * except that a `queued` record never replaces another.
   */
  insertMany(
    records: readonly ExecutionRecord[],
    serialized?: readonly (string | undefined)[],
  ): Promise<void>;
  /** Replaces a record (a pending execution that finished, was confirmed or declined). */
  update(record: ExecutionRecord): Promise<boolean>;
  get(organizationId: string, id: string): Promise<ExecutionRecord | undefined>;
  list(organizationId: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionRecord>>;
  /** Deletes finished executions that started before `cutoff`; returns how many. */
  deleteStartedBefore(cutoff: string, limit: number): Promise<number>;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in_progress' | 'done';
  /** The stored response: status and body. */
  response: { status: number; body: unknown } | null;
  createdAt: string;
  expiresAt: string;
}

/** Post-call requests waiting for their conversation to end (core/post-call.ts). */
export interface PostCallRepository {
  insert(request: PostCallRequest): Promise<void>;
  get(organizationId: string, executionId: string): Promise<PostCallRequest | undefined>;
  /** Every request of the conversation, oldest first, whatever its state. */
  ofConversation(organizationId: string, conversationId: string): Promise<PostCallRequest[]>;
  markEnqueued(organizationId: string, executionId: string, jobId: string, at: string): Promise<void>;
}

/** Calls of actions that require confirmation, waiting for the user's answer (core/confirmations.ts). */
export interface ConfirmationRepository {
  insert(request: ConfirmationRequest): Promise<void>;
  get(organizationId: string, executionId: string): Promise<ConfirmationRequest | undefined>;
  /**
   * Takes the decision if the request is still pending and `at` is before its expiry (for `expired`: at or
   * after it). False when it was decided already or the deadline says otherwise: exactly one decision wins.
   */
  decide(
    organizationId: string,
    executionId: string,
    decision: ConfirmationDecision,
    at: string,
  ): Promise<boolean>;
  /** Deletes requests made before `cutoff` (long decided or expired); returns how many. */
  deleteCreatedBefore(cutoff: string, limit: number): Promise<number>;
}

/**
 * Documents another API keeps with an action that the native model has no field for, one per action and
 * namespace (the API's name). Opaque JSON to the store.
 */
export interface ActionAnnotationRepository {
  /** Inserts or replaces the action's document in the namespace. */
  put(
    organizationId: string,
    actionId: string,
    namespace: string,
    document: unknown,
    at: string,
  ): Promise<void>;
  get(organizationId: string, actionId: string, namespace: string): Promise<unknown>;
  /** The documents of these actions in the namespace, by action id (absent: none). */
  getMany(
    organizationId: string,
    actionIds: readonly string[],
    namespace: string,
  ): Promise<Map<string, unknown>>;
}

export interface IdempotencyRepository {
  /** Claims the key for this request, or returns what holds it (an expired record is replaced). */
  claim(
    organizationId: string,
    scope: string,
    key: string,
    requestHash: string,
    now: string,
    expiresAt: string,
  ): Promise<{ claimed: true } | { claimed: false; existing: IdempotencyRecord }>;
  complete(
    organizationId: string,
    scope: string,
    key: string,
    response: { status: number; body: unknown },
  ): Promise<void>;
  /** Gives the key up (the request failed before doing anything), so a retry can claim it. */
  release(organizationId: string, scope: string, key: string): Promise<void>;
  get(organizationId: string, scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  deleteExpired(now: string): Promise<number>;
}
