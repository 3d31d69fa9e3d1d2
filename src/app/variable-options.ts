/**
 * The options of a variable whose `options_from` names another action (Langdock's SELECT field with a
 * contextActionId): run that action like any execution (recorded, budgeted, redacted) and read a list of
 * options from what it returned.
 */
import { AppError } from '../core/errors.ts';
import type { ExecutionRecord } from '../core/executions.ts';
import type { Principal } from '../core/tenancy.ts';
import type { ActionService } from './actions.ts';
import type { ExecutionService } from './executions/service.ts';

export const OPTION_LIMITS = Object.freeze({ maxOptions: 1000, maxLabelLength: 200 });

export interface VariableOption {
  label: string;
  value: string;
}

export interface OptionsRequest {
  inputs: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface VariableOptions {
  options: VariableOption[];
  /** The execution of the options action that produced them. */
  executionId: string;
}

export interface VariableOptionsDeps {
  actions: Pick<ActionService, 'get'>;
  executions: Pick<ExecutionService, 'execute'>;
}

export type VariableOptionsService = ReturnType<typeof createVariableOptionsService>;

export function createVariableOptionsService({ actions, executions }: VariableOptionsDeps) {
  return {
    async options(
      principal: Principal,
      actionId: string,
      variableName: string,
      request: OptionsRequest,
    ): Promise<VariableOptions> {
      const action = await actions.get(principal.organizationId, actionId);
      const variable = action.variables.find((v) => v.name === variableName);
      if (!variable)
        throw new AppError(
          'NOT_FOUND',
          `The action "${action.name}" has no variable named "${variableName}"`,
        );
      const source = variable.options_from;
      if (source === undefined)
        throw new AppError(
          'UNPROCESSABLE',
          `The variable "${variableName}" has no options_from: its options are fixed (enum) or free text`,
        );
      const record = await runOptionsAction(principal, source, request);
      if (record.status !== 'succeeded') {
        const reason = record.error
          ? `${record.error.message}${record.error.detail ? ` (${record.error.detail})` : ''}`
          : `it ended ${record.status}`;
        throw unusable(`The options action failed: ${reason}`, record.id, source);
      }
      const parsed = optionsFromOutput(record.output);
      if (!parsed.ok) throw unusable(`The options action returned ${parsed.problem}`, record.id, source);
      return { options: parsed.options, executionId: record.id };
    },
  };

  async function runOptionsAction(
    principal: Principal,
    source: string,
    request: OptionsRequest,
  ): Promise<ExecutionRecord> {
    try {
      return await executions.execute(principal, source, { ...request, idempotencyKey: null });
    } catch (error) {
      // the action that lists the options is gone or switched off: the variable cannot be filled now
      if (error instanceof AppError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT'))
        throw new AppError(
          'UNPROCESSABLE',
          `The options action ${source} cannot run: ${error.code === 'NOT_FOUND' ? 'it no longer exists' : error.message}`,
          { details: { options_action_id: source } },
        );
      throw error;
    }
  }
}

function unusable(why: string, executionId: string, source: string): AppError {
  return new AppError('UNPROCESSABLE', `${why} (execution ${executionId})`, {
    details: { execution_id: executionId, options_action_id: source },
  });
}

export type ParsedOptions = { ok: true; options: VariableOption[] } | { ok: false; problem: string };

const SHAPES = 'a list of strings, a list of {label, value} objects, or {"options": [...]} holding either';

/**
 * Reads options from an action's output: a list of strings, a list of `{label, value}` (label optional,
 * then the value), or `{options: [...]}` of either. At most OPTION_LIMITS.maxOptions, each value a
 * non-empty string and each label at most OPTION_LIMITS.maxLabelLength characters.
 */
export function optionsFromOutput(output: unknown): ParsedOptions {
  const list =
    output !== null && typeof output === 'object' && !Array.isArray(output) && 'options' in output
      ? output.options
      : output;
  if (!Array.isArray(list)) return { ok: false, problem: `${describe(output)}; it must return ${SHAPES}` };
  const { maxOptions, maxLabelLength } = OPTION_LIMITS;
  if (list.length > maxOptions)
    return { ok: false, problem: `${list.length} options; a variable takes at most ${maxOptions}` };
  const options: VariableOption[] = [];
  for (const [index, item] of list.entries()) {
    const option = toOption(item);
    if (!option)
      return {
        ok: false,
        problem: `${describe(item)} as option ${index}; each option must be a non-empty string or {label, value} with a non-empty string value`,
      };
    if (option.label.length > maxLabelLength)
      return {
        ok: false,
        problem: `an option label of ${option.label.length} characters (option ${index}); labels may have at most ${maxLabelLength}`,
      };
    options.push(option);
  }
  return { ok: true, options };
}

function toOption(item: unknown): VariableOption | undefined {
  if (typeof item === 'string') return item === '' ? undefined : { label: item, value: item };
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const { label, value } = item as { label?: unknown; value?: unknown };
  if (typeof value !== 'string' || value === '') return undefined;
  if (label === undefined) return { label: value, value };
  return typeof label === 'string' ? { label, value } : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
