/**
 * Spoken messages (Talkover's speak_on_send and speak_on_receive, a transfer's announce): short templates
 * a voice runtime says. Checked when the action is saved; rendered per run with the one template renderer.
 * A message never carries a secret, and a placeholder with nothing to say drops the whole message (with
 * the reason recorded) rather than leaving a gap in a sentence someone will hear.
 */
import { REFERENCE_PATTERN, TemplateError, referencesIn, renderString } from '../templates/index.ts';
import type { Lookup } from '../templates/index.ts';
import type { DefinitionIssue, SpokenMessages } from './model.ts';
import { RUNTIME_VARIABLES, type Variable } from './variables.ts';

export interface SpokenCheckContext {
  variables: readonly Variable[];
  contextVariables: readonly string[];
  /**
   * For a message said after success: the paths the kind's output is known to have (`directive.seconds`,
   * an http action's `response.select`), or null when any path may exist (a whole JSON response).
   * Undefined for a message said before anything ran: only the inputs, runtime and context are known.
   */
  outputPaths?: readonly string[] | null;
}

const RUNTIME: ReadonlySet<string> = new Set(RUNTIME_VARIABLES);

const list = (refs: readonly string[]) => refs.map((ref) => `{{${ref}}}`).join(', ');

/** Save-time problems of one spoken template; `path` is the field's JSON Pointer (`/speak_on_send`). */
export function checkSpokenTemplate(
  template: string | null,
  path: string,
  context: SpokenCheckContext,
): DefinitionIssue[] {
  if (template === null) return [];
  const refs = [...new Set(referencesIn(template))];
  const issues: DefinitionIssue[] = [];
  const secrets = refs.filter((ref) => ref === 'secrets' || ref.startsWith('secrets.'));
  if (secrets.length > 0) issues.push({ path, message: `Secrets are never spoken: remove ${list(secrets)}` });
  const passwords = refs.filter((ref) =>
    context.variables.some((v) => v.name === ref && v.widget === 'password'),
  );
  if (passwords.length > 0)
    issues.push({
      path,
      message: `${list(passwords)} ${passwords.length === 1 ? 'is a password input' : 'are password inputs'}, which are never spoken`,
    });
  const flat = (ref: string) =>
    context.variables.some((v) => v.name === ref) ||
    RUNTIME.has(ref) ||
    context.contextVariables.includes(ref);
  const unknown = refs.filter(
    (ref) =>
      !secrets.includes(ref) &&
      !flat(ref) &&
      !(context.outputPaths !== undefined && inOutput(ref, context.outputPaths)),
  );
  if (unknown.length > 0) {
    const where =
      context.outputPaths === undefined
        ? 'a variable, a runtime variable or a context_variables entry'
        : context.outputPaths === null
          ? 'a path into the response (order.status), a variable, a runtime variable or a context_variables entry'
          : `a path into the output (${context.outputPaths.join(', ')}), a variable, a runtime variable or a context_variables entry`;
    issues.push({ path, message: `Unknown placeholders: ${list(unknown)}. Each must be ${where}.` });
  }
  return issues;
}

/** Both messages of an action: speak_on_send knows only the flat variables, speak_on_receive the output too. */
export function checkSpokenMessages(
  messages: SpokenMessages,
  context: Required<SpokenCheckContext>,
): DefinitionIssue[] {
  const { variables, contextVariables } = context;
  return [
    ...checkSpokenTemplate(messages.speakOnSend, '/speak_on_send', { variables, contextVariables }),
    ...checkSpokenTemplate(messages.speakOnReceive, '/speak_on_receive', context),
  ];
}

/** A reference reaches into the output: any valid path when the shape is unknown, else at or below a known path. */
function inOutput(ref: string, paths: readonly string[] | null): boolean {
  if (!REFERENCE_PATTERN.test(ref)) return false;
  if (paths === null) return true;
  const segments = ref.split('.');
  return paths.some((path) => {
    const known = path.split('.');
    return known.length <= segments.length && known.every((part, i) => part === '*' || part === segments[i]);
  });
}

/**
 * The value at a dotted path of an output. A shaped http output keeps each selected path as one key
 * (`{"order.status": "shipped"}`), so at each level the longest dotted prefix that is a key wins.
 */
export function valueAtPath(value: unknown, path: string): unknown {
  return reach(value, path.split('.'));
}

function reach(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value;
  if (Array.isArray(value)) {
    const head = segments[0] ?? '';
    return /^\d+$/.test(head) ? reach(value[Number(head)], segments.slice(1)) : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (let n = segments.length; n >= 1; n--) {
    const key = segments.slice(0, n).join('.');
    if (Object.hasOwn(value, key)) {
      const found = reach((value as Record<string, unknown>)[key], segments.slice(n));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

export type SpokenResult = { text: string } | { omitted: string };

/** A value worth saying: text that is not blank, a finite number, or a boolean. */
function speakable(value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== '';
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'boolean';
}

/**
 * Renders a spoken template. `output` (after success) is looked up first, then the flat variables; a
 * placeholder naming nothing, or naming something with nothing to say (absent, null, blank, an object),
 * omits the message and says why. Secrets are not in `flat` (the caller gives no secret values).
 */
export function renderSpoken(
  template: string,
  field: string,
  flat: Lookup,
  output?: { value: unknown },
): SpokenResult {
  const lookup: Lookup = (ref) => {
    if (ref === 'secrets' || ref.startsWith('secrets.')) return { found: false };
    if (output !== undefined && REFERENCE_PATTERN.test(ref)) {
      const value = valueAtPath(output.value, ref);
      if (value !== undefined) return { found: true, value: speakable(value) ? value : undefined };
    }
    const result = flat(ref);
    return result.found && !speakable(result.value) ? { found: true, value: undefined } : result;
  };
  try {
    return { text: renderString(template, lookup, field) };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    const ref = error.refs[0] ?? '';
    return {
      omitted:
        error.code === 'UNKNOWN_REFERENCE'
          ? `{{${ref}}} names nothing ${output === undefined ? 'among the inputs, runtime and context values' : 'in the output or among the inputs, runtime and context values'} of this run`
          : `{{${ref}}} has nothing to say in this run (no value, null, blank, or not text, a number or a boolean)`,
    };
  }
}
