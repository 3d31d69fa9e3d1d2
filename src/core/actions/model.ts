/**
 * The action envelope every kind shares, and the records around it. An action's definition is versioned
 * as a whole: every change stores a new version, and an execution records the one it ran.
 */
import type { ActionKindName, KindConfig } from './kinds/index.ts';
import type { Variable } from './variables.ts';

export const CHANNELS = [
  'web',
  'email',
  'phone_voice',
  'slack',
  'sms',
  'whatsapp',
  'instagram',
  'messenger',
  'api',
  'web_voice',
] as const;
export type Channel = (typeof CHANNELS)[number];
export const DEFAULT_CHANNELS: readonly Channel[] = ['web'];

export const ACTION_STATUSES = ['active', 'inactive'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** `sync` runs while the agent waits; `post_call` is queued and runs after the conversation ends. */
export const EXECUTION_MODES = ['sync', 'post_call'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export interface SpokenMessages {
  /** Said when the action starts, so a voice runtime can talk while it runs. */
  speakOnSend: string | null;
  /** Said after success; `{{path}}` reaches into the response body. */
  speakOnReceive: string | null;
}

/** The fields of a version every kind shares. */
export interface ActionFields {
  name: string;
  /** What a model reads to decide when to call it. */
  description: string;
  /** The name agents call it by: unique in the organization, valid for every tool format. */
  toolName: string;
  status: ActionStatus;
  channels: Channel[];
  tags: string[];
  variables: Variable[];
  /** Dynamic-context keys the templates may use (`{{account_id}}`), supplied per run in `context`. */
  contextVariables: string[];
  integrationId: string | null;
  /**
   * Its place among its integration's actions (0-based), for APIs that list them in order (Langdock's):
   * set when it is created under the integration's lock; absent for actions created without one.
   */
  order?: number | undefined;
  /** Secrets the action's templates and code may use, by name: NAME → secret id. */
  secrets: Record<string, string>;
  requiresConfirmation: boolean;
  executionMode: ExecutionMode;
  messages: SpokenMessages;
}

/**
 * Everything a version holds: the shared fields, and the kind with its own document (`config`, see the
 * kind's module in kinds/), typed together so that checking `kind` narrows `config`.
 */
export type ActionDefinition<K extends ActionKindName = ActionKindName> = ActionFields & KindConfig<K>;

export interface ActionIdentity {
  id: string;
  organizationId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** An action of any kind, or of the kinds K. */
export type Action<K extends ActionKindName = ActionKindName> = ActionDefinition<K> & ActionIdentity;

export interface ActionVersion {
  actionId: string;
  version: number;
  definition: ActionDefinition;
  createdAt: string;
  /** The API key that made this version. */
  createdBy: string | null;
}

/** A group of actions sharing a base URL, default auth and secrets (Langdock's integration). */
export interface Integration {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  baseUrl: string | null;
  /** NAME → secret id, available to every action of the integration. */
  secrets: Record<string, string>;
  /** Default auth for its http actions (the same shape as an action's `http.auth`). */
  auth: unknown;
  createdAt: string;
  updatedAt: string;
}

/** Issues found when saving: each names the field (a JSON Pointer into the request) and what to fix. */
export interface DefinitionIssue {
  path: string;
  message: string;
}

/** A URL a definition sends to, and where it is in the definition (a JSON Pointer). */
export interface SavedUrl {
  path: string;
  url: string;
}
