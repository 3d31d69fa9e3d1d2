/**
 * Rendering knows where a value goes (DESIGN.md, "One template language"): percent-encoded as one path
 * segment or one query value, refused in a header if it holds CR, LF or NUL, and typed in a JSON body
 * rendered on the parsed tree, so no value can change the request's structure (SECURITY.md G-04).
 */
import { BoundedCache } from '../bounded-cache.ts';
import { TemplateError } from './errors.ts';
import { parseTemplate, soleReference } from './parse.ts';
import { type Serialization, serializeHeader, serializePath, serializeQuery, toText } from './serialize.ts';

export { toText };

/**
 * What a reference stands for in this run. `found: false`: it names nothing (an error wherever it is).
 * `value: undefined`: it names something that has no value now (an optional input not given); a
 * position that can simply be left out (a query parameter, a header, a body field) is then omitted.
 */
export type Lookup = (ref: string) => { found: true; value: unknown } | { found: false };

const OMIT = Symbol('omit');

function resolve(ref: string, lookup: Lookup, location: string): unknown {
  const result = lookup(ref);
  if (!result.found) {
    throw new TemplateError(
      'UNKNOWN_REFERENCE',
      `{{${ref}}} in ${location} names nothing this action defines`,
      [ref],
      location,
    );
  }
  return result.value;
}

function missing(ref: string, location: string): TemplateError {
  return new TemplateError(
    'MISSING_VALUE',
    `{{${ref}}} in ${location} has no value in this run`,
    [ref],
    location,
  );
}

const same = (text: string): string => text;

/**
 * A string with every placeholder replaced by `encode(value)` (its text, by default); an absent value is
 * an error. `literal` transforms the template's own text (used to decode a query string as written).
 */
export function renderString(
  template: string,
  lookup: Lookup,
  location: string,
  encode: (value: unknown, ref: string) => string = toText,
  literal: (text: string) => string = same,
): string {
  let out = '';
  for (const segment of parseTemplate(template)) {
    if (segment.kind === 'text') {
      out += literal(segment.text);
      continue;
    }
    const value = resolve(segment.ref, lookup, location);
    if (value === undefined) throw missing(segment.ref, location);
    out += encode(value, segment.ref);
  }
  return out;
}

/** Like renderString, but a template that is one placeholder with no value yields OMIT. */
function renderOmittable(
  template: string,
  lookup: Lookup,
  location: string,
  literal: (text: string) => string = same,
): string | typeof OMIT {
  const sole = soleReference(template);
  if (sole !== undefined && resolve(sole, lookup, location) === undefined) return OMIT;
  return renderString(template, lookup, location, toText, literal);
}

const UNSAFE_HEADER_CHARS = /[\r\n\0]/;

/**
 * Header values: names are literal; a rendered value with CR, LF or NUL is refused (B03). A header
 * with a serialisation takes its placeholder's whole value (a list or object) in the simple style.
 */
export function renderHeaders(
  headers: Readonly<Record<string, string>>,
  lookup: Lookup,
  serialization: Readonly<Record<string, Serialization>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(headers)) {
    const location = `headers.${name}`;
    const style = Object.hasOwn(serialization, name) ? serialization[name] : undefined;
    const value = style
      ? renderStyled(template, lookup, location, (v) => serializeHeader(v, style, location))
      : renderOmittable(template, lookup, location);
    if (value === OMIT) continue;
    if (UNSAFE_HEADER_CHARS.test(value)) {
      throw new TemplateError(
        'UNSAFE_HEADER',
        `The value for header ${name} contains a line break or NUL`,
        [],
        location,
      );
    }
    out[name] = value;
  }
  return out;
}

/**
 * A JSON body rendered on its parsed tree: a string that is exactly one placeholder becomes the value
 * itself, typed (`"{{count}}"` → 42); placeholders inside longer strings are string content. Keys are
 * never templates. An object field whose sole placeholder has no value is left out.
 */
export function renderJson(tree: unknown, lookup: Lookup, location = 'body'): unknown {
  const rendered = renderNode(tree, lookup, location);
  return rendered === OMIT ? null : rendered;
}

function renderNode(node: unknown, lookup: Lookup, location: string): unknown {
  if (typeof node === 'string') {
    const sole = soleReference(node);
    if (sole === undefined) return renderString(node, lookup, location);
    const value = resolve(sole, lookup, location);
    return value === undefined ? OMIT : structuredClone(value);
  }
  if (Array.isArray(node)) {
    return node.map((item, i) => {
      const value = renderNode(item, lookup, `${location}/${i}`);
      if (value === OMIT) throw missing(soleReference(item as string) ?? '', `${location}/${i}`);
      return value;
    });
  }
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const value = renderNode(child, lookup, `${location}/${key}`);
      if (value !== OMIT) out[key] = value;
    }
    return out;
  }
  return node;
}

/**
 * application/x-www-form-urlencoded: literal keys, rendered values, URLSearchParams encoding; a field
 * with a serialisation sends its whole value as a query parameter of that style would. `reservedKeys`
 * (a field auth adds) may not be brought by a value.
 */
export function renderForm(
  fields: Readonly<Record<string, string>>,
  lookup: Lookup,
  serialization: Readonly<Record<string, Serialization>> = {},
  reservedKeys: readonly string[] = [],
): string {
  const encoded: string[] = [];
  const keys = [...Object.keys(fields), ...reservedKeys];
  for (const [key, template] of Object.entries(fields)) {
    const location = `body.${key}`;
    const style = Object.hasOwn(serialization, key) ? serialization[key] : undefined;
    if (style === undefined) {
      const value = renderOmittable(template, lookup, location);
      if (value !== OMIT) encoded.push(new URLSearchParams([[key, value]]).toString());
      continue;
    }
    const others = new Set(keys.filter((k) => k !== key));
    const rendered = renderStyled(template, lookup, location, (v) =>
      serializeQuery(key, v, style, location, others),
    );
    if (rendered !== OMIT) encoded.push(...rendered);
  }
  return encoded.join('&');
}

export interface UrlTemplate {
  /** `https://host[:port]/path/{{segment}}?key={{value}}`: placeholders only in path segments and query values. */
  url: string;
  /** Extra query parameters: literal names, templated values. */
  query?: Readonly<Record<string, string>>;
  /** How `query` parameters (by key) and path placeholders (by reference) serialise a whole value. */
  serialization?: {
    query?: Readonly<Record<string, Serialization>> | undefined;
    path?: Readonly<Record<string, Serialization>> | undefined;
  };
  /** Query keys added after rendering (an API key): a value may not bring one of them. */
  reservedQueryKeys?: readonly string[];
}

/**
 * A template that is one placeholder, its whole value serialised; OMIT when it has no value. Any other
 * template (text around the placeholder) is rendered as text and serialised as one value.
 */
function renderStyled<T>(
  template: string,
  lookup: Lookup,
  location: string,
  serialize: (value: unknown) => T,
): T | typeof OMIT {
  const sole = soleReference(template);
  if (sole === undefined) return serialize(renderString(template, lookup, location));
  const value = resolve(sole, lookup, location);
  return value === undefined ? OMIT : serialize(value);
}

interface SplitUrl {
  origin: string;
  pathSegments: string[];
  queryPairs: [string, string][];
}

const splits = new BoundedCache<string, SplitUrl>(2_000);

/** Splits a URL template without parsing placeholders as URL syntax (cached: templates are few). */
export const splitUrlTemplate = (template: string): SplitUrl => splits.get(template, splitUncached);

function splitUncached(template: string): SplitUrl {
  const match = /^(https?:\/\/[^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(template);
  if (!match) {
    throw new TemplateError(
      'NOT_TEMPLATABLE',
      'The URL must start with http:// or https:// and a host',
      [],
      'url',
    );
  }
  const origin = match[1] ?? '';
  if (parseTemplate(origin).some((s) => s.kind === 'ref')) {
    throw new TemplateError(
      'NOT_TEMPLATABLE',
      "The URL's scheme and host cannot contain placeholders",
      [],
      'url',
    );
  }
  const path = match[2] ?? '';
  const query = (match[3] ?? '').slice(1);
  return {
    origin,
    pathSegments: path === '' ? [] : path.slice(1).split('/'),
    queryPairs:
      query === ''
        ? []
        : query.split('&').map((pair) => {
            const at = pair.indexOf('=');
            return at === -1 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
          }),
  };
}

const STRUCTURAL_SEGMENTS = new Set(['', '.', '..']);

/**
 * The request URL: each path segment percent-encoded on its own and refused if a value would make it
 * empty, `.` or `..` (B01); each query value encoded with URLSearchParams semantics (B06). A query
 * parameter whose sole placeholder has no value is left out.
 */
export function renderUrl(
  { url, query = {}, serialization = {}, reservedQueryKeys = [] }: UrlTemplate,
  lookup: Lookup,
): string {
  const { origin, pathSegments, queryPairs } = splitUrlTemplate(url);
  const pathStyles = serialization.path ?? {};
  const queryStyles = serialization.query ?? {};
  const path = pathSegments.map((template, i) => {
    if (!template.includes('{{')) return template;
    const location = `url path segment ${i + 1}`;
    const encode = (value: unknown, ref: string) => {
      const style = Object.hasOwn(pathStyles, ref) ? pathStyles[ref] : undefined;
      return style ? serializePath(ref, value, style, location) : encodeURIComponent(toText(value));
    };
    const rendered = renderString(template, lookup, location, encode);
    if (STRUCTURAL_SEGMENTS.has(rendered)) {
      throw new TemplateError(
        'UNSAFE_PATH',
        `A value would turn URL path segment ${i + 1} into "${rendered}"`,
        [],
        location,
      );
    }
    return rendered;
  });
  // unstyled pairs keep URLSearchParams encoding; styled ones write their delimiters themselves
  const encoded: string[] = [];
  const plain = (key: string, value: string) => encoded.push(new URLSearchParams([[key, value]]).toString());
  const literalKeys = queryPairs.map(([rawKey]) => decodeQueryComponent(rawKey));
  const taken = new Set([...literalKeys, ...Object.keys(query), ...reservedQueryKeys]);
  for (const [rawKey, template] of queryPairs) {
    const key = decodeQueryComponent(rawKey);
    const value = renderOmittable(template, lookup, `query.${key}`, decodeQueryComponent);
    if (value !== OMIT) plain(key, value);
  }
  for (const [key, template] of Object.entries(query)) {
    const location = `query.${key}`;
    const style = Object.hasOwn(queryStyles, key) ? queryStyles[key] : undefined;
    if (style === undefined) {
      const value = renderOmittable(template, lookup, location);
      if (value !== OMIT) plain(key, value);
      continue;
    }
    const others = new Set(taken);
    others.delete(key);
    const rendered = renderStyled(template, lookup, location, (v) =>
      serializeQuery(key, v, style, location, others),
    );
    if (rendered !== OMIT) encoded.push(...rendered);
  }
  const search = encoded.join('&');
  return `${origin}${path.length > 0 ? `/${path.join('/')}` : ''}${search ? `?${search}` : ''}`;
}

/** Literal parts of a query string as written in the template (`a%20b` or `a+b`), decoded once. */
function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
