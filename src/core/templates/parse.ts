/**
 * `{{ reference }}` placeholders. Parsing is the only step that reads a template: rendering substitutes
 * looked-up values in a single pass and never scans a substituted value again, so no value can inject a
 * placeholder, and nothing is ever evaluated (docs/security.md, principle 1).
 */
import { BoundedCache } from '../bounded-cache.ts';

export type Segment = { kind: 'text'; text: string } | { kind: 'ref'; ref: string };

const PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/g;

/** References are dotted paths of identifiers or indexes: `order_id`, `secrets.API_KEY`, `step1.output.items.0`. */
export const REFERENCE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;

/** Templates are few and read on every run: parse each once. */
const parsed = new BoundedCache<string, readonly Segment[]>(5_000);

export const parseTemplate = (template: string): readonly Segment[] => parsed.get(template, parse);

function parse(template: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) segments.push({ kind: 'text', text: template.slice(last, match.index) });
    segments.push({ kind: 'ref', ref: match[1] ?? '' });
    last = match.index + match[0].length;
  }
  if (last < template.length) segments.push({ kind: 'text', text: template.slice(last) });
  return segments;
}

export const referencesIn = (template: string): string[] =>
  parseTemplate(template).flatMap((s) => (s.kind === 'ref' ? [s.ref] : []));

export const hasReferences = (template: string): boolean => referencesIn(template).length > 0;

/** The reference when the whole template is exactly one placeholder (`"{{count}}"`), else undefined. */
export function soleReference(template: string): string | undefined {
  const segments = parseTemplate(template);
  return segments.length === 1 && segments[0]?.kind === 'ref' ? segments[0].ref : undefined;
}

/** Every reference in a JSON tree's string values (keys are never templates). */
export function referencesInTree(value: unknown): string[] {
  if (typeof value === 'string') return referencesIn(value);
  if (Array.isArray(value)) return value.flatMap(referencesInTree);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(referencesInTree);
  return [];
}
