/**
 * One interface per action kind: its config schema, its save-time checks, the input schema the agent
 * sees, and how it executes. Adding a kind is a new module plus one line in registry.ts; it touches no
 * other kind.
 */
import type { TSchema } from 'typebox';
import type {
  Action,
  DefinitionIssue,
  ExecutionMode,
  Integration,
  SavedUrl,
} from '../../core/actions/model.ts';
import type { JsonSchemaObject } from '../../core/actions/variables.ts';
import type { ExecutionError, RecordedRequest, RecordedResponse } from '../../core/executions.ts';
import type { Variable } from '../../core/actions/variables.ts';
import type { SecretRecord } from '../../core/secrets.ts';
import type { SecretAccess } from './secret-access.ts';

export interface SaveContext {
  organizationId: string;
  integration: Integration | null;
  variables: readonly Variable[];
  contextVariables: readonly string[];
  /** Names usable as secrets.NAME: the action's and its integration's. */
  secretNames: ReadonlySet<string>;
}

export interface RunContext {
  action: Action;
  integration: Integration | null;
  /** Validated, coerced inputs. */
  inputs: Record<string, unknown>;
  /** Runtime variables and dynamic-context values for this run. */
  context: Record<string, unknown>;
  secrets: SecretAccess;
  idempotencyKey: string | null;
  /** Render and report what would be sent, without sending. */
  dryRun: boolean;
  executionId: string;
  /**
   * Aborted when the caller stops waiting (its client went away, its job was told to stop) or the
   * execution's deadline passes: the kind then stops its upstream request or sandbox run.
   */
  signal: AbortSignal;
  /** The API key that called, when one did (null for a webhook, an event or a run without a key). */
  callerKeyId?: string | null | undefined;
}

/** A secret an action can read, by the name it reads it by, and who declares it. */
export interface SecretInScope {
  name: string;
  declaredBy: 'action' | 'integration';
  secret: SecretRecord;
}

/**
 * What a run produced, before redaction and recording. A kind answers `succeeded`, `failed` or (asked to
 * only render) `dry_run`; the engine makes it `cancelled` when the run's signal stopped it first.
 */
export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'dry_run' | 'cancelled';
  output?: unknown;
  outputTruncated?: boolean;
  error?: ExecutionError;
  request?: RecordedRequest | null;
  response?: RecordedResponse | null;
  attempts: number;
  extra?: Record<string, unknown>;
}

export interface ActionKind<Config = unknown> {
  readonly kind: string;
  /** Validates the kind's document on the wire (`"http": {...}`) and documents it in OpenAPI. */
  readonly configSchema: TSchema;
  /** Fills the document's defaults; the result is what is stored. */
  normalize(input: unknown): Config;
  /** Checks beyond the schema; paths are JSON Pointers into the action (`/http/url`). */
  check(config: Config, context: SaveContext): DefinitionIssue[];
  /** Secret ids the config names directly (auth), which must exist in the organization. */
  secretIds(config: Config): string[];
  /**
   * Set for kinds whose code reads every secret its action and integration declare (secretsInScope):
   * writing such an action while secrets are in scope needs secrets:use besides actions:write.
   */
  readonly readsDeclaredSecrets?: boolean;
  /** What will not work as saved though the definition is valid (a secret bound to no host), for its author. */
  warnings?(config: Config, inScope: readonly SecretInScope[]): DefinitionIssue[];
  /** Absolute URLs the egress guard judges at save time, each with its path in the action (`/http/url`). */
  urls(config: Config, integration: Integration | null): SavedUrl[];
  /** The input schema agents see; by default compiled from the variables. */
  inputSchema?(config: Config, variables: readonly Variable[]): JsonSchemaObject;
  /**
   * The paths its output is known to have, which a speak_on_receive message may use; null or absent when
   * any path may exist (a whole JSON response).
   */
  outputPaths?(config: Config): readonly string[] | null;
  /** The execution modes it supports; absent: all. Call control makes no sense after the call. */
  readonly executionModes?: readonly ExecutionMode[];
  /**
   * Set for kinds whose actions another part of the server keeps (a workflow's tool is kept by its
   * workflow): the actions API may not create, change or delete them. Says what to change instead.
   */
  managedBy?(config: Config): string;
  run(config: Config, context: RunContext): Promise<RunOutcome>;
}

/** A kind of any config type: each kind only ever receives the config its own normalize() produced. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActionKind = ActionKind<any>;
