export type TemplateErrorCode =
  /** A placeholder names nothing: not a variable, runtime variable, context key or secret. */
  | 'UNKNOWN_REFERENCE'
  /** It names something that has no value in this run. */
  | 'MISSING_VALUE'
  /** A value would add or remove a URL path segment. */
  | 'UNSAFE_PATH'
  /** A header value would contain CR, LF or NUL. */
  | 'UNSAFE_HEADER'
  /** A value its parameter's style cannot send (a nested list, a deepObject key with brackets). */
  | 'UNSERIALIZABLE'
  /** Placeholders where they may not be: the scheme or host of a URL, a secret in a URL path. */
  | 'NOT_TEMPLATABLE';

export class TemplateError extends Error {
  readonly code: TemplateErrorCode;
  /** The references involved. */
  readonly refs: readonly string[];
  /** Where in the request: `url`, `query.q`, `headers.X-Customer`, `body/order/id`. */
  readonly location: string;

  constructor(code: TemplateErrorCode, message: string, refs: readonly string[], location: string) {
    super(message);
    this.name = 'TemplateError';
    this.code = code;
    this.refs = refs;
    this.location = location;
  }
}
