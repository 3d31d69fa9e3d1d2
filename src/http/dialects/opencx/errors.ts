/**
 * OpenCX's error body, ErrorDto `{statusCode, message, error}`: a native problem reshaped, with a native
 * issue's path put in the request's terms, and an operation_id clash read as one.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorAnswer, Failure } from '../dialect.ts';
import type { Problem } from '../../plugins/errors.ts';

interface Issue {
  path: string;
  message: string;
}

export function opencxErrorAnswer({ problem, status }: Failure): ErrorAnswer {
  return opencxError(aboutThePayload(problem) ? 422 : status, messageOf(problem));
}

export function opencxError(status: number, message: string): ErrorAnswer {
  return { status, body: { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' } };
}

function messageOf(problem: Problem): string {
  if (problem.code === 'CONFLICT' && problem.path === '/tool_name')
    return 'Another action of this organization already has this operation_id; choose another one';
  const issues = problem.details?.issues as Issue[] | undefined;
  if (problem.code !== 'VALIDATION_FAILED' || !Array.isArray(issues) || issues.length === 0)
    return problem.message;
  const parts = issues.map((issue) => `${requestField(issue.path)}: ${issue.message}`);
  return parts.length === 1 ? (parts[0] ?? '') : `${parts.length} problems: ${parts.join('; ')}`;
}

/**
 * 422 for a well-formed request whose payload cannot become a runnable request: what the http kind's
 * save-time checks refuse (an unknown placeholder, a URL the egress guard refuses).
 */
function aboutThePayload(problem: Problem): boolean {
  const issues = problem.details?.issues as Issue[] | undefined;
  return (
    problem.code === 'VALIDATION_FAILED' &&
    Array.isArray(issues) &&
    issues.length > 0 &&
    issues.every((issue) => issue.path.startsWith('/http') || issue.path.startsWith('/variables'))
  );
}

/** A native path in the request's terms: the request template and inputs come from the payload. */
function requestField(path: string): string {
  if (path === '/tool_name') return 'operation_id';
  if (path === '/channels') return 'enabled_on_channel.channels';
  if (path.startsWith('/http/url')) return 'api_endpoint';
  if (path.startsWith('/http') || path.startsWith('/variables')) return 'payload';
  return path.replace(/^\//, '').replaceAll('/', '.') || 'body';
}
