/** POST /v1/imports/openapi: preview or import an OpenAPI / Swagger document's operations as http actions. */
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { ImportOutcome, OpenApiImportService } from '../../app/openapi-import.ts';
import { AppError } from '../../core/errors.ts';
import { DEFAULT_JSON_LIMITS, parseGuardedJson } from '../../core/json-guard.ts';
import type { SchemeCredential } from '../../core/openapi/index.ts';
import { principalOf } from '../plugins/auth.ts';
import { ImportOpenApiBody, ImportPreviewView, ImportResultView } from './import-schemas.ts';

const tags = ['imports'];

export const importRoutes: FastifyPluginAsyncTypebox<{ imports: OpenApiImportService }> = async (
  app,
  { imports },
) => {
  allowLongStrings(app);
  app.post(
    '/imports/openapi',
    {
      config: { scope: 'actions:write' },
      schema: {
        operationId: 'importOpenApi',
        tags,
        summary: 'Import http actions from an OpenAPI 3.x or Swagger 2.0 document',
        description:
          'Without `select` (or with `dry_run`), answers 200 with a preview: the action each operation would become, and the operations that cannot be imported with the reason. With `select`, creates those actions (each passes the same checks as POST /v1/actions) and answers 201 with what it created and what it refused.',
        body: ImportOpenApiBody,
        response: { 200: ImportPreviewView, 201: ImportResultView },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const outcome = await imports.run(principalOf(request), {
        document: body.document,
        url: body.url,
        select: body.select,
        baseUrl: body.base_url,
        credentials: credentialsFrom(body.secrets ?? {}),
        dryRun: body.dry_run === true,
      });
      if (!outcome.dryRun) return reply.code(201).send(resultView(outcome));
      const preview = Readable.from(jsonInSlices(previewView(outcome)), { objectMode: false });
      // the JSON of the 200 schema's shape, as a stream: Fastify sends it as it comes
      return reply
        .code(200)
        .type('application/json; charset=utf-8')
        .send(preview as unknown as Static<typeof ImportPreviewView>);
    },
  );
};

/**
 * A YAML document travels as one JSON string, longer than the 64 KB the ingress guard allows a string
 * elsewhere. In this plugin's scope only, the same guard runs with strings as long as the body may be.
 */
function allowLongStrings(app: FastifyInstance): void {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const limits = { ...DEFAULT_JSON_LIMITS, maxStringLength: app.initialConfig.bodyLimit ?? 1024 * 1024 };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      const bytes = body as Buffer;
      if (bytes.length === 0) throw new AppError('INVALID_JSON', 'The body is empty; send a JSON document');
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch {
        throw new AppError('INVALID_JSON', 'The body is not valid UTF-8');
      }
      done(null, parseGuardedJson(text, limits));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/** List items written per chunk. */
const SLICE = 50;

/**
 * The preview of a large document runs to megabytes of JSON: it is streamed, each chunk a slice of list
 * items written as the connection takes it, so the event loop answers other requests in between. The
 * bytes are those of JSON.stringify.
 */
async function* jsonInSlices(value: Record<string, unknown>): AsyncGenerator<Buffer> {
  let text = '{';
  for (const [index, [key, item]] of Object.entries(value).entries()) {
    text += `${index === 0 ? '' : ','}${JSON.stringify(key)}:`;
    if (!Array.isArray(item)) {
      text += JSON.stringify(item);
      continue;
    }
    text += '[';
    for (const [at, element] of item.entries()) {
      text += `${at === 0 ? '' : ','}${JSON.stringify(element) ?? 'null'}`;
      if (at % SLICE === SLICE - 1) {
        yield Buffer.from(text, 'utf8');
        text = '';
        await nextTurn();
      }
    }
    text += ']';
  }
  yield Buffer.from(`${text}}`, 'utf8');
}

type Secrets = NonNullable<Static<typeof ImportOpenApiBody>['secrets']>;

function credentialsFrom(secrets: Secrets): Record<string, SchemeCredential> {
  return Object.fromEntries(
    Object.entries(secrets).map(([scheme, given]) => [
      scheme,
      typeof given === 'string'
        ? { secretId: given }
        : {
            secretId: given.secret_id,
            username: given.username,
            clientId: given.client_id,
            tokenUrl: given.token_url,
            scopes: given.scopes,
          },
    ]),
  );
}

function documentView(outcome: ImportOutcome) {
  const { plan } = outcome;
  return {
    format: plan.format,
    title: plan.title,
    version: plan.version,
    url: outcome.url,
    server: plan.server,
  };
}

function previewView(outcome: ImportOutcome): Static<typeof ImportPreviewView> {
  const { plan } = outcome;
  return {
    dry_run: true,
    document: documentView(outcome),
    security_schemes: plan.securitySchemes,
    operations: plan.operations.map((o) => ({
      key: o.key,
      operation_id: o.operationId,
      method: o.method,
      path: o.path,
      action: o.action as unknown as Record<string, unknown>,
      notes: o.notes,
    })),
    skipped: plan.skipped.map((s) => ({
      key: s.key,
      operation_id: s.operationId,
      method: s.method,
      path: s.path,
      reason: s.reason,
    })),
  };
}

function resultView(outcome: Extract<ImportOutcome, { dryRun: false }>): Static<typeof ImportResultView> {
  return {
    dry_run: false,
    document: documentView(outcome),
    created: outcome.created.map((c) => ({
      key: c.key,
      action_id: c.actionId,
      name: c.name,
      tool_name: c.toolName,
      notes: c.notes,
    })),
    refused: outcome.refused,
  };
}
