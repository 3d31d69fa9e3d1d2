/**
 * OpenCX's error body, ErrorDto `{statusCode, message, error}`, for the routes of this dialect only: the
 * handlers are set inside its plugin, so native routes keep their own shape. Errors are judged as
 * natively (toProblem) and reshaped: a native issue's path is put in the request's terms, and an
 * operation_id clash reads as one.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_BY_CODE } from '../../../core/errors.ts';
import { toProblem, type ErrorHandlingOptions } from '../../plugins/errors.ts';

interface Issue {
  path: string;
  message: string;
}

export function installOpenCxErrors(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, options);
    const status = aboutThePayload(problem) ? 422 : STATUS_BY_CODE[problem.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(problem.retryAfterSeconds));
    return sendOpenCxError(reply, status, messageOf(problem));
  });
  app.setNotFoundHandler((request, reply) =>
    sendOpenCxError(
      reply,
      404,
      `There is no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    ),
  );
}

export function sendOpenCxError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' });
}

function messageOf(problem: ReturnType<typeof toProblem>): string {
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
function aboutThePayload(problem: ReturnType<typeof toProblem>): boolean {
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
