/**
 * Talkover's error body, `{success: false, message}` (and `errors` on a 422): a native problem reshaped
 * with Talkover's sentences: 401 "Unauthenticated.", 403 the route's own sentence, 422 "The given data
 * was invalid." with every field's messages, 500 "Internal server error.".
 */
import type { FastifyRequest } from 'fastify';
import type { ErrorAnswer, Failure } from '../dialect.ts';
import { INVALID_MESSAGE, fieldErrorsOf, inRequestTerms } from './issues.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A Talkover route's 403 sentence, for a key that lacks a scope it needs. */
    talkoverForbidden?: string;
  }
}

export function talkoverErrorAnswer({ problem, status, error, request }: Failure): ErrorAnswer {
  const fields = fieldErrorsOf(inRequestTerms(error));
  if (fields) return answer(422, INVALID_MESSAGE, fields);
  return answer(status, messageFor(request, status, problem.message));
}

function messageFor(request: FastifyRequest, status: number, message: string): string {
  if (status === 401) return 'Unauthenticated.';
  if (status === 403) return request.routeOptions.config?.talkoverForbidden ?? message;
  if (status === 500) return 'Internal server error.';
  return message;
}

function answer(status: number, message: string, errors?: Record<string, string[]>): ErrorAnswer {
  return { status, body: { success: false, message, ...(errors ? { errors } : {}) } };
}
