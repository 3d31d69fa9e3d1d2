/**
 * Parameter serialisation by style and explode, as OpenAPI 3.x defines them (its "style examples" table,
 * after RFC 6570): a whole value (text, list or object) becomes the pairs of one query parameter, the
 * text of one path placeholder, or one header value. Every item and key a value brings is encoded on its
 * own and only the style's delimiters are written as they are, so no value can add a path segment, a
 * header, or a query key the action does not expect.
 */
import { TemplateError } from './errors.ts';

export const PARAMETER_STYLES = [
  'form',
  'spaceDelimited',
  'pipeDelimited',
  'deepObject',
  'simple',
  'label',
  'matrix',
] as const;
export type ParameterStyle = (typeof PARAMETER_STYLES)[number];
/** Where a value goes: `form` is a field of an application/x-www-form-urlencoded body. */
export type ParameterPlace = 'query' | 'path' | 'header' | 'form';

/** The styles OpenAPI defines for each place (cookies are never sent). */
export const STYLES_BY_PLACE: Readonly<Record<ParameterPlace, readonly ParameterStyle[]>> = {
  query: ['form', 'spaceDelimited', 'pipeDelimited', 'deepObject'],
  path: ['simple', 'label', 'matrix'],
  header: ['simple'],
  form: ['form', 'spaceDelimited', 'pipeDelimited', 'deepObject'],
};

export interface Serialization {
  style: ParameterStyle;
  /** Default: true for form (as OpenAPI says) and deepObject (defined only exploded), else false. */
  explode?: boolean;
  /** matrix only: the name written before "=" (default: the variable's name). */
  name?: string;
}

export const explodes = (s: Serialization): boolean =>
  s.explode ?? (s.style === 'form' || s.style === 'deepObject');

/** Why this serialisation cannot be used in this place, or undefined when it can. */
export function serializationProblem(place: ParameterPlace, s: Serialization): string | undefined {
  const allowed = STYLES_BY_PLACE[place];
  if (!allowed.includes(s.style))
    return `${s.style} is not a style for a ${place === 'form' ? 'form field' : `${place} parameter`}; use ${allowed.join(', ')}`;
  if ((s.style === 'spaceDelimited' || s.style === 'pipeDelimited') && explodes(s))
    return `${s.style} is defined only with explode false`;
  if (s.style === 'deepObject' && !explodes(s)) return 'deepObject is defined only with explode true';
  if (s.name !== undefined && s.style !== 'matrix') return 'name is used only by the matrix style';
  return undefined;
}

/** Text for a value placed inside a string. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === null) return 'null';
  return JSON.stringify(value) ?? '';
}

type Parts =
  | { kind: 'scalar'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'map'; entries: [string, string][] };

function unserializable(message: string, location: string): TemplateError {
  return new TemplateError('UNSERIALIZABLE', message, [], location);
}

/** A list or object holds text, numbers and booleans: OpenAPI leaves deeper nesting undefined. */
function partsOf(value: unknown, style: ParameterStyle, location: string): Parts {
  const item = (v: unknown): string => {
    if (v !== null && typeof v === 'object')
      throw unserializable(
        `The value for ${location} nests a list or object inside another, which the ${style} style cannot send`,
        location,
      );
    return toText(v);
  };
  if (Array.isArray(value)) return { kind: 'list', items: value.map(item) };
  if (value !== null && typeof value === 'object')
    return { kind: 'map', entries: Object.entries(value).map(([k, v]) => [k, item(v)]) };
  return { kind: 'scalar', text: toText(value) };
}

const isEmpty = (parts: Parts): boolean =>
  parts.kind === 'list'
    ? parts.items.length === 0
    : parts.kind === 'map'
      ? parts.entries.length === 0
      : parts.text === '';

/** The items in order, an object's keys and values alternating (`R,100,G,200`). */
const flat = (parts: Parts, encode: (text: string) => string): string[] =>
  parts.kind === 'scalar'
    ? [encode(parts.text)]
    : parts.kind === 'list'
      ? parts.items.map(encode)
      : parts.entries.flatMap(([k, v]) => [encode(k), encode(v)]);

const pairs = (parts: Parts & { kind: 'map' }, encode: (text: string) => string, sep: string) =>
  parts.entries.map(([k, v]) => `${encode(k)}=${encode(v)}`).join(sep);

/** RFC 3986 percent-encoding of one component: only unreserved characters stay as they are. */
export const encodeComponent = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * One query parameter as encoded `key=value` pairs. `taken` holds the request's other query keys: an
 * object spread into keys by form/explode may not reuse one of them.
 */
export function serializeQuery(
  name: string,
  value: unknown,
  s: Serialization,
  location: string,
  taken: ReadonlySet<string>,
): string[] {
  if (s.style === 'deepObject') {
    if (value === null || typeof value !== 'object')
      throw unserializable(
        `The value for ${location} must be an object or a list (deepObject style)`,
        location,
      );
    return deepPairs(name, value, location, 0).map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`);
  }
  const parts = partsOf(value, s.style, location);
  const key = encodeComponent(name);
  const explode = explodes(s);
  switch (s.style) {
    case 'form':
      if (!explode || parts.kind === 'scalar' || isEmpty(parts))
        return [`${key}=${flat(parts, encodeComponent).join(',')}`];
      if (parts.kind === 'list') return parts.items.map((item) => `${key}=${encodeComponent(item)}`);
      for (const [k] of parts.entries)
        if (taken.has(k))
          throw unserializable(
            `The value for ${location} has the key "${k}", which is another query parameter of this request`,
            location,
          );
      return [pairs(parts, encodeComponent, '&')];
    case 'spaceDelimited':
      return [`${key}=${flat(parts, encodeComponent).join('%20')}`];
    case 'pipeDelimited':
      return [`${key}=${flat(parts, encodeComponent).join('%7C')}`];
    default:
      throw unserializable(`${s.style} is not a style for a query parameter`, location);
  }
}

/** Deepest nesting a deepObject value may have. */
const MAX_DEEP = 8;

/**
 * deepObject pairs: `name[key]` for each property, as OpenAPI defines it. Where it leaves the style
 * undefined, the convention of the APIs that use it (Stripe) and of Rails, PHP and qs: a nested object
 * goes on as `name[key][inner]`, a list as `name[key][]` per item. A key holding "[" or "]", which would
 * make another path of keys, is refused.
 */
function deepPairs(prefix: string, value: unknown, location: string, depth: number): [string, string][] {
  if (depth > MAX_DEEP)
    throw unserializable(`The value for ${location} is nested more than ${MAX_DEEP} levels deep`, location);
  if (Array.isArray(value))
    return value.flatMap((item) => {
      if (item !== null && typeof item === 'object')
        throw unserializable(
          `The value for ${location} has a list of lists or objects, which the deepObject style cannot send`,
          location,
        );
      return [[`${prefix}[]`, toText(item)] as [string, string]];
    });
  if (value === null || typeof value !== 'object') return [[prefix, toText(value)]];
  return Object.entries(value).flatMap(([key, child]) => {
    if (/[[\]]/.test(key))
      throw unserializable(
        `The value for ${location} has a key with "[" or "]", which the deepObject style cannot send`,
        location,
      );
    return deepPairs(`${prefix}[${key}]`, child, location, depth + 1);
  });
}

/** A path placeholder's text: simple, label or matrix, each item percent-encoded. */
export function serializePath(name: string, value: unknown, s: Serialization, location: string): string {
  const parts = partsOf(value, s.style, location);
  const explode = explodes(s);
  const encode = encodeComponent;
  switch (s.style) {
    case 'simple':
      return explode && parts.kind === 'map' ? pairs(parts, encode, ',') : flat(parts, encode).join(',');
    case 'label':
      if (isEmpty(parts)) return '.';
      if (!explode) return `.${flat(parts, encode).join(',')}`;
      return parts.kind === 'map' ? `.${pairs(parts, encode, '.')}` : `.${flat(parts, encode).join('.')}`;
    case 'matrix': {
      const key = encode(s.name ?? name);
      if (isEmpty(parts)) return `;${key}`;
      if (!explode || parts.kind === 'scalar') return `;${key}=${flat(parts, encode).join(',')}`;
      if (parts.kind === 'map') return `;${pairs(parts, encode, ';')}`;
      return parts.items.map((item) => `;${key}=${encode(item)}`).join('');
    }
    default:
      throw unserializable(`${s.style} is not a style for a path parameter`, location);
  }
}

/** A header value in the simple style; the caller refuses CR, LF and NUL as for any header. */
export function serializeHeader(value: unknown, s: Serialization, location: string): string {
  const parts = partsOf(value, s.style, location);
  const same = (text: string) => text;
  return explodes(s) && parts.kind === 'map' ? pairs(parts, same, ',') : flat(parts, same).join(',');
}
