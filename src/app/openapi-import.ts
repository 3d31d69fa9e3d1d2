/**
 * Importing an OpenAPI or Swagger document as http actions: the document comes inline or from a URL
 * fetched through the one guarded egress client; core/openapi plans every operation; a preview returns
 * the plan, an import saves the selected operations through the action service, so every save-time
 * check applies to each, and reports what it created and what it refused, with the reason.
 */
import { authUrls } from '../core/actions/kinds/http.ts';
import type { DefinitionIssue } from '../core/actions/model.ts';
import { AppError } from '../core/errors.ts';
import {
  type ImportPlan,
  type PlannedOperation,
  type SchemeCredential,
  type SkippedOperation,
  planImport,
} from '../core/openapi/index.ts';
import { EgressError, type HttpClient } from '../core/ports/http-client.ts';
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
  store: Store;
  http: HttpClient;
  actions: ActionService;
}

export const MAX_DOCUMENT_BYTES = 5 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 20_000;
const ACCEPT =
  'application/openapi+json, application/json, application/openapi+yaml, application/yaml, text/yaml;q=0.9, */*;q=0.5';

const invalid = (path: string, message: string, details?: Record<string, unknown>) =>
  new AppError('VALIDATION_FAILED', message, { path, ...(details ? { details } : {}) });

export type OpenApiImportService = ReturnType<typeof createOpenApiImportService>;

export function createOpenApiImportService({ store, http, actions }: OpenApiImportDeps) {
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
    return { document: fetched.text, url: fetched.url };
  }

  async function fetchDocument(url: string): Promise<{ text: string; url: string }> {
    const host = checkedUrl('/url', url).host;
    let response;
    try {
      response = await http.request({
        method: 'GET',
        url,
        headers: { accept: ACCEPT },
        maxResponseBytes: MAX_DOCUMENT_BYTES,
        timeoutMs: FETCH_TIMEOUT_MS,
      });
    } catch (error) {
      if (!(error instanceof EgressError)) throw error;
      const why =
        error.code === 'RESPONSE_TOO_LARGE'
          ? `it is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB`
          : error.message;
      throw invalid('/url', `Could not fetch the document from ${host}: ${why}`, { code: error.code });
    }
    if (response.status < 200 || response.status > 299)
      throw invalid('/url', `Could not fetch the document: ${host} answered HTTP ${response.status}`, {
        status: response.status,
      });
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(response.body), url: response.url };
    } catch {
      throw invalid('/url', `The document at ${host} is not UTF-8 text`);
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
      const plan = planImport(document, {
        documentUrl: url ?? undefined,
        baseUrl: request.baseUrl,
        credentials: request.credentials,
        toolNames: await store.actions.toolNames(organizationId),
        select: request.select,
      });
      guardPlan(plan);
      if (request.dryRun || request.select === undefined) return { dryRun: true, plan, url };

      const created: CreatedAction[] = [];
      const refused: RefusedOperation[] = plan.skipped.map((s) => ({ key: s.key, reason: s.reason }));
      for (const operation of plan.operations) {
        const result = await save(principal, operation);
        if ('actionId' in result) created.push(result);
        else refused.push(result);
      }
      return { dryRun: false, plan, url, created, refused };
    },
  };
}

function where(operation: PlannedOperation): Omit<SkippedOperation, 'reason'> {
  return {
    key: operation.key,
    operationId: operation.operationId,
    method: operation.method,
    path: operation.path,
  };
}
