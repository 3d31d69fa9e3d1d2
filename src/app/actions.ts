/**
 * Defining actions: create, change (every change is a new version; the old ones stay readable), delete,
 * read. Everything a definition refers to is checked when it is saved, so a saved action can run.
 */
import type {
  Action,
  ActionDefinition,
  ActionFields,
  ActionStatus,
  ActionVersion,
  Channel,
  ExecutionMode,
  Integration,
  SpokenMessages,
} from '../core/actions/model.ts';
import { DEFAULT_CHANNELS, type DefinitionIssue } from '../core/actions/model.ts';
import {
  RUNTIME_VARIABLES,
  checkVariables,
  compileInputSchema,
  type JsonSchemaObject,
  type Variable,
} from '../core/actions/variables.ts';
import { AppError, notFound } from '../core/errors.ts';
import type { Page, PageRequest } from '../core/pagination.ts';
import { type Clock, isoNow } from '../core/ports/clock.ts';
import type { Crypto } from '../core/ports/crypto.ts';
import type { HttpClient } from '../core/ports/http-client.ts';
import type { ActionFilter, Repositories } from '../core/ports/store.ts';
import { hasScope } from '../core/scopes.ts';
import { secretsInScope } from '../core/secrets.ts';
import type { Principal } from '../core/tenancy.ts';
import { checkSpokenMessages } from '../core/actions/spoken.ts';
import { TOOL_NAME_PATTERN, toolNameFor } from '../core/tools/names.ts';
import { egressIssues } from './egress-check.ts';
import type { KindRegistry } from './kinds/registry.ts';
import { secretsReadBy, secretsUseNeeded } from './secret-scope.ts';

export interface ActionInput {
  name: string;
  description: string;
  kind: string;
  status?: ActionStatus | undefined;
  channels?: Channel[] | undefined;
  tags?: string[] | undefined;
  variables?: Variable[] | undefined;
  contextVariables?: string[] | undefined;
  integrationId?: string | null | undefined;
  secrets?: Record<string, string> | undefined;
  toolName?: string | undefined;
  requiresConfirmation?: boolean | undefined;
  executionMode?: ExecutionMode | undefined;
  messages?: Partial<SpokenMessages> | undefined;
  /** The kind's document (the wire's `http`, `code`, ...). */
  config: unknown;
}

export type ActionPatch = Partial<ActionInput> & {
  /** When given, the change applies only if the action is still at this version (else 409). */
  expectedVersion?: number | undefined;
};

/**
 * Rules some APIs add when saving. Langdock's integrations API keeps action names unique in an
 * integration and gives each action its place in it, and derives its own kind of slug.
 */
export interface SaveRules {
  /**
   * 409 when another live action of the same integration has the name, ignoring case; a new action
   * takes the next `order` in the integration. Both are decided under the integration's lock, in the
   * transaction that writes, so concurrent saves cannot both pass.
   */
  uniqueNameInIntegration?: boolean;
  /** Derives the tool name from the name and the names taken; default toolNameFor (snake_case). */
  toolNameFor?: (name: string, taken: ReadonlySet<string>) => string;
  /** Runs in the transaction that inserts the action, after the insert (adding it to an agent). */
  afterInsert?: (tx: ActionStore, action: Action) => Promise<void>;
  /**
   * A document another API keeps with the action (its fields the native model has no place for), saved
   * in the transaction that saves the action, replacing the namespace's previous one.
   */
  annotation?: { namespace: string; document: unknown };
}

/**
 * Told about changed and deleted actions inside the transaction that wrote them, so what depends on
 * them (agents that list them go back to draft) commits with the change or not at all. A created
 * action is not reported: nothing lists it yet.
 */
export type ActionsChangedHook = (
  tx: ActionStore,
  organizationId: string,
  actionIds: string[],
  change: 'updated' | 'deleted',
) => Promise<void>;

/**
 * What saving an action reads and writes: the action, its integration and secrets, another API's
 * document kept with it, and the agents that list it (the hooks above write those in the same
 * transaction).
 */
export type ActionRepositoryName = 'actions' | 'integrations' | 'secrets' | 'actionAnnotations' | 'agents';
export type ActionStore = Repositories<ActionRepositoryName>;

export interface ActionDeps {
  store: ActionStore;
  crypto: Crypto;
  clock: Clock;
  kinds: KindRegistry;
  http: HttpClient;
  onActionsChanged?: ActionsChangedHook | undefined;
}

/**
 * The input that saves `action`'s definition again as it is: where a change that replaces fields (a
 * vendor's update) starts from.
 */
export function inputOf(action: ActionDefinition): ActionInput {
  return {
    name: action.name,
    description: action.description,
    kind: action.kind,
    status: action.status,
    channels: action.channels,
    tags: action.tags,
    variables: action.variables,
    contextVariables: action.contextVariables,
    integrationId: action.integrationId,
    secrets: action.secrets,
    toolName: action.toolName,
    requiresConfirmation: action.requiresConfirmation,
    executionMode: action.executionMode,
    messages: action.messages,
    config: action.config,
  };
}

/** A definition as given, before its kind's document is checked and normalized. */
type DraftDefinition = ActionFields & { kind: string; config: unknown };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** How many times a create retries with a fresh tool name when another create took the one it derived. */
const TOOL_NAME_ATTEMPTS = 3;

const sameName = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
const isToolNameClash = (error: unknown) =>
  error instanceof AppError && error.code === 'CONFLICT' && error.path === '/tool_name';

const invalid = (issues: DefinitionIssue[]): AppError =>
  new AppError(
    'VALIDATION_FAILED',
    issues.length === 1
      ? (issues[0]?.message ?? 'Invalid action')
      : `${issues.length} problems: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    { path: issues[0]?.path ?? '/', details: { issues } },
  );

export type ActionService = ReturnType<typeof createActionService>;

export function createActionService({ store, crypto, clock, kinds, http, onActionsChanged }: ActionDeps) {
  /** Checks everything a definition refers to; returns the normalized definition. */
  async function validate(
    organizationId: string,
    definition: DraftDefinition,
    db: ActionStore = store,
  ): Promise<ActionDefinition> {
    const kind = kinds.get(definition.kind);
    const issues: DefinitionIssue[] = [];
    const normalized = kinds.normalize(definition.kind, definition.config);
    const { config } = normalized;
    issues.push(...checkVariables(definition.variables));

    const variableNames = new Set(definition.variables.map((v) => v.name));
    definition.contextVariables.forEach((name, i) => {
      if (!IDENTIFIER.test(name))
        issues.push({ path: `/context_variables/${i}`, message: `"${name}" is not a valid name` });
      else if (variableNames.has(name) || (RUNTIME_VARIABLES as readonly string[]).includes(name)) {
        issues.push({
          path: `/context_variables/${i}`,
          message: `"${name}" is already a variable or runtime variable`,
        });
      }
    });

    const integration = definition.integrationId
      ? await db.integrations.get(organizationId, definition.integrationId)
      : null;
    if (definition.integrationId && !integration)
      issues.push({ path: '/integration_id', message: 'No integration with this id' });

    for (const [index, variable] of definition.variables.entries()) {
      if (
        typeof variable.options_from === 'string' &&
        !(await db.actions.get(organizationId, variable.options_from))
      )
        issues.push({
          path: `/variables/${index}/options_from`,
          message: `No action with id ${variable.options_from}`,
        });
    }
    for (const [name, id] of Object.entries(definition.secrets)) {
      if (!IDENTIFIER.test(name))
        issues.push({ path: `/secrets/${name}`, message: `"${name}" is not a valid secret name` });
      else if (!(await db.secrets.get(organizationId, id)))
        issues.push({ path: `/secrets/${name}`, message: `No secret with id ${id}` });
    }
    for (const id of kind.secretIds(config)) {
      if (!(await db.secrets.get(organizationId, id)))
        issues.push({ path: `/${kind.kind}/auth/secret_id`, message: `No secret with id ${id}` });
    }

    const secretNames = new Set([
      ...Object.keys(integration?.secrets ?? {}),
      ...Object.keys(definition.secrets),
    ]);
    issues.push(
      ...kind.check(config, {
        organizationId,
        integration: integration ?? null,
        variables: definition.variables,
        contextVariables: definition.contextVariables,
        secretNames,
      }),
    );
    if (issues.length === 0) issues.push(...egressIssues(http, kind.urls(config, integration ?? null)));

    if (!TOOL_NAME_PATTERN.test(definition.toolName)) {
      issues.push({
        path: '/tool_name',
        message: 'A tool name is 1 to 64 letters, digits, _ or -, starting with a letter or _',
      });
    }
    issues.push(
      ...checkSpokenMessages(definition.messages, {
        variables: definition.variables,
        contextVariables: definition.contextVariables,
        outputPaths: kind.outputPaths?.(config) ?? null,
      }),
    );
    if (kind.executionModes && !kind.executionModes.includes(definition.executionMode)) {
      issues.push({
        path: '/execution_mode',
        message: `A ${kind.kind} action runs with execution_mode ${kind.executionModes.join(' or ')}, not ${definition.executionMode}`,
      });
    }
    if (issues.length > 0) throw invalid(issues);
    return { ...definition, ...normalized };
  }

  function definitionFrom(input: ActionInput, toolName: string): DraftDefinition {
    return {
      name: input.name,
      description: input.description,
      toolName,
      kind: input.kind,
      status: input.status ?? 'active',
      channels: input.channels ?? [...DEFAULT_CHANNELS],
      tags: input.tags ?? [],
      variables: input.variables ?? [],
      contextVariables: input.contextVariables ?? [],
      integrationId: input.integrationId ?? null,
      secrets: input.secrets ?? {},
      requiresConfirmation: input.requiresConfirmation ?? false,
      executionMode: input.executionMode ?? 'sync',
      messages: {
        speakOnSend: input.messages?.speakOnSend ?? null,
        speakOnReceive: input.messages?.speakOnReceive ?? null,
      },
      config: input.config,
    };
  }

  async function get(organizationId: string, id: string): Promise<Action> {
    const action = await store.actions.get(organizationId, id);
    if (!action) throw notFound('Action');
    return action;
  }

  /**
   * SaveRules.uniqueNameInIntegration, inside the writing transaction: locks the integration, refuses a
   * name another of its actions has, and gives the action its order if it has none (a new action comes
   * last; an older one without an order takes its place by age).
   */
  async function claimPlace(tx: ActionStore, action: Action): Promise<void> {
    const { organizationId, integrationId } = action;
    if (integrationId === null) return;
    if (!(await tx.integrations.lock(organizationId, integrationId))) throw notFound('Integration');
    const siblings = await tx.actions.namesInIntegration(organizationId, integrationId);
    const clash = siblings.find((s) => s.id !== action.id && sameName(s.name, action.name));
    if (clash)
      throw new AppError(
        'CONFLICT',
        `An action named "${clash.name}" already exists in this integration (names are compared ignoring case); choose another name`,
        { path: '/name' },
      );
    if (action.order === undefined) {
      const index = siblings.findIndex((s) => s.id === action.id);
      action.order = index === -1 ? siblings.length : index;
    }
  }

  /**
   * Code that can read secrets is written only by keys trusted with them: saving an action of a kind
   * that reads its declared secrets (ActionKind.readsDeclaredSecrets), with any in scope, needs
   * secrets:use. Decided in the writing transaction with the integration locked, so a concurrent change
   * of the integration's secrets (IntegrationService.update) cannot slip a secret past it.
   */
  async function requireSecretsUse(tx: ActionStore, principal: Principal, action: Action): Promise<void> {
    if (!kinds.get(action.kind).readsDeclaredSecrets || hasScope(principal.scopes, 'secrets:use')) return;
    const { organizationId, integrationId } = action;
    let integration: Integration | null = null;
    if (integrationId !== null) {
      if (!(await tx.integrations.lock(organizationId, integrationId))) throw notFound('Integration');
      integration = (await tx.integrations.get(organizationId, integrationId)) ?? null;
    }
    const names = Object.keys(secretsInScope(integration, action.secrets));
    if (names.length > 0)
      throw secretsUseNeeded(`This ${action.kind} action can read secrets (${names.join(', ')})`);
  }

  /** 409 for an action another part of the server keeps (ActionKind.managedBy): change its owner instead. */
  function refuseManaged(action: Action): void {
    const owner = kinds.get(action.kind).managedBy?.(action.config);
    if (owner !== undefined) throw new AppError('CONFLICT', owner);
  }

  /** Version 1 of a new action with this definition. */
  function firstVersion(definition: ActionDefinition, organizationId: string): Action {
    const now = isoNow(clock);
    return { ...definition, id: crypto.newId(), organizationId, version: 1, createdAt: now, updatedAt: now };
  }

  const annotate = (tx: ActionStore, action: Action, { namespace, document }: SaveRules['annotation'] & {}) =>
    tx.actionAnnotations.put(action.organizationId, action.id, namespace, document, action.updatedAt);

  return {
    get,

    /** The document another API keeps with the action in `namespace` (SaveRules.annotation), if any. */
    annotation(organizationId: string, id: string, namespace: string): Promise<unknown> {
      return store.actionAnnotations.get(organizationId, id, namespace);
    },

    /** The documents of these actions in `namespace`, by action id. */
    annotations(organizationId: string, ids: readonly string[], namespace: string) {
      return store.actionAnnotations.getMany(organizationId, ids, namespace);
    },

    async create(principal: Principal, input: ActionInput, rules: SaveRules = {}): Promise<Action> {
      const organizationId = principal.organizationId;
      if (kinds.get(input.kind).managedBy)
        throw new AppError(
          'VALIDATION_FAILED',
          `A ${input.kind} action is not made through this API; a workflow with trigger_type ai-trigger makes its own`,
          { path: '/kind' },
        );
      const deriveToolName = rules.toolNameFor ?? toolNameFor;
      const derive = async () => deriveToolName(input.name, await store.actions.toolNames(organizationId));
      const toolName = input.toolName ?? (await derive());
      const definition = await validate(organizationId, definitionFrom(input, toolName));
      const action = firstVersion(definition, organizationId);
      for (let attempt = 1; ; attempt++) {
        try {
          await store.transaction(async (tx) => {
            if (rules.uniqueNameInIntegration) await claimPlace(tx, action);
            await requireSecretsUse(tx, principal, action);
            await tx.actions.insert(action, principal.keyId);
            if (rules.annotation) await annotate(tx, action, rules.annotation);
            await rules.afterInsert?.(tx, action);
          });
          return action;
        } catch (error) {
          // a derived tool name another create took meanwhile: derive again (a given one is the caller's)
          if (input.toolName !== undefined || attempt >= TOOL_NAME_ATTEMPTS || !isToolNameClash(error))
            throw error;
          action.toolName = await derive();
          delete action.order; // decided again in the next transaction
        }
      }
    },

    async update(
      principal: Principal,
      id: string,
      patch: ActionPatch,
      rules: Pick<SaveRules, 'uniqueNameInIntegration' | 'annotation'> = {},
    ): Promise<Action> {
      const organizationId = principal.organizationId;
      const current = await get(organizationId, id);
      refuseManaged(current);
      if (patch.expectedVersion !== undefined && patch.expectedVersion !== current.version) {
        throw new AppError(
          'CONFLICT',
          `The action is at version ${current.version}, not ${patch.expectedVersion}; reload it and apply your change again`,
        );
      }
      if (patch.kind !== undefined && patch.kind !== current.kind) {
        throw new AppError(
          'VALIDATION_FAILED',
          'An action cannot change its kind; create a new action instead',
          { path: '/kind' },
        );
      }
      const merged: DraftDefinition = {
        ...current,
        ...Object.fromEntries(
          Object.entries(patch).filter(
            ([key, value]) => value !== undefined && key !== 'expectedVersion' && key !== 'messages',
          ),
        ),
        messages: { ...current.messages, ...patch.messages },
      };
      const definition = await validate(organizationId, merged);
      const action: Action = {
        ...current,
        ...definition,
        version: current.version + 1,
        updatedAt: isoNow(clock),
      };
      const saved = await store.transaction(async (tx) => {
        if (rules.uniqueNameInIntegration) await claimPlace(tx, action);
        await requireSecretsUse(tx, principal, action);
        const updated = await tx.actions.update(action, current.version, principal.keyId);
        if (updated && rules.annotation) await annotate(tx, action, rules.annotation);
        if (updated) await onActionsChanged?.(tx, organizationId, [id], 'updated');
        return updated;
      });
      if (!saved)
        throw new AppError(
          'CONFLICT',
          'The action changed while this change was being saved; reload it and apply your change again',
        );
      return action;
    },

    async remove(organizationId: string, id: string): Promise<void> {
      const current = await store.actions.get(organizationId, id);
      if (current) refuseManaged(current);
      const deleted = await store.transaction(async (tx) => {
        if (!(await tx.actions.delete(organizationId, id, isoNow(clock)))) return false;
        await onActionsChanged?.(tx, organizationId, [id], 'deleted');
        return true;
      });
      if (!deleted) throw notFound('Action');
    },

    /**
     * Saves an action another part of the server keeps (ActionKind.managedBy), in that part's
     * transaction: a new action when `current` is undefined, else a new version of it, or nothing when
     * the definition is unchanged. Checked as any action is; the tool name is derived when not given.
     */
    async putManaged(
      tx: ActionStore,
      principal: { organizationId: string; keyId: string | null },
      current: Action | undefined,
      input: ActionInput,
    ): Promise<Action> {
      const { organizationId } = principal;
      const taken = await tx.actions.toolNames(organizationId);
      if (current) taken.delete(current.toolName);
      const toolName = input.toolName ?? toolNameFor(input.name, taken);
      const definition = await validate(organizationId, definitionFrom(input, toolName), tx);
      const now = isoNow(clock);
      if (!current) {
        const action = firstVersion(definition, organizationId);
        await tx.actions.insert(action, principal.keyId);
        return action;
      }
      const { id: _id, organizationId: _o, version: _v, createdAt: _c, updatedAt: _u, ...kept } = current;
      if (JSON.stringify(kept) === JSON.stringify({ ...kept, ...definition })) return current;
      const action: Action = { ...current, ...definition, version: current.version + 1, updatedAt: now };
      if (!(await tx.actions.update(action, current.version, principal.keyId)))
        throw new AppError('CONFLICT', 'The tool changed while this change was being saved; save again');
      await onActionsChanged?.(tx, organizationId, [action.id], 'updated');
      return action;
    },

    /** Deletes an action another part of the server keeps, in that part's transaction. */
    async removeManaged(tx: ActionStore, organizationId: string, id: string): Promise<void> {
      if (await tx.actions.delete(organizationId, id, isoNow(clock)))
        await onActionsChanged?.(tx, organizationId, [id], 'deleted');
    },

    list(organizationId: string, filter: ActionFilter, page: PageRequest): Promise<Page<Action>> {
      return store.actions.list(organizationId, filter, page);
    },

    async versions(
      organizationId: string,
      id: string,
      page: PageRequest,
    ): Promise<Page<ActionVersion & { id: string }>> {
      await get(organizationId, id);
      return store.actions.listVersions(organizationId, id, page);
    },

    async version(organizationId: string, id: string, version: number): Promise<ActionVersion> {
      const found = await store.actions.getVersion(organizationId, id, version);
      if (!found) throw notFound('Action version');
      return found;
    },

    /** What will not work as saved though it is valid (ActionKind.warnings): for the answer to a save. */
    async warnings(action: Action): Promise<DefinitionIssue[]> {
      const kind = kinds.get(action.kind);
      if (!kind.warnings) return [];
      const integration = action.integrationId
        ? ((await store.integrations.get(action.organizationId, action.integrationId)) ?? null)
        : null;
      return kind.warnings(
        action.config,
        await secretsReadBy(store, action.organizationId, integration, action.secrets),
      );
    },

    /** The input schema agents see for this action. */
    inputSchema(action: Action | ActionDefinition): JsonSchemaObject {
      const kind = kinds.get(action.kind);
      return kind.inputSchema && 'id' in action
        ? kind.inputSchema(action.config, action.variables)
        : compileInputSchema(action.variables);
    },
  };
}
