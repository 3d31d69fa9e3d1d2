/**
 * A Langdock action ⇄ a native code action: the request becomes the use case's input (kind `code`, in the
 * path's integration), and an action reads back as Langdock's `action` object.
 */
import type { ActionInput } from '../../../app/actions.ts';
import type { CodeConfig } from '../../../core/actions/kinds/code.ts';
import type { Action } from '../../../core/actions/model.ts';
import { AppError } from '../../../core/errors.ts';
import type { Dialect } from '../dialect.ts';
import { langdockErrorAnswer } from './errors.ts';
import { fieldsFromVariables, variablesFromFields, type InputField, type InputFieldInput } from './fields.ts';

export interface LangdockActionInput {
  name: string;
  description?: string | null | undefined;
  code?: string | null | undefined;
  inputFields?: InputFieldInput[] | null | undefined;
}

export interface LangdockAction {
  id: string;
  name: string;
  slug: string;
  description: string;
  code: string | null;
  order: number;
  inputFields: InputField[];
}

/** Per-action sandbox limits Langdock cannot express: kept when its PUT replaces the code. */
const NATIVE_CODE_SETTINGS = ['timeout_ms', 'memory_mb', 'max_fetches'] as const;

/**
 * The native input for a Langdock create or (replacing) update. `current` is the code document being
 * replaced, whose native-only limits stay.
 */
export function actionInputFrom(
  body: LangdockActionInput,
  integrationId: string,
  current?: CodeConfig,
): ActionInput {
  const { variables, issues } = variablesFromFields(body.inputFields ?? []);
  if (issues.length > 0) {
    const message = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new AppError('VALIDATION_FAILED', message, { details: { issues } });
  }
  const kept = Object.fromEntries(
    NATIVE_CODE_SETTINGS.filter((key) => current?.[key] !== undefined).map((key) => [key, current?.[key]]),
  );
  return {
    name: body.name,
    description: body.description ?? '',
    kind: 'code',
    integrationId,
    variables,
    config: { ...kept, source: body.code ?? '' },
  };
}

export function langdockAction(action: Action): LangdockAction {
  const source = action.kind === 'code' ? action.config.source : '';
  return {
    id: action.id,
    name: action.name,
    slug: action.toolName,
    description: action.description,
    code: source === '' ? null : source,
    order: action.order ?? 0,
    inputFields: fieldsFromVariables(action.variables),
  };
}

/** A create, or a replace of the action the route read first, in the path's integration. */
export interface ActionRequest {
  body: LangdockActionInput;
  integrationId: string;
  current?: Action | undefined;
}

/** Langdock's actions: its action body in, its `action` object out, its error body for errors. */
export const langdockActions = {
  decode: ({ body, integrationId, current }: ActionRequest): ActionInput =>
    actionInputFrom(body, integrationId, current?.kind === 'code' ? current.config : undefined),
  encode: langdockAction,
  errorAnswer: langdockErrorAnswer,
} satisfies Dialect<ActionRequest, ActionInput, Action, LangdockAction>;
