/**
 * A run's request put together from its plan: the templates rendered, auth placed, defaults added. The
 * request as recorded is put together the same way with a marker wherever a secret went (a template's
 * `secrets.NAME`, a password input, the auth credential or token), so it is redacted by construction
 * rather than by searching the real one for every form of every secret.
 */
import { redactionMarker } from '../../../core/redaction.ts';
import type { Lookup } from '../../../core/templates/index.ts';
import type { HttpPlan } from './plan.ts';

/** What auth adds to the request, and where; `value` is the credential or token itself. */
export type AuthPart =
  | { in: 'none' }
  | { in: 'header'; name: string; value: string; prefix: string }
  | { in: 'query'; name: string; value: string }
  | { in: 'body'; field: string; value: string };

export interface Assembled {
  url: string;
  headers: Record<string, string>;
  /** The body as sent: JSON text or form text. */
  body: string | undefined;
  host: string;
}

/**
 * Marker placeholders: text that every encoding a value meets (path segment, form value, JSON string,
 * header) leaves as it is, made unguessable per process, and swapped for `[REDACTED:name]` once the
 * request is assembled.
 */
const NONCE = `zq${Math.random().toString(36).slice(2, 12).padEnd(10, '0')}x`;
const PLACEHOLDER = new RegExp(`${NONCE}(\\d+)y`, 'g');

export class Markers {
  readonly #names: string[] = [];

  /** The placeholder for a secret recorded as `name`. */
  for(name: string): string {
    let index = this.#names.indexOf(name);
    if (index === -1) index = this.#names.push(name) - 1;
    return `${NONCE}${index}y`;
  }

  /** `text` with every placeholder replaced by its marker. */
  swap(text: string): string {
    if (this.#names.length === 0 || !text.includes(NONCE)) return text;
    return text.replace(PLACEHOLDER, (_match, index: string) =>
      redactionMarker(this.#names[Number(index)] ?? 'secret'),
    );
  }
}

/**
 * `lookup` with a placeholder for every value the plan says is a secret; `secretName` gives the name a
 * `secrets.NAME` reference is recorded under (its stored secret's name).
 */
export function markingLookup(
  plan: HttpPlan,
  lookup: Lookup,
  markers: Markers,
  secretName: (name: string) => string,
): Lookup {
  return (ref) => {
    const kind = plan.secretRefs.get(ref);
    const result = lookup(ref);
    if (kind === undefined || !result.found || typeof result.value !== 'string') return result;
    const name = 'secret' in kind ? secretName(kind.secret) : `input ${kind.input}`;
    return { found: true, value: markers.for(name) };
  };
}

/** Headers with case-insensitive replacement, keeping the spelling last set. */
class HeaderList {
  readonly headers: Record<string, string>;
  readonly #names = new Map<string, string>();

  constructor(headers: Record<string, string>) {
    this.headers = headers;
    for (const name of Object.keys(headers)) this.#names.set(name.toLowerCase(), name);
  }

  has(lower: string): boolean {
    return this.#names.has(lower);
  }

  set(name: string, value: string): void {
    const lower = name.toLowerCase();
    const existing = this.#names.get(lower);
    if (existing !== undefined) delete this.headers[existing];
    this.headers[name] = value;
    this.#names.set(lower, name);
  }
}

/**
 * The request rendered with `lookup` and `auth` placed. `rendered`: templates already rendered with this
 * lookup, to be reused rather than rendered again (the recorded request reuses the real one's where no
 * secret went).
 */
export function assemble(
  plan: HttpPlan,
  lookup: Lookup,
  auth: AuthPart,
  bodyType: 'json' | 'form',
  idempotencyKey: string | null,
  rendered: { url?: string; headers?: Record<string, string>; body?: unknown } = {},
): Assembled {
  let url = rendered.url ?? plan.url(lookup);
  let host = plan.host;
  if (host === undefined) {
    const parsed = new URL(url);
    if (auth.in === 'query') parsed.searchParams.set(auth.name, auth.value);
    url = parsed.toString();
    host = parsed.hostname;
  }
  const headers = new HeaderList({ ...(rendered.headers ?? plan.headers(lookup)) });
  let body: unknown = 'body' in rendered ? rendered.body : plan.body?.(lookup);
  if (auth.in === 'header') headers.set(auth.name, `${auth.prefix}${auth.value}`);
  if (auth.in === 'body') {
    if (bodyType === 'form') {
      const form = new URLSearchParams(typeof body === 'string' ? body : '');
      form.set(auth.field, auth.value);
      body = form.toString();
    } else {
      body = { ...(body as Record<string, unknown> | undefined), [auth.field]: auth.value };
    }
  }
  let encoded: string | undefined;
  if (typeof body === 'string') {
    encoded = body;
    if (!headers.has('content-type')) headers.set('Content-Type', 'application/x-www-form-urlencoded');
  } else if (body !== undefined) {
    encoded = JSON.stringify(body);
    if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
  }
  if (idempotencyKey && !headers.has('idempotency-key')) headers.set('Idempotency-Key', idempotencyKey);
  return { url, headers: headers.headers, body: encoded, host };
}
