/**
 * One error shape for every native route: `{ error: { code, message, path?, details?, request_id } }`.
 * Client mistakes get a 4xx that says what to change; anything unexpected is logged in full and answered
 * with a 500 that reveals nothing but the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, STATUS_BY_CODE } from '../../core/errors.ts';

export interface Problem {
  code: ErrorCode;
  message: string;
  path?: string | undefined;
  details?: Record<string, unknown> | undefined;
  retryAfterSeconds?: number | undefined;
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
};

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'SERVICE_UNAVAILABLE',
};

const FRIENDLY_MESSAGES: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'The request body is larger than this server accepts',
  UNSUPPORTED_MEDIA_TYPE: 'Send the body as JSON with Content-Type: application/json',
  INVALID_JSON: 'The request body is empty or not valid JSON',
};

export interface ErrorHandlingOptions {
  /** Recognises errors that mean the database is unreachable or locked: those answer 503, not 500. */
  isUnavailable: (error: unknown) => boolean;
}

export function installErrorHandling(app: FastifyInstance, options: ErrorHandlingOptions): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    const problem = toProblem(error, options);
    const status = STATUS_BY_CODE[problem.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) => {
    sendProblem(request, reply, {
      code: 'NOT_FOUND',
      message: `There is no route ${request.method} ${request.url.split('?')[0]}; see /docs for the API`,
    });
  });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.retryAfterSeconds));
  return reply.code(STATUS_BY_CODE[problem.code]).send({
    error: {
      code: problem.code,
      message: problem.message,
      ...(problem.path === undefined ? {} : { path: problem.path }),
      ...(problem.details === undefined ? {} : { details: problem.details }),
      request_id: request.id,
    },
  });
}

export function toProblem(error: unknown, options: ErrorHandlingOptions): Problem {
  if (error instanceof AppError) {
    return {
      code: error.code,
      message: error.message,
      path: error.path,
      details: error.details,
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) return describeValidation(fastifyError as FastifyError);
  if (options.isUnavailable(error)) {
    return {
      code: 'SERVICE_UNAVAILABLE',
      message: 'The database is unavailable; retry shortly',
      retryAfterSeconds: 5,
    };
  }
  const mapped =
    (fastifyError.code && FASTIFY_CODES[fastifyError.code]) ||
    (fastifyError.statusCode && fastifyError.statusCode < 500
      ? CODE_BY_STATUS[fastifyError.statusCode]
      : undefined);
  if (mapped) return { code: mapped, message: FRIENDLY_MESSAGES[mapped] ?? fastifyError.message ?? mapped };
  return { code: 'INTERNAL', message: 'Internal error; quote the request id when reporting it' };
}

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns Ajv's first error into a sentence an API user (or an agent) can act on, with the field's path. */
function describeValidation(error: FastifyError): Problem {
  const first = (error.validation as unknown as AjvError[])[0];
  const location = error.validationContext ?? 'body';
  if (!first) return { code: 'VALIDATION_FAILED', message: error.message };
  let path = first.instancePath;
  let message: string;
  switch (first.keyword) {
    case 'required':
      path += `/${String(first.params.missingProperty)}`;
      message = 'is required';
      break;
    case 'additionalProperties':
      path += `/${String(first.params.additionalProperty)}`;
      message = 'is not a known field; remove it or check its spelling';
      break;
    case 'enum':
      message = `must be one of: ${(first.params.allowedValues as unknown[]).map(String).join(', ')}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify(first.params.allowedValue)}`;
      break;
    default:
      message = first.message ?? 'is invalid';
  }
  const field =
    path === ''
      ? location
      : `${location === 'body' ? '' : `${location} `}${path.slice(1).replaceAll('/', '.')}`;
  return {
    code: 'VALIDATION_FAILED',
    message: `${field} ${message}`,
    path: path === '' ? '/' : path,
    details: { location },
  };
}
