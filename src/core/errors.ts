import type { ErrorCategory } from './actions/outcomes.ts';

/**
 * The one error type of the project. Every code has exactly one HTTP status in STATUS_BY_CODE, a Record,
 * so adding a code forces choosing its status. Vendor dialects map these to their own shapes.
 */
export const STATUS_BY_CODE = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  DEPTH_EXCEEDED: 400,
  UNAUTHENTICATED: 401,
  INSUFFICIENT_SCOPE: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  IDEMPOTENCY_MISMATCH: 422,
  /** A stored secret that does not decrypt (altered, or restored from another database). */
  SECRET_UNAVAILABLE: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS_BY_CODE;

/**
 * What an execution or a workflow step that ends in an AppError reports as its category: the one table
 * the engine reads (never the HTTP status, never the code's spelling), total so a new code needs a row.
 */
export const CATEGORY_BY_CODE: Readonly<Record<ErrorCode, ErrorCategory>> = {
  VALIDATION_FAILED: 'invalid_input',
  INVALID_JSON: 'invalid_input',
  DEPTH_EXCEEDED: 'invalid_input',
  UNAUTHENTICATED: 'unauthorized',
  INSUFFICIENT_SCOPE: 'forbidden',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'invalid_input',
  // an inactive action, a decision already taken: the call is refused as it stands
  CONFLICT: 'blocked',
  GONE: 'not_found',
  PAYLOAD_TOO_LARGE: 'invalid_input',
  UNSUPPORTED_MEDIA_TYPE: 'invalid_input',
  UNPROCESSABLE: 'invalid_input',
  IDEMPOTENCY_MISMATCH: 'invalid_input',
  SECRET_UNAVAILABLE: 'secret_unavailable',
  RATE_LIMITED: 'rate_limited',
  HEADERS_TOO_LARGE: 'invalid_input',
  INTERNAL: 'upstream_error',
  SERVICE_UNAVAILABLE: 'upstream_error',
};

export interface AppErrorOptions {
  /** JSON Pointer-ish path of the offending field, e.g. `/variables/0/type`. */
  path?: string;
  /** Extra machine-readable facts (never secrets). */
  details?: Record<string, unknown>;
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.path = options.path;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** The server could not do its part (not the caller's doing): work that meets it is tried again later. */
export const isServerFault = (error: AppError): boolean => error.status >= 500;

/** The same answer for "does not exist" and "belongs to another organization" (docs/security.md D01). */
export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);

export const validationError = (path: string, message: string): AppError =>
  new AppError('VALIDATION_FAILED', message, { path });
