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

/** The same answer for "does not exist" and "belongs to another organization" (SECURITY.md D01). */
export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);

export const validationError = (path: string, message: string): AppError =>
  new AppError('VALIDATION_FAILED', message, { path });
