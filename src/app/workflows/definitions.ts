/**
 * Workflow definitions: create, read, list, change (every change is a new version, which becomes the
 * active one) and delete (soft: versions stay for the runs pinned to them).
 */
import { AppError, notFound } from '../../core/errors.ts';
import type { Page, PageRequest } from '../../core/pagination.ts';
import type { Clock } from '../../core/ports/clock.ts';
import type { Crypto } from '../../core/ports/crypto.ts';
import type { HttpClient } from '../../core/ports/http-client.ts';
import type { Repositories } from '../../core/ports/store.ts';
import type { Principal } from '../../core/tenancy.ts';
import type { DefinitionIssue } from '../../core/actions/model.ts';
import {
  stepsIn,
  type Block,
  type StepType,
  type TriggerType,
  type WorkflowDefinition,
  type WorkflowVersion,
} from '../../core/workflows/model.ts';
import { upcoming } from '../../core/workflows/schedule.ts';
import { JsonLogicError, checkJsonLogic } from '../../core/workflows/json-logic.ts';
import { assertBlocks } from '../../core/workflows/validate.ts';
import { syntaxProblem } from '../kinds/code/index.ts';
import { egressIssues } from '../egress-check.ts';
import { checkHttpStep, httpStepUrls } from './http-step.ts';
import type { TriggerKinds, TriggerRepositoryName } from './trigger-kinds/kind.ts';

export interface WorkflowInput {
  name: string;
  description?: string | null | undefined;
  triggerType: TriggerType;
  triggerConfiguration?: unknown;
  triggerConstraints?: unknown;
  blocks: Block[];
  editorState?: unknown;
}

export interface WorkflowDeps {
  /** The workflows, and what the trigger kinds keep beside them in the same transaction. */
  store: Repositories<'workflows' | TriggerRepositoryName>;
  crypto: Crypto;
  clock: Clock;
  /** What each trigger type checks at save and keeps beside the active version. */
  triggerKinds: TriggerKinds;
  /** The egress guard, which judges an http step's URLs when the workflow is saved. */
  http: HttpClient;
}

export type WorkflowService = ReturnType<typeof createWorkflowService>;

export function createWorkflowService({ store, crypto, clock, triggerKinds, http }: WorkflowDeps) {
  /** Save-time checks beyond the step's shape, per step type. */
  const STEP_CHECKS: Partial<
    Record<
      StepType,
      (organizationId: string, input: Record<string, unknown>) => Promise<DefinitionIssue | undefined>
    >
  > = {
    http: async (_, input) => checkHttpStep(input)[0] ?? egressIssues(http, httpStepUrls(input))[0],
    code: async (_, input) => {
      const problem = syntaxProblem(String(input.source));
      return problem && { path: '/input/source', message: problem.message };
    },
    action: async (organizationId, input) =>
      (await store.actions.get(organizationId, String(input.action_id)))
        ? undefined
        : { path: '/input/action_id', message: `no action with id ${String(input.action_id)}` },
  };

  /** Constraints must be JSON Logic this server evaluates; the configuration is the trigger kind's. */
  async function checkTrigger(organizationId: string, input: WorkflowInput): Promise<unknown> {
    try {
      checkJsonLogic(input.triggerConstraints ?? null);
    } catch (error) {
      if (!(error instanceof JsonLogicError)) throw error;
      throw new AppError('VALIDATION_FAILED', `trigger_constraints: ${error.message}`, {
        path: '/trigger_constraints',
      });
    }
    const kind = triggerKinds[input.triggerType];
    return kind?.configure
      ? kind.configure(organizationId, input.triggerConfiguration ?? null)
      : (input.triggerConfiguration ?? null);
  }

  /** Checks a definition: its trigger, its blocks, and that what the steps name exists. */
  async function definitionOf(
    organizationId: string,
    input: WorkflowInput,
    webhookToken: string | null = null,
  ): Promise<WorkflowDefinition> {
    const triggerConfiguration = await checkTrigger(organizationId, input);
    const { blocks } = input;
    assertBlocks(blocks);
    for (const { step, path } of stepsIn(blocks)) {
      const issue = await STEP_CHECKS[step.type]?.(organizationId, step.input);
      if (issue) {
        throw new AppError('VALIDATION_FAILED', `step "${step.id}": ${issue.message}`, {
          path: `${path}${issue.path}`,
        });
      }
    }
    return {
      name: input.name,
      description: input.description ?? null,
      triggerType: input.triggerType,
      triggerConfiguration,
      triggerConstraints: input.triggerConstraints ?? null,
      blocks,
      editorState: input.editorState ?? null,
      // kept across versions so the URL callers were given keeps working; 190 bits of randomness
      webhookToken: input.triggerType === 'webhook' ? (webhookToken ?? crypto.randomToken(32)) : null,
    };
  }

  async function save(
    principal: Principal,
    workflowId: string,
    number: number,
    definition: WorkflowDefinition,
    createdAt: string,
    previous?: WorkflowVersion,
  ) {
    const now = new Date(clock.now()).toISOString();
    const version: WorkflowVersion = {
      ...definition,
      id: crypto.newId(),
      organizationId: principal.organizationId,
      workflowId,
      versionNumber: number,
      isActive: true,
      createdBy: principal.keyId,
      createdAt,
      updatedAt: now,
    };
    // a concurrent edit that took this version number first makes this one a 409
    await store.transaction(async (tx) => {
      await tx.workflows.insertVersion(version);
      if (previous && previous.triggerType !== version.triggerType)
        await triggerKinds[previous.triggerType]?.retired?.(tx, previous);
      await triggerKinds[version.triggerType]?.activated?.(tx, version);
    });
    return version;
  }

  async function active(organizationId: string, workflowId: string): Promise<WorkflowVersion> {
    const version = await store.workflows.active(organizationId, workflowId);
    if (!version) throw notFound('Workflow');
    return version;
  }

  return {
    active,

    async create(principal: Principal, input: WorkflowInput): Promise<WorkflowVersion> {
      const definition = await definitionOf(principal.organizationId, input);
      return save(principal, crypto.newId(), 1, definition, new Date(clock.now()).toISOString());
    },

    /** A new version from the current one and the fields given; it becomes the active version. */
    async update(
      principal: Principal,
      workflowId: string,
      patch: Partial<WorkflowInput>,
    ): Promise<WorkflowVersion> {
      const current = await active(principal.organizationId, workflowId);
      const definition = await definitionOf(
        principal.organizationId,
        {
          name: patch.name ?? current.name,
          description: patch.description === undefined ? current.description : patch.description,
          triggerType: patch.triggerType ?? current.triggerType,
          triggerConfiguration:
            patch.triggerConfiguration === undefined
              ? current.triggerConfiguration
              : patch.triggerConfiguration,
          triggerConstraints:
            patch.triggerConstraints === undefined ? current.triggerConstraints : patch.triggerConstraints,
          blocks: patch.blocks === undefined ? current.blocks : patch.blocks,
          editorState: patch.editorState === undefined ? current.editorState : patch.editorState,
        },
        current.webhookToken,
      );
      return save(principal, workflowId, current.versionNumber + 1, definition, current.createdAt, current);
    },

    /** A cron workflow's next occurrences (at most `count`); undefined for other trigger types. */
    async nextRuns(organizationId: string, workflowId: string, count = 5): Promise<string[] | undefined> {
      const schedule = await store.workflowSchedules.get(organizationId, workflowId);
      return schedule && upcoming(schedule, count);
    },

    list(organizationId: string, page: PageRequest): Promise<Page<WorkflowVersion>> {
      return store.workflows.list(organizationId, page);
    },

    async remove(organizationId: string, workflowId: string): Promise<void> {
      const at = new Date(clock.now()).toISOString();
      const removed = await store.transaction(async (tx) => {
        const current = await tx.workflows.active(organizationId, workflowId);
        if (!current || !(await tx.workflows.delete(organizationId, workflowId, at))) return false;
        await triggerKinds[current.triggerType]?.retired?.(tx, current);
        return true;
      });
      if (!removed) throw notFound('Workflow');
    },
  };
}
