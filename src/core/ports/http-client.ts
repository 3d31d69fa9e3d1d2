/**
 * The one way out: every outbound request of the project (http actions, OAuth2 token fetches, code
 * actions' fetch, OpenAPI import from a URL, workflow http steps) goes through an HttpClient, whose
 * adapter (src/adapters/http-client) applies the SSRF guard, the deadlines and the size caps of
 * docs/security.md A and "Limits". Nothing else in src/ may open a connection; the lint enforces it.
 */

export interface EgressRequest {
  method: string;
  /** Absolute http(s) URL. */
  url: string;
  /** Header names as given; values must not contain CR, LF or NUL. */
  headers?: Readonly<Record<string, string>>;
  body?: string | Uint8Array;
  /** Deadline for the whole exchange: every redirect hop and the whole body. Clamped to the operator's cap. */
  timeoutMs?: number;
  /** Largest response body accepted, counted after decompression. Clamped to the operator's cap. */
  maxResponseBytes?: number;
  /** Redirects followed by hand, each hop re-checked; at most 5 (the operator's cap). 0 returns the 3xx. */
  maxRedirects?: number;
  signal?: AbortSignal;
  /**
   * Called before following a redirect to another origin (scheme, host or port differs). Throwing an
   * EgressError refuses the hop: this is how secrets stay on the hosts they are bound to.
   */
  beforeRedirect?: (hop: RedirectHop) => void;
}

export interface RedirectHop {
  from: URL;
  to: URL;
  status: number;
  /** The method and whether a body is kept, after the 301/302/303 rewrite rules. */
  method: string;
  keepsBody: boolean;
}

export interface EgressResponse {
  status: number;
  /** Lowercased names. Repeated headers are joined with ", "; set-cookie is dropped. */
  headers: Record<string, string>;
  /** The body as the action receives it: decompressed, at most maxResponseBytes. */
  body: Uint8Array;
  /** The URL that answered, after redirects. */
  url: string;
  redirects: number;
}

export const EGRESS_ERROR_CODES = [
  /** The SSRF guard refused the destination: scheme, port, address, or a name that resolves inward. */
  'EGRESS_DENIED',
  'INVALID_URL',
  'TOO_MANY_REDIRECTS',
  'CONNECT_TIMEOUT',
  /** The total deadline passed (headers or body too slow). */
  'UPSTREAM_TIMEOUT',
  'RESPONSE_TOO_LARGE',
  'REQUEST_TOO_LARGE',
  /** DNS failure, connection refused or reset, TLS failure, malformed response. */
  'CONNECTION_FAILED',
  /** The caller's signal aborted the request. */
  'ABORTED',
] as const;

export type EgressErrorCode = (typeof EGRESS_ERROR_CODES)[number];

/**
 * A typed egress failure. Messages name the host and the reason but never a header value, a body or a
 * query string, so they are safe to record and to show (they still pass through redaction).
 */
export class EgressError extends Error {
  readonly code: EgressErrorCode;
  constructor(code: EgressErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EgressError';
    this.code = code;
  }
}

export interface HttpClient {
  request(request: EgressRequest): Promise<EgressResponse>;
  /**
   * Checks what can be known without DNS: the URL parses, the scheme is http or https, there is no
   * userinfo, the port is allowed, and a literal address or a known metadata name is not denied.
   * Used when an action is saved; request() checks again, and checks every resolved address.
   */
  checkUrl(url: string): void;
  close(): Promise<void>;
}
