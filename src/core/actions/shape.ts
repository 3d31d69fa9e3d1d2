/**
 * A response shaped for a language model (docs/security.md B16, H12): JSON parsed (depth-limited) or text,
 * the selected fields only, and a length cap with a visible notice. Headers never reach the model (B16).
 */
import { parseJsonWithDepthLimit } from '../json-guard.ts';

export interface ShapeOptions {
  /** Dotted paths to keep; `*` walks every element of an array (`items.*.name`). */
  select: readonly string[] | null;
  maxLength: number;
}

export interface Shaped {
  output: unknown;
  truncated: boolean;
  /** Set when the body claimed to be JSON but was not: the output is then its text. */
  parseError?: string;
}

const MAX_RESPONSE_DEPTH = 100;
const TEXTUAL =
  /^(text\/|application\/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|x-ndjson))/i;
const decoder = new TextDecoder('utf-8');

export function truncateText(text: string, maxLength: number): { text: string; truncated: boolean } {
  if (text.length <= maxLength) return { text, truncated: false };
  return {
    text: `${text.slice(0, maxLength)}\n[truncated: ${text.length - maxLength} more characters not shown]`,
    truncated: true,
  };
}

export function shapeBody(body: Uint8Array, contentType: string | undefined, options: ShapeOptions): Shaped {
  if (body.length === 0) return { output: null, truncated: false };
  if (contentType && !TEXTUAL.test(contentType)) {
    return {
      output: `[binary response: ${contentType.split(';')[0] ?? contentType}, ${body.length} bytes]`,
      truncated: false,
    };
  }
  const text = decoder.decode(body);
  const looksJson = contentType ? /json/i.test(contentType) : /^\s*[[{]/.test(text);
  if (!looksJson) return asText(text, options.maxLength);
  let value: unknown;
  try {
    value = parseJsonWithDepthLimit(text, MAX_RESPONSE_DEPTH);
  } catch (error) {
    return {
      ...asText(text, options.maxLength),
      parseError: `The response said it was JSON but is not: ${(error as Error).message}`,
    };
  }
  if (options.select && options.select.length > 0) value = selectPaths(value, options.select);
  const serialized = JSON.stringify(value);
  if (serialized.length <= options.maxLength) return { output: value, truncated: false };
  const cut = truncateText(serialized, options.maxLength);
  return { output: cut.text, truncated: true };
}

function asText(text: string, maxLength: number): Shaped {
  const cut = truncateText(text, maxLength);
  return { output: cut.text, truncated: cut.truncated };
}

/** `{ "order.status": "shipped", "items.*.sku": ["A", "B"] }`: each selected path as a key; missing paths are left out. */
export function selectPaths(value: unknown, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const found = walk(value, path.split('.'));
    if (found !== undefined) out[path] = found;
  }
  return out;
}

function walk(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value;
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === '*') {
    if (!Array.isArray(value)) return undefined;
    return value.map((item) => walk(item, rest)).filter((v) => v !== undefined);
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    const index = /^\d+$/.test(head) ? Number(head) : NaN;
    return Number.isInteger(index) ? walk(value[index], rest) : undefined;
  }
  return Object.hasOwn(value, head) ? walk((value as Record<string, unknown>)[head], rest) : undefined;
}
