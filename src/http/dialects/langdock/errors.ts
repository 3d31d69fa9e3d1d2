/**
 * Langdock's error body, `{ message, error, statusCode, request_id }`, for the routes of this dialect
 * only: the handlers are set inside its plugin, so native routes keep their own shape. Errors are judged
 * as natively (toProblem), then reshaped; a native validation issue's path is put in Langdock's terms.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_BY_CODE } from '../../../core/errors.ts';
import { toProblem, type ErrorHandlingOptions } from '../../plugins/errors.ts';
import { requestPath } from './fields.ts';

interface Issue {
  path: string;
  message: string;
}

export function installLangdockErrors(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, options);
    const status = STATUS_BY_CODE[problem.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(problem.retryAfterSeconds));
    const issues = problem.details?.issues as Issue[] | undefined;
    const message =
      problem.code === 'VALIDATION_FAILED' && Array.isArray(issues) && issues.length > 0
        ? inRequestTerms(issues)
        : problem.message;
    return sendLangdockError(request, reply, status, message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendLangdockError(
      request,
      reply,
      404,
      `There is no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    ),
  );
}

export function sendLangdockError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  message: string,
): FastifyReply {
  return reply
    .code(status)
    .send({ message, error: STATUS_CODES[status] ?? 'Error', statusCode: status, request_id: request.id });
}

/** Issues already in request terms (from the field mapping) keep their paths; native ones are mapped. */
function inRequestTerms(issues: readonly Issue[]): string {
  const parts = issues.map(
    (issue) => `${issue.path.startsWith('/') ? requestPath(issue.path) : issue.path}: ${issue.message}`,
  );
  return parts.length === 1 ? (parts[0] ?? '') : `${parts.length} problems: ${parts.join('; ')}`;
}
