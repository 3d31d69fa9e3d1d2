/** Request headers as sent (a flat name/value list, undici's cheapest form) and response headers as returned. */

/**
 * Managed by the client, never by the caller: framing and connection headers would let a template
 * smuggle requests, and a caller-chosen Host could reach another virtual host behind a vetted address.
 */
const MANAGED: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'content-length',
]);

const DEFAULT_ACCEPT_ENCODING = 'gzip, deflate, br';

/** [name, value, name, value, ...] with the defaults added. Values are validated by undici before sending. */
export function requestHeaders(
  given: Readonly<Record<string, string>> | undefined,
  userAgent: string,
): string[] {
  const list: string[] = [];
  let hasAcceptEncoding = false;
  let hasUserAgent = false;
  if (given !== undefined) {
    for (const name of Object.keys(given)) {
      const lower = name.toLowerCase();
      if (MANAGED.has(lower)) continue;
      if (lower === 'accept-encoding') hasAcceptEncoding = true;
      else if (lower === 'user-agent') hasUserAgent = true;
      list.push(name, String(given[name]));
    }
  }
  if (!hasAcceptEncoding) list.push('accept-encoding', DEFAULT_ACCEPT_ENCODING);
  if (!hasUserAgent) list.push('user-agent', userAgent);
  return list;
}

/** A copy of `list` without the headers whose lowercased names are in `names`. */
export function withoutHeaders(list: readonly string[], names: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i] as string;
    if (!names.has(name.toLowerCase())) kept.push(name, list[i + 1] as string);
  }
  return kept;
}

/**
 * Lowercased names (undici gives them so), repeated headers joined with ", ", set-cookie dropped (a
 * server's cookies are not the action's to keep), and, once the body is decoded, no encoding or length.
 */
export function responseHeaders(
  raw: Record<string, string | string[] | undefined>,
  decoded: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined || name === 'set-cookie') continue;
    if (decoded && (name === 'content-encoding' || name === 'content-length')) continue;
    headers[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return headers;
}
