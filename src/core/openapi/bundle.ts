/**
 * Documents split over several files: a `$ref` into another file (`resources/droplets.yml#/get`) is
 * resolved against the URL of the file that holds it. The core does no I/O: `ReferencedFiles` names the
 * files still needed, the caller fetches them (through the egress guard) and adds each, then `bundle`
 * makes one document: the files are kept under FILES_KEY, and each reference to one becomes a pointer
 * into it. A reference that could not be read is kept as written, with the reason under UNREAD_KEY, so
 * the operation that needs it is skipped with that reason. Only http(s) files are ever named: a `file:`
 * URL, another scheme, or a relative reference in a document given inline (with no URL to resolve it
 * against) is never read.
 */
import { isRecord } from './values.ts';

export const FILES_KEY = 'x-switchboard-files';
export const UNREAD_KEY = 'x-switchboard-unread';

/** Parts of a document the importer never reads: references under them are not fetched. */
const UNREAD_PARTS: ReadonlySet<string> = new Set([
  'responses',
  'examples',
  'example',
  'links',
  'callbacks',
  'externalDocs',
  'tags',
  'info',
]);
/** Keys whose children are names an author chose (a property called "examples" is a schema). */
const NAME_MAPS: ReadonlySet<string> = new Set([
  'properties',
  'patternProperties',
  'definitions',
  '$defs',
  'schemas',
  'parameters',
  'requestBodies',
  'headers',
  'securitySchemes',
  'paths',
  'pathItems',
  'webhooks',
  'encoding',
  'content',
  'variables',
  'dependentSchemas',
]);

type Target = { file: string; fragment: string } | { problem: string };

/** Where a reference points: a file URL and a fragment, or why it is not read. Undefined: this file. */
export function targetOf(ref: string, base: string | undefined): Target | undefined {
  if (ref.startsWith('#')) return undefined;
  const hash = ref.indexOf('#');
  const location = hash === -1 ? ref : ref.slice(0, hash);
  const fragment = hash === -1 ? '' : ref.slice(hash + 1);
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return {
      problem:
        base === undefined
          ? 'it is in another file; import the document by url so its files can be fetched, or bundle it into one file'
          : 'it is not a valid URL',
    };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { problem: `only http and https files are read, not ${url.protocol.replace(/:$/, '')} ones` };
  url.hash = '';
  return { file: url.href, fragment };
}

export class ReferencedFiles {
  readonly #root: unknown;
  readonly #rootUrl: string | undefined;
  /** Every file named so far, in the order first named: parsed, failed (a reason), or still pending. */
  readonly #files = new Map<string, { value: unknown } | { reason: string } | 'pending'>();
  #external = false;

  constructor(root: unknown, rootUrl: string | undefined) {
    this.#root = root;
    this.#rootUrl = rootUrl;
    if (rootUrl !== undefined) this.#files.set(rootUrl, { value: root });
    this.#collect(root, rootUrl);
  }

  /** Files named and not yet added or failed. */
  pending(): string[] {
    return [...this.#files].filter(([, state]) => state === 'pending').map(([url]) => url);
  }

  /** A fetched file; the files it names are pending in turn. */
  add(url: string, value: unknown): void {
    if (this.#files.get(url) !== 'pending') return;
    this.#files.set(url, { value });
    this.#collect(value, url);
  }

  fail(url: string, reason: string): void {
    if (this.#files.get(url) === 'pending') this.#files.set(url, { reason });
  }

  /** The document with every reference into a file it has rewritten as a pointer into FILES_KEY. */
  bundle(): unknown {
    if (!this.#external || !isRecord(this.#root)) return this.#root;
    const index = new Map<string, number>();
    const files: unknown[] = [];
    const unread: Record<string, string> = {};
    for (const [url, state] of this.#files)
      if (url !== this.#rootUrl && typeof state === 'object' && 'value' in state) {
        index.set(url, files.length);
        files.push(state.value);
      }
    const pointerTo = (url: string | undefined, fragment: string): string | undefined => {
      if (fragment !== '' && !fragment.startsWith('/')) return undefined;
      if (url === this.#rootUrl) return `#${fragment}`;
      const at = url === undefined ? undefined : index.get(url);
      return at === undefined ? undefined : `#/${FILES_KEY}/${at}${fragment}`;
    };
    const rewrite = (ref: string, base: string | undefined): string => {
      const target = targetOf(ref, base);
      if (target === undefined) return pointerTo(base, ref.slice(1)) ?? ref;
      if ('problem' in target) {
        unread[ref] = target.problem;
        return ref;
      }
      const pointer = pointerTo(target.file, target.fragment);
      if (pointer !== undefined) return pointer;
      const state = this.#files.get(target.file);
      const absolute = `${target.file}#${target.fragment}`;
      unread[absolute] =
        typeof state === 'object' && 'reason' in state ? state.reason : 'the file was not fetched';
      return absolute;
    };
    const root = copyWithRefs(this.#root, (ref) => rewrite(ref, this.#rootUrl)) as Record<string, unknown>;
    const copies = [...index].map(([url]) => {
      const state = this.#files.get(url) as { value: unknown };
      return copyWithRefs(state.value, (ref) => rewrite(ref, url));
    });
    return { ...root, [FILES_KEY]: copies, [UNREAD_KEY]: unread };
  }

  /** Names the files a document refers to from the parts the importer reads, in document order. */
  #collect(value: unknown, base: string | undefined): void {
    const pending: [unknown, string | undefined][] = [[value, undefined]];
    for (let at = 0; at < pending.length; at++) {
      const [node, key] = pending[at] as [unknown, string | undefined];
      if (Array.isArray(node)) {
        for (const item of node) pending.push([item, undefined]);
        continue;
      }
      if (!isRecord(node)) continue;
      const names = key !== undefined && NAME_MAPS.has(key);
      if (typeof node.$ref === 'string') {
        const target = targetOf(node.$ref, base);
        if (target !== undefined) {
          this.#external = true;
          if ('file' in target && !this.#files.has(target.file)) this.#files.set(target.file, 'pending');
        }
      }
      for (const [child, item] of Object.entries(node))
        if (names || (!UNREAD_PARTS.has(child) && !child.startsWith('x-'))) pending.push([item, child]);
    }
  }
}

/** A copy in which every `$ref` string is replaced by `rewrite(ref)`; a "__proto__" key stays a key. */
function copyWithRefs(value: unknown, rewrite: (ref: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => copyWithRefs(item, rewrite));
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key,
      key === '$ref' && typeof child === 'string' ? rewrite(child) : copyWithRefs(child, rewrite),
    ]),
  );
}
