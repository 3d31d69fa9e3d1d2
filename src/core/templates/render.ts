/**
 * Rendering a template once: compile.ts's renderers applied to one run's values. Callers that render the
 * same template on every run (an http action) keep the compiled renderers instead.
 */
import { BoundedCache } from '../bounded-cache.ts';
import {
  type Lookup,
  type UrlTemplate,
  compileForm,
  compileHeaders,
  compileJson,
  compileString,
  compileUrl,
  splitUrl,
} from './compile.ts';
import { type Serialization, toText } from './serialize.ts';

export { toText, type Lookup, type UrlTemplate };

/**
 * A string with every placeholder replaced by `encode(value)` (its text, by default); an absent value is
 * an error. `literal` transforms the template's own text (used to decode a query string as written).
 */
export const renderString = (
  template: string,
  lookup: Lookup,
  location: string,
  encode?: (value: unknown, ref: string) => string,
  literal?: (text: string) => string,
): string => compileString(template, location, encode, literal)(lookup);

/** Header values: see compileHeaders. */
export const renderHeaders = (
  headers: Readonly<Record<string, string>>,
  lookup: Lookup,
  serialization?: Readonly<Record<string, Serialization>>,
): Record<string, string> => compileHeaders(headers, serialization)(lookup);

/** A JSON body rendered on its parsed tree, values copied: see compileJson. */
export const renderJson = (tree: unknown, lookup: Lookup, location = 'body'): unknown =>
  compileJson(tree, location)(lookup);

/** An application/x-www-form-urlencoded body: see compileForm. */
export const renderForm = (
  fields: Readonly<Record<string, string>>,
  lookup: Lookup,
  serialization?: Readonly<Record<string, Serialization>>,
  reservedKeys?: readonly string[],
): string => compileForm(fields, serialization, reservedKeys)(lookup);

/** The request URL: see compileUrl. */
export const renderUrl = (template: UrlTemplate, lookup: Lookup): string => compileUrl(template)(lookup);

const splits = new BoundedCache<string, ReturnType<typeof splitUrl>>(2_000);

/** Splits a URL template without parsing placeholders as URL syntax (cached: templates are few). */
export const splitUrlTemplate = (template: string): ReturnType<typeof splitUrl> =>
  splits.get(template, splitUrl);
