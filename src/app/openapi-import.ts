/**
 * Importing an OpenAPI or Swagger document as http actions: the document comes inline or from a URL
 * fetched through the one guarded egress client, and so do the files its references name (a document
 * split over several files), within a bound on their number, total size and time; the reader port
 * parses and plans every operation off the event loop; a preview returns the plan, an import saves the
 * selected operations through the action service, so every save-time check applies to each, and
 * reports what it created and what it refused, with the reason.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { authUrls } from '../core/actions/kinds/http.ts';
import type { DefinitionIssue } from '../core/actions/model.ts';
import { AppError } from '../core/errors.ts';
import {
  type ImportPlan,
  type PlannedOperation,
  type SchemeCredential,
  type SkippedOperation,
} from '../core/openapi/index.ts';
import type { Clock } from '../core/ports/clock.ts';
import { EgressError, type HttpClient } from '../core/ports/http-client.ts';
import type { OpenApiReader, OpenApiReading } from '../core/ports/openapi-reader.ts';
import type { Store } from '../core/ports/store.ts';
import type { Principal } from '../core/tenancy.ts';
import { toolNameFor } from '../core/tools/names.ts';
import type { ActionService } from './actions.ts';
import { egressRefusal } from './egress-check.ts';

export interface ImportRequest {
  /** JSON or YAML text, or the parsed document. */
  document?: unknown;
  url?: string | undefined;
  /** Operation keys to import; absent: preview every operation. */
  select?: string[] | undefined;
  baseUrl?: string | undefined;
  credentials: Record<string, SchemeCredential>;
  dryRun: boolean;
}

export interface CreatedAction {
  key: string;
  actionId: string;
  name: string;
  toolName: string;
  notes: string[];
}

export interface RefusedOperation {
  key: string;
  reason: string;
  issues?: DefinitionIssue[];
}

export type ImportOutcome =
  | { dryRun: true; plan: ImportPlan; url: string | null }
  | {
      dryRun: false;
      plan: ImportPlan;
      url: string | null;
      created: CreatedAction[];
      refused: RefusedOperation[];
    };

export interface OpenApiImportDeps {
  store: Pick<Store, 'actions' | 'secrets'>;
  http: HttpClient;
  actions: ActionService;
  reader: OpenApiReader;
  clock: Clock;
}

export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 20_000;
/** Bounds on the files a document's references name: how many, their total size, and the time for all. */
export const REFERENCED_FILES = { maxFiles: 2_000, maxBytes: 32 * 1024 * 1024, deadlineMs: 60_000 };
const CONCURRENT_FILE_FETCHES = 8;
const ACCEPT =
  'application/openapi+json, application/json, application/openapi+yaml, application/yaml, text/yaml;q=0.9, */*;q=0.5';

const invalid = (path: string, message: string, details?: Record<string, unknown>) =>
  new AppError('VALIDATION_FAILED', message, { path, ...(details ? { details } : {}) });

export type OpenApiImportService = ReturnType<typeof createOpenApiImportService>;

/** The body's bytes (UTF-8 text, decoded by the reader, off the event loop), or why there is none. */
type Fetched = { bytes: Uint8Array; url: string } | { why: string; details: Record<string, unknown> };

export function createOpenApiImportService({ store, http, actions, reader, clock }: OpenApiImportDeps) {
  async function load(request: ImportRequest): Promise<{ document: unknown; url: string | null }> {
    if ((request.document === undefined) === (request.url === undefined))
      throw invalid(
        '/document',
        request.url === undefined
          ? 'Give the document (JSON or YAML text, or the parsed object) or its url'
          : 'Give the document or its url, not both',
      );
    if (request.url === undefined) return { document: request.document, url: null };
    const fetched = await fetchDocument(request.url);
    return { document: fetched.bytes, url: fetched.url };
  }

  async function fetchDocument(url: string): Promise<{ bytes: Uint8Array; url: string }> {
    checkedUrl('/url', url);
    const fetched = await fetchFile(url, MAX_DOCUMENT_BYTES, FETCH_TIMEOUT_MS);
    if ('why' in fetched)
      throw invalid('/url', `Could not fetch the document: ${fetched.why}`, fetched.details);
    return fetched;
  }

  /** A file through the egress guard, or why not (a sentence naming the host). */
  async function fetchFile(url: string, maxBytes: number, timeoutMs: number): Promise<Fetched> {
    const host = new URL(url).host;
    let response;
    try {
      response = await http.request({
        method: 'GET',
        url,
        headers: { accept: ACCEPT },
        maxResponseBytes: maxBytes,
        timeoutMs,
      });
    } catch (error) {
      if (!(error instanceof EgressError)) throw error;
      const why =
        error.code === 'RESPONSE_TOO_LARGE' ? `it is larger than ${megabytes(maxBytes)}` : error.message;
      return { why: `${host}: ${why}`, details: { code: error.code } };
    }
    if (response.status < 200 || response.status > 299)
      return { why: `${host} answered HTTP ${response.status}`, details: { status: response.status } };
    return { bytes: response.body, url: response.url };
  }

  /**
   * Fetches the files the document's references name, and the files those name, a few at a time; a
   * file past the bounds, or one that cannot be fetched, is failed with the reason.
   */
  async function fetchReferenced(reading: OpenApiReading): Promise<void> {
    const { maxFiles, maxBytes, deadlineMs } = REFERENCED_FILES;
    const deadline = clock.now() + deadlineMs;
    const requested = new Set<string>();
    let bytes = 0;
    const one = async (url: string): Promise<void> => {
      requested.add(url);
      const timeLeft = Math.min(FETCH_TIMEOUT_MS, deadline - clock.now());
      const room = Math.min(MAX_DOCUMENT_BYTES, maxBytes - bytes);
      const beyond =
        requested.size > maxFiles
          ? `the document refers to more than ${maxFiles} files`
          : room <= 0
            ? `the files the document refers to add up to more than ${megabytes(maxBytes)}`
            : timeLeft <= 0
              ? `fetching the files the document refers to took more than ${deadlineMs / 1000} s`
              : undefined;
      if (beyond !== undefined) return reading.fail(url, beyond);
      const fetched = await fetchFile(url, room, timeLeft);
      if ('why' in fetched) return reading.fail(url, fetched.why);
      bytes += fetched.bytes.byteLength;
      return reading.add(url, fetched.bytes);
    };
    for (;;) {
      const next = reading.pending.filter((url) => !requested.has(url));
      if (next.length === 0) return;
      for (let at = 0; at < next.length; at += CONCURRENT_FILE_FETCHES)
        await Promise.all(next.slice(at, at + CONCURRENT_FILE_FETCHES).map(one));
    }
  }

  /** An absolute http(s) URL the egress guard accepts. */
  function checkedUrl(path: string, url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid(path, `${path.slice(1)} must be an absolute http:// or https:// URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw invalid(path, `${path.slice(1)} must be an http:// or https:// URL`);
    try {
      http.checkUrl(url);
    } catch (error) {
      if (!(error instanceof EgressError)) throw error;
      throw invalid(path, `The egress guard refuses ${parsed.host}: ${error.message}`, { code: error.code });
    }
    return parsed;
  }

  async function checkSecrets(organizationId: string, credentials: Record<string, SchemeCredential>) {
    for (const [scheme, credential] of Object.entries(credentials))
      if (!(await store.secrets.get(organizationId, credential.secretId)))
        throw invalid(`/secrets/${scheme}`, `secrets.${scheme}: no secret with id ${credential.secretId}`);
  }

  /** The egress guard's verdict on each planned URL, known before anything is saved. */
  function guardPlan(plan: ImportPlan): void {
    const kept: PlannedOperation[] = [];
    for (const operation of plan.operations) {
      const refused = egressProblem(operation);
      if (refused === undefined) kept.push(operation);
      else plan.skipped.push({ ...where(operation), reason: refused });
    }
    plan.operations = kept;
  }

  function egressProblem(operation: PlannedOperation): string | undefined {
    const { http: config } = operation.action;
    for (const url of [config.url, ...authUrls(config.auth, '').map((u) => u.url)]) {
      const refused = egressRefusal(http, url);
      if (refused !== undefined) return `the egress guard refuses ${url.split('{{')[0]}: ${refused}`;
    }
    return undefined;
  }

  async function save(
    principal: Principal,
    operation: PlannedOperation,
  ): Promise<CreatedAction | RefusedOperation> {
    const { action } = operation;
    try {
      const created = await actions.create(
        principal,
        {
          name: action.name,
          description: action.description,
          kind: 'http',
          tags: action.tags,
          variables: action.variables,
          secrets: action.secrets,
          config: action.http,
        },
        // the planned name, or the next free one if another action took it meanwhile
        { toolNameFor: (_name, taken) => toolNameFor(action.tool_name, taken) },
      );
      return {
        key: operation.key,
        actionId: created.id,
        name: created.name,
        toolName: created.toolName,
        notes: operation.notes,
      };
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      const issues = error.details?.issues as DefinitionIssue[] | undefined;
      return { key: operation.key, reason: error.message, ...(issues ? { issues } : {}) };
    }
  }

  return {
    async run(principal: Principal, request: ImportRequest): Promise<ImportOutcome> {
      const organizationId = principal.organizationId;
      if (request.baseUrl !== undefined) checkedUrl('/base_url', request.baseUrl);
      await checkSecrets(organizationId, request.credentials);
      const { document, url } = await load(request);
      const reading = await reader.open(document, url ?? undefined);
      let plan: ImportPlan;
      try {
        await fetchReferenced(reading);
        plan = await reading.plan({
          baseUrl: request.baseUrl,
          credentials: request.credentials,
          toolNames: await store.actions.toolNames(organizationId),
          select: request.select,
        });
      } finally {
        reading.close();
      }
      guardPlan(plan);
      if (request.dryRun || request.select === undefined) return { dryRun: true, plan, url };

      const created: CreatedAction[] = [];
      const refused: RefusedOperation[] = plan.skipped.map((s) => ({ key: s.key, reason: s.reason }));
      for (const operation of plan.operations) {
        // a save whose store answers at once never returns to the event loop: let requests in between
        await nextTurn();
        const result = await save(principal, operation);
        if ('actionId' in result) created.push(result);
        else refused.push(result);
      }
      return { dryRun: false, plan, url, created, refused };
    },
  };
}

const megabytes = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

function where(operation: PlannedOperation): Omit<SkippedOperation, 'reason'> {
  return {
    key: operation.key,
    operationId: operation.operationId,
    method: operation.method,
    path: operation.path,
  };
}
