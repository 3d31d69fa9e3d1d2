/**
 * Langdock's error body, `{ message, error, statusCode, request_id }`: a native problem reshaped, with a
 * native validation issue's path put in Langdock's terms.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorAnswer, Failure } from '../dialect.ts';
import { requestPath } from './fields.ts';

interface Issue {
  path: string;
  message: string;
}

export function langdockErrorAnswer({ problem, status, request }: Failure): ErrorAnswer {
  const issues = problem.details?.issues as Issue[] | undefined;
  const message =
    problem.code === 'VALIDATION_FAILED' && Array.isArray(issues) && issues.length > 0
      ? inRequestTerms(issues)
      : problem.message;
  return {
    status,
    body: { message, error: STATUS_CODES[status] ?? 'Error', statusCode: status, request_id: request.id },
  };
}

/** Issues already in request terms (from the field mapping) keep their paths; native ones are mapped. */
function inRequestTerms(issues: readonly Issue[]): string {
  const parts = issues.map(
    (issue) => `${issue.path.startsWith('/') ? requestPath(issue.path) : issue.path}: ${issue.message}`,
  );
  return parts.length === 1 ? (parts[0] ?? '') : `${parts.length} problems: ${parts.join('; ')}`;
}
