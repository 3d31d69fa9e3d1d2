/**
 * Templates compiled once into renderers: parsing, literal text, keys, locations, styles and which keys
 * a value may not bring are all settled here, so a render only looks values up and encodes them. The
 * render* functions of render.ts are these renderers applied once; an action kind keeps them per action
 * version. Rendering knows where a value goes: percent-encoded as one path segment or one query value,
 * refused in a header if it holds CR, LF or NUL, and typed in a JSON body rendered on the parsed tree, so
 * no value can change the request's structure (docs/security.md G-04).
 */
import { TemplateError } from './errors.ts';
import { parseTemplate, soleReference } from './parse.ts';
import { type Serialization, serializeHeader, serializePath, serializeQuery, toText } from './serialize.ts';

/**
 * What a reference stands for in this run. `found: false`: it names nothing (an error wherever it is).
 * `value: undefined`: it names something that has no value now (an optional input not given); a
 * position that can simply be left out (a query parameter, a header, a body field) is then omitted.
 */
export type Lookup = (ref: string) => { found: true; value: unknown } | { found: false };

/** A compiled template: give it this run's values, get the rendered text (or tree). */
export type Renderer<T> = (lookup: Lookup) => T;

/** A position left out: a sole placeholder with no value. */
export const OMIT: unique symbol = Symbol('omit');
export type Omitted = typeof OMIT;

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

export function missing(ref: string, location: string): TemplateError {
  return new TemplateError(
    'MISSING_VALUE',
    `{{${ref}}} in ${location} has no value in this run`,
    [ref],
    location,
  );
}

const same = (text: string): string => text;

/** Literal text, or the reference whose encoded value goes in its place. */
type Part = string | { ref: string };

/**
 * A string with every placeholder replaced by `encode(value)` (its text, by default); an absent value is
 * an error. `literal` transforms the template's own text (used to decode a query string as written).
 */
export function compileString(
  template: string,
  location: string,
  encode: (value: unknown, ref: string) => string = toText,
  literal: (text: string) => string = same,
): Renderer<string> {
  const parts: Part[] = parseTemplate(template).map((segment) =>
    segment.kind === 'text' ? literal(segment.text) : { ref: segment.ref },
  );
  if (parts.every((part) => typeof part === 'string')) {
    const text = parts.join('');
    return () => text;
  }
  return (lookup) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = resolve(part.ref, lookup, location);
      if (value === undefined) throw missing(part.ref, location);
      out += encode(value, part.ref);
    }
    return out;
  };
}

/** Like compileString, but a template that is one placeholder with no value renders OMIT. */
function compileOmittable(
  template: string,
  location: string,
  literal: (text: string) => string = same,
): Renderer<string | Omitted> {
  const sole = soleReference(template);
  if (sole === undefined) return compileString(template, location, toText, literal);
  return (lookup) => {
    const value = resolve(sole, lookup, location);
    return value === undefined ? OMIT : toText(value);
  };
}

/**
 * A template that is one placeholder, its whole value serialised; OMIT when it has no value. Any other
 * template (text around the placeholder) is rendered as text and serialised as one value.
 */
function compileStyled<T>(
  template: string,
  location: string,
  serialize: (value: unknown) => T,
): Renderer<T | Omitted> {
  const sole = soleReference(template);
  if (sole === undefined) {
    const text = compileString(template, location);
    return (lookup) => serialize(text(lookup));
  }
  return (lookup) => {
    const value = resolve(sole, lookup, location);
    return value === undefined ? OMIT : serialize(value);
  };
}

const UNSAFE_HEADER_CHARS = /[\r\n\0]/;

/**
 * Header values: names are literal; a rendered value with CR, LF or NUL is refused (no header injection). A header
 * with a serialisation takes its placeholder's whole value (a list or object) in the simple style.
 */
export function compileHeaders(
  headers: Readonly<Record<string, string>>,
  serialization: Readonly<Record<string, Serialization>> = {},
): Renderer<Record<string, string>> {
  const entries = Object.entries(headers).map(([name, template]) => {
    const location = `headers.${name}`;
    const style = Object.hasOwn(serialization, name) ? serialization[name] : undefined;
    const render = style
      ? compileStyled(template, location, (v) => serializeHeader(v, style, location))
      : compileOmittable(template, location);
    return { name, location, render };
  });
  return (lookup) => {
    const out: Record<string, string> = {};
    for (const { name, location, render } of entries) {
      const value = render(lookup);
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
  };
}

export interface JsonOptions {
  /**
   * Give each run its own copy of the values placeholders stand for (the default), so what is rendered
   * never shares objects with the inputs. A caller that only serialises the result may say false.
   */
  clone?: boolean;
}

/**
 * A JSON body rendered on its parsed tree: a string that is exactly one placeholder becomes the value
 * itself, typed (`"{{count}}"` → 42); placeholders inside longer strings are string content. Keys are
 * never templates. An object field whose sole placeholder has no value is left out; so is the whole
 * tree (null) when it is one such placeholder.
 */
export function compileJson(tree: unknown, location = 'body', options: JsonOptions = {}): Renderer<unknown> {
  const render = compileNode(tree, location, options.clone ?? true);
  return (lookup) => {
    const rendered = render(lookup);
    return rendered === OMIT ? null : rendered;
  };
}

const hasPlaceholder = (node: unknown): boolean => {
  if (typeof node === 'string') return parseTemplate(node).some((segment) => segment.kind === 'ref');
  if (Array.isArray(node)) return node.some(hasPlaceholder);
  if (node !== null && typeof node === 'object') return Object.values(node).some(hasPlaceholder);
  return false;
};

function compileNode(node: unknown, location: string, clone: boolean): Renderer<unknown> {
  // without copies, a subtree with no placeholder renders as itself: shared, since it is only serialised
  if (!clone && !hasPlaceholder(node)) return () => node;
  if (typeof node === 'string') {
    const sole = soleReference(node);
    if (sole === undefined) return compileString(node, location);
    return (lookup) => {
      const value = resolve(sole, lookup, location);
      if (value === undefined) return OMIT;
      return clone ? structuredClone(value) : value;
    };
  }
  if (Array.isArray(node)) {
    const items = node.map((item, i) => {
      const at = `${location}/${i}`;
      const sole = typeof item === 'string' ? (soleReference(item) ?? '') : '';
      return { at, sole, render: compileNode(item, at, clone) };
    });
    return (lookup) =>
      items.map(({ at, sole, render }) => {
        const value = render(lookup);
        if (value === OMIT) throw missing(sole, at);
        return value;
      });
  }
  if (node !== null && typeof node === 'object') {
    const fields = Object.entries(node).map(
      ([key, child]) => [key, compileNode(child, `${location}/${key}`, clone)] as const,
    );
    return (lookup) => {
      const out: Record<string, unknown> = {};
      for (const [key, render] of fields) {
        const value = render(lookup);
        if (value !== OMIT) out[key] = value;
      }
      return out;
    };
  }
  return () => node;
}

const FORM_EXTRA = /[!'()~]|%20/g;
const FORM_ESCAPES: Readonly<Record<string, string>> = {
  '!': '%21',
  "'": '%27',
  '(': '%28',
  ')': '%29',
  '~': '%7E',
  '%20': '+',
};

/**
 * application/x-www-form-urlencoded encoding of one name or value, exactly as URLSearchParams writes it
 * (lone surrogates become U+FFFD, a space becomes `+`, and only ASCII letters, digits and `*-._` stay).
 */
export function formEncode(text: string): string {
  return encodeURIComponent(text.isWellFormed() ? text : text.toWellFormed()).replace(
    FORM_EXTRA,
    (match) => FORM_ESCAPES[match] ?? match,
  );
}

/**
 * application/x-www-form-urlencoded: literal keys, rendered values, URLSearchParams encoding; a field
 * with a serialisation sends its whole value as a query parameter of that style would. `reservedKeys`
 * (a field auth adds) may not be brought by a value.
 */
export function compileForm(
  fields: Readonly<Record<string, string>>,
  serialization: Readonly<Record<string, Serialization>> = {},
  reservedKeys: readonly string[] = [],
): Renderer<string> {
  const keys = [...Object.keys(fields), ...reservedKeys];
  const renderers = Object.entries(fields).map(([key, template]): Renderer<readonly string[] | Omitted> => {
    const location = `body.${key}`;
    const style = Object.hasOwn(serialization, key) ? serialization[key] : undefined;
    if (style === undefined) {
      const value = compileOmittable(template, location);
      const name = formEncode(key);
      return (lookup) => {
        const rendered = value(lookup);
        return rendered === OMIT ? OMIT : [`${name}=${formEncode(rendered)}`];
      };
    }
    const others = new Set(keys.filter((k) => k !== key));
    return compileStyled(template, location, (v) => serializeQuery(key, v, style, location, others));
  });
  return (lookup) => {
    const encoded: string[] = [];
    for (const render of renderers) {
      const pairs = render(lookup);
      if (pairs !== OMIT) encoded.push(...pairs);
    }
    return encoded.join('&');
  };
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

interface SplitUrl {
  origin: string;
  pathSegments: string[];
  queryPairs: [string, string][];
}

/** Splits a URL template without parsing placeholders as URL syntax. */
export function splitUrl(template: string): SplitUrl {
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

/** Literal parts of a query string as written in the template (`a%20b` or `a+b`), decoded once. */
function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/**
 * The request URL: each path segment percent-encoded on its own and refused if a value would make it
 * empty, `.` or `..` (no path traversal); each query value encoded with URLSearchParams semantics (no
 * added parameters). A query parameter whose sole placeholder has no value is left out.
 */
export function compileUrl({
  url,
  query = {},
  serialization = {},
  reservedQueryKeys = [],
}: UrlTemplate): Renderer<string> {
  const { origin, pathSegments, queryPairs } = splitUrl(url);
  const pathStyles = serialization.path ?? {};
  const queryStyles = serialization.query ?? {};
  const path = pathSegments.map((template, i): string | Renderer<string> => {
    if (!template.includes('{{')) return template;
    const location = `url path segment ${i + 1}`;
    const encode = (value: unknown, ref: string) => {
      const style = Object.hasOwn(pathStyles, ref) ? pathStyles[ref] : undefined;
      return style ? serializePath(ref, value, style, location) : encodeURIComponent(toText(value));
    };
    const render = compileString(template, location, encode);
    return (lookup) => {
      const rendered = render(lookup);
      if (STRUCTURAL_SEGMENTS.has(rendered)) {
        throw new TemplateError(
          'UNSAFE_PATH',
          `A value would turn URL path segment ${i + 1} into "${rendered}"`,
          [],
          location,
        );
      }
      return rendered;
    };
  });
  // unstyled pairs keep URLSearchParams encoding; styled ones write their delimiters themselves
  const plain = (key: string, value: Renderer<string | Omitted>): Renderer<readonly string[] | Omitted> => {
    const name = formEncode(key);
    return (lookup) => {
      const rendered = value(lookup);
      return rendered === OMIT ? OMIT : [`${name}=${formEncode(rendered)}`];
    };
  };
  const literalKeys = queryPairs.map(([rawKey]) => decodeQueryComponent(rawKey));
  const taken = new Set([...literalKeys, ...Object.keys(query), ...reservedQueryKeys]);
  const pairs: Renderer<readonly string[] | Omitted>[] = queryPairs.map(([rawKey, template]) => {
    const key = decodeQueryComponent(rawKey);
    return plain(key, compileOmittable(template, `query.${key}`, decodeQueryComponent));
  });
  for (const [key, template] of Object.entries(query)) {
    const location = `query.${key}`;
    const style = Object.hasOwn(queryStyles, key) ? queryStyles[key] : undefined;
    if (style === undefined) {
      pairs.push(plain(key, compileOmittable(template, location)));
      continue;
    }
    const others = new Set(taken);
    others.delete(key);
    pairs.push(compileStyled(template, location, (v) => serializeQuery(key, v, style, location, others)));
  }
  return (lookup) => {
    let out = origin;
    for (const segment of path) out += `/${typeof segment === 'string' ? segment : segment(lookup)}`;
    const encoded: string[] = [];
    for (const render of pairs) {
      const rendered = render(lookup);
      if (rendered !== OMIT) encoded.push(...rendered);
    }
    const search = encoded.join('&');
    return search ? `${out}?${search}` : out;
  };
}
