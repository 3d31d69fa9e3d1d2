/**
 * Talkover's error body, `{success: false, message}` (and `errors` on a 422), for the routes of this
 * dialect only: the handlers are set inside its plugin, so native routes keep their own shape. Errors
 * are judged as natively (toProblem), then reshaped with the seed's sentences: 401 "Unauthenticated.",
 * 403 the route's own sentence, 422 "The given data was invalid." with every field's messages, 500
 * "Internal server error.".
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_BY_CODE } from '../../../core/errors.ts';
import { toProblem, type ErrorHandlingOptions } from '../../plugins/errors.ts';
import { INVALID_MESSAGE, fieldErrorsOf, inRequestTerms } from './issues.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A Talkover route's 403 sentence, for a key that lacks a scope it needs. */
    talkoverForbidden?: string;
  }
}

export function installTalkoverErrors(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error, request, reply) => {
    const fields = fieldErrorsOf(inRequestTerms(error));
    if (fields) return send(reply, 422, INVALID_MESSAGE, fields);
    const problem = toProblem(error, options);
    const status = STATUS_BY_CODE[problem.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(problem.retryAfterSeconds));
    return send(reply, status, messageFor(request, status, problem.message));
  });
  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      404,
      `There is no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    ),
  );
}

function messageFor(request: FastifyRequest, status: number, message: string): string {
  if (status === 401) return 'Unauthenticated.';
  if (status === 403) return request.routeOptions.config?.talkoverForbidden ?? message;
  if (status === 500) return 'Internal server error.';
  return message;
}

function send(reply: FastifyReply, status: number, message: string, errors?: Record<string, string[]>) {
  return reply.code(status).send({ success: false, message, ...(errors ? { errors } : {}) });
}
