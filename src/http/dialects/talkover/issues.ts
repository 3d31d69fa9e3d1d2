/**
 * Talkover's 422: `{success: false, message: "The given data was invalid.", errors: {field: [...]}}`.
 * The request's own rules (request.ts) produce the map directly; what the action service finds when it
 * saves (an unknown secret, a placeholder naming nothing, a URL the egress guard refuses) arrives as
 * native issues with JSON Pointer paths, which are put under the request's field names here.
 */
import { AppError, isAppError } from '../../../core/errors.ts';
import type { FieldErrors } from './rules.ts';

export const INVALID_MESSAGE = 'The given data was invalid.';

/** The error the dialect's handler answers 422 with. */
export const invalid = (errors: FieldErrors): AppError =>
  new AppError('VALIDATION_FAILED', INVALID_MESSAGE, { details: { errors } });

/** The field errors an invalid() error carries, if it is one. */
export function fieldErrorsOf(error: unknown): FieldErrors | undefined {
  if (!isAppError(error) || error.message !== INVALID_MESSAGE) return undefined;
  return error.details?.errors as FieldErrors | undefined;
}

/** A native path → the request's field (`/variables/2/default` → inputs.2.value). */
const FIELDS: readonly [RegExp, (match: RegExpExecArray) => string][] = [
  [/^\/variables\/(\d+)\/default/, (m) => `inputs.${m[1]}.value`],
  [/^\/variables\/(\d+)\/(name|type|required|description|enum)/, (m) => `inputs.${m[1]}.${m[2]}`],
  [/^\/variables\/(\d+)/, (m) => `inputs.${m[1]}`],
  [/^\/variables/, () => 'inputs'],
  [/^\/http\/url/, () => 'url'],
  [/^\/http\/auth\/url/, () => 'authorization_url'],
  [/^\/http\/auth\/secret_id/, () => 'secret_id'],
  [/^\/http\/auth\/username/, () => 'username'],
  [/^\/http\/auth\/(header|name)/, () => 'api_key_header'],
  [/^\/http\/auth/, () => 'authorization_scheme'],
  [/^\/http\/headers/, () => 'custom_headers'],
  [/^\/http\/body/, () => 'inputs'],
  [/^\/transfer/, () => 'transfer_to'],
  [/^\/hold/, () => 'hold_duration'],
  [/^\/(execution_mode|speak_on_send|speak_on_receive|name|description)$/, (m) => m[1] ?? 'body'],
  [/^\/tool_name/, () => 'name'],
  [/^\/status/, () => 'current_status'],
  [/^\/integration_id/, () => 'integration.id'],
  [/^\/secrets\/(.+)/, (m) => `secrets.${m[1]}`],
  [/^\/action_ids/, () => 'agent_id'],
];

/**
 * The request's field for a native path. `/http` (placeholders that name nothing, wherever they are)
 * goes to the field holding the first of them: the url, else the custom headers.
 */
export function fieldOf(path: string | undefined, message: string, url: string | undefined): string {
  if (path === undefined || path === '/' || path === '') return 'body';
  if (path === '/http') {
    const first = /\{\{\s*([^}\s]+)\s*\}\}/.exec(message)?.[1];
    return first !== undefined && url?.includes(first) ? 'url' : 'custom_headers';
  }
  for (const [pattern, field] of FIELDS) {
    const match = pattern.exec(path);
    if (match) return field(match);
  }
  return path.slice(1).replaceAll('/', '.');
}

interface Issue {
  path: string;
  message: string;
}

/** A native validation error in the request's terms (invalid()); any other error is returned as is. */
export function inRequestTerms(error: unknown, url?: string): unknown {
  if (!isAppError(error) || error.code !== 'VALIDATION_FAILED' || fieldErrorsOf(error)) return error;
  const listed = error.details?.issues;
  const issues: Issue[] = Array.isArray(listed)
    ? (listed as Issue[])
    : [{ path: error.path ?? '/', message: error.message }];
  const errors: FieldErrors = {};
  for (const issue of issues) (errors[fieldOf(issue.path, issue.message, url)] ??= []).push(issue.message);
  return invalid(errors);
}
