/**
 * What every vendor dialect (opencx/, langdock/, talkover/) is, for each resource it maps (actions, and
 * OpenCX's workflows): a codec between the vendor's wire and the use cases, and the vendor's error body.
 * A dialect's route decodes the request, calls app/ and encodes the answer. Errors are judged as on a
 * native route (toProblem) and only reshaped here, so a dialect never reveals more or less than the
 * native API does.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { STATUS_BY_CODE } from '../../core/errors.ts';
import { toProblem, type ErrorHandlingOptions, type Problem } from '../plugins/errors.ts';

export interface Dialect<Request, Input, Result, Answer> {
  /** The vendor's request (its body, with what the route read first) as what the use case takes. */
  decode(request: Request): Input;
  /** What the use case answered, as the vendor's answer body. */
  encode(result: Result): Answer;
  /** The vendor's answer to a request that failed. */
  errorAnswer(failure: Failure): ErrorAnswer;
}

/** A failed request, as a native route would answer it. */
export interface Failure {
  problem: Problem;
  /** The native status of the problem's code. */
  status: number;
  /** What was thrown; undefined when no route matched. */
  error: unknown;
  request: FastifyRequest;
}

export interface ErrorAnswer {
  status: number;
  body: unknown;
}

/**
 * Answers the errors of a dialect's plugin, and requests no route of it matched, in the dialect's shape;
 * the handlers are set on the plugin, so native routes keep their own.
 */
export function installDialectErrors(
  app: FastifyInstance,
  dialect: Pick<Dialect<never, unknown, never, unknown>, 'errorAnswer'>,
  options: ErrorHandlingOptions,
): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, options);
    const answer = dialect.errorAnswer({ problem, status: STATUS_BY_CODE[problem.code], error, request });
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(problem.retryAfterSeconds));
    return reply.code(answer.status).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const problem: Problem = {
      code: 'NOT_FOUND',
      message: `There is no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    };
    const answer = dialect.errorAnswer({ problem, status: 404, error: undefined, request });
    return reply.code(answer.status).send(answer.body);
  });
}
