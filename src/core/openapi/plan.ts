/**
 * An OpenAPI (3.0, 3.1) or Swagger 2.0 document → an import plan: one entry per operation, each either
 * the http action it becomes or the reason it cannot be (never silently dropped), plus the document's
 * security schemes and whether a secret was given for each. Pure: the caller fetches the document,
 * knows the organization's tool names, and saves what it selects.
 */
import { AppError } from '../errors.ts';
import { readDocument } from './document.ts';
import {
  type OperationContext,
  type OperationRef,
  type PlannedOperation,
  type SkippedOperation,
  planOperation,
} from './operation.ts';
import { deref } from './refs.ts';
import { type SchemeCredential, type SchemeSummary, schemesOf, summarizeSchemes } from './security.ts';
import { defaultServer } from './servers.ts';
import { OPERATION_METHODS } from './swagger2.ts';
import { ImportProblem, type Json, entries, isRecord, quote, record, text } from './values.ts';

export interface PlanOptions {
  /** Where the document was fetched from: relative server URLs resolve against it. */
  documentUrl?: string | undefined;
  /** Replaces every server URL. */
  baseUrl?: string | undefined;
  /** Scheme name → the secret (and username or client id) to use for it. */
  credentials: Readonly<Record<string, SchemeCredential>>;
  /** Tool names the organization already uses. */
  toolNames: ReadonlySet<string>;
  /** Keys (operationId or "METHOD /path") to plan; all when absent. */
  select?: readonly string[] | undefined;
}

export interface ImportPlan {
  format: string;
  title: string | null;
  version: string | null;
  /** The document-wide server URL used, or null when it needs base_url. */
  server: string | null;
  securitySchemes: SchemeSummary[];
  operations: PlannedOperation[];
  skipped: SkippedOperation[];
}

export const MAX_OPERATIONS = 2000;

/**
 * `document` is the text or the parsed document; a multi-file one comes bundled (bundle.ts), else its
 * references into other files skip the operations that need them.
 */
export function planImport(document: unknown, options: PlanOptions): ImportPlan {
  const read = readDocument(document, options.documentUrl);
  const root = read.doc;
  for (const name of Object.keys(options.credentials))
    if (!Object.hasOwn(schemesOf(root), name))
      throw new AppError('VALIDATION_FAILED', `secrets.${name} names no security scheme of the document`, {
        path: `/secrets/${name}`,
        details: { schemes: Object.keys(schemesOf(root)) },
      });
  const server = { baseUrl: options.baseUrl, documentUrl: options.documentUrl };
  const refs = operationsOf(root);
  const skipped: SkippedOperation[] = [];
  const chosen = choose(refs, options.select);
  const context: OperationContext = {
    root,
    credentials: options.credentials,
    server,
    toolNames: new Set(options.toolNames),
  };
  const operations: PlannedOperation[] = [];
  for (const ref of chosen) {
    if ('reason' in ref) {
      skipped.push(ref);
      continue;
    }
    const planned = planOperation(context, ref);
    const callbacks = callbacksOf(ref);
    if ('reason' in planned) skipped.push(planned);
    else {
      planned.notes.push(
        ...callbacks.map((c) => `${c.key.slice(ref.key.length + 1)} is not imported: ${c.reason}`),
      );
      operations.push(planned);
    }
    // a whole-document preview lists them as entries of their own; an import names only what was selected
    if (options.select === undefined) skipped.push(...callbacks);
  }
  if (options.select === undefined) skipped.push(...webhooksOf(root));
  return {
    format: read.format,
    title: read.title,
    version: read.version,
    server: defaultServer(root, server),
    securitySchemes: summarizeSchemes(root, options.credentials, defaultServer(root, server)),
    operations,
    skipped,
  };
}

/**
 * Every operation in document order, keyed by its operationId, or "METHOD /path" when it has none or
 * shares it with another. A path item that cannot be read is one skipped entry.
 */
function operationsOf(root: Json): (OperationRef | SkippedOperation)[] {
  const found: (OperationRef | SkippedOperation)[] = [];
  for (const [path, raw] of entries(root.paths)) {
    if (!path.startsWith('/')) continue; // x- extensions
    let pathItem: Json;
    try {
      pathItem = deref(root, raw).value;
    } catch (error) {
      if (!(error instanceof ImportProblem)) throw error;
      found.push({ key: path, operationId: null, method: null, path, reason: error.message });
      continue;
    }
    for (const [method, raw] of Object.entries(pathItem)) {
      if (!(OPERATION_METHODS as readonly string[]).includes(method) || !isRecord(raw)) continue;
      // an operation kept in a file of its own (`get: {$ref: ...}`) is read from there, or skipped
      let operation: Json;
      try {
        operation = deref(root, raw).value;
      } catch (error) {
        if (!(error instanceof ImportProblem)) throw error;
        const key = `${method.toUpperCase()} ${path}`;
        found.push({ key, operationId: null, method: method.toUpperCase(), path, reason: error.message });
        continue;
      }
      found.push({ key: '', path, method, pathItem, operation });
    }
  }
  if (found.length > MAX_OPERATIONS)
    throw new AppError(
      'VALIDATION_FAILED',
      `The document has ${found.length} operations; at most ${MAX_OPERATIONS} can be read at once. Split it by tag and import each part.`,
      { path: '/document' },
    );
  const ids = new Map<string, number>();
  for (const ref of found)
    if ('operation' in ref) {
      const id = text(ref.operation.operationId);
      if (id !== undefined) ids.set(id, (ids.get(id) ?? 0) + 1);
    }
  for (const ref of found)
    if ('operation' in ref) {
      const id = text(ref.operation.operationId);
      ref.key = id !== undefined && ids.get(id) === 1 ? id : `${ref.method.toUpperCase()} ${ref.path}`;
    }
  return found;
}

/** The operations `select` names, by key, operationId or "METHOD /path"; an unknown name is a 400. */
function choose<T extends OperationRef | SkippedOperation>(
  refs: T[],
  select: readonly string[] | undefined,
): T[] {
  if (select === undefined) return refs;
  const names = (ref: T): string[] => {
    const id = 'operation' in ref ? text(ref.operation.operationId) : ref.operationId;
    const route = ref.method && ref.path ? `${ref.method.toUpperCase()} ${ref.path}` : undefined;
    return [ref.key, id, route].filter((name): name is string => typeof name === 'string');
  };
  const normalize = (name: string) =>
    name.trim().replace(/^([a-z]+)(\s+)(\/)/i, (_m, verb: string) => `${verb.toUpperCase()} /`);
  const wanted = new Set(select.map(normalize));
  const unknown = [...wanted].filter((name) => !refs.some((ref) => names(ref).includes(name)));
  if (unknown.length > 0)
    throw new AppError(
      'VALIDATION_FAILED',
      `select names no operation of the document: ${unknown.map((n) => quote(n)).join(', ')}. Use the keys a preview (without select) lists.`,
      { path: '/select', details: { unknown } },
    );
  return refs.filter((ref) => names(ref).some((name) => wanted.has(name)));
}

const NOT_CALLED = 'the API calls it; it is not a request an agent makes';

function callbacksOf(ref: OperationRef): SkippedOperation[] {
  return entries(ref.operation.callbacks).flatMap(([name, callback]) =>
    entries(callback).map(([expression]) => ({
      key: `${ref.key} callback ${name}`,
      operationId: null,
      method: null,
      path: expression,
      reason: `a callback: ${NOT_CALLED}`,
    })),
  );
}

function webhooksOf(root: Json): SkippedOperation[] {
  return entries(root.webhooks).flatMap(([name, item]) =>
    Object.keys(record(item))
      .filter((method) => (OPERATION_METHODS as readonly string[]).includes(method))
      .map((method) => ({
        key: `webhook ${name}`,
        operationId: text(record(record(item)[method]).operationId) ?? null,
        method: method.toUpperCase(),
        path: null,
        reason: `a webhook: ${NOT_CALLED}`,
      })),
  );
}
