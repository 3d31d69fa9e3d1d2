/**
 * Reading the document: JSON or YAML text, or an already parsed object; OpenAPI 3.0 and 3.1 are read as
 * they are, Swagger 2.0 is converted to the 3.x model first. A document that cannot be read at all is a
 * 400 saying why; problems with single operations are reported per operation instead.
 */
import { parse as parseYaml } from 'yaml';
import { AppError } from '../errors.ts';
import { parseJsonWithDepthLimit } from '../json-guard.ts';
import { convertSwagger2 } from './swagger2.ts';
import { type Json, isRecord, show, text } from './values.ts';

/** Deeper than any real API description; keeps every walker's recursion bounded. */
export const MAX_DOCUMENT_DEPTH = 128;

export interface ReadDocument {
  /** The document in the OpenAPI 3.x model. */
  doc: Json;
  /** `openapi 3.1.0`, `swagger 2.0`: what was given. */
  format: string;
  title: string | null;
  version: string | null;
}

const invalid = (message: string): AppError =>
  new AppError('VALIDATION_FAILED', message, { path: '/document' });

/** JSON when it looks like JSON (for its clearer errors), else YAML. */
export function parseDocumentText(source: string): unknown {
  const body = source.replace(/^\uFEFF/, '').trim();
  if (body === '') throw invalid('The document is empty');
  if (body.startsWith('{')) {
    try {
      return parseJsonWithDepthLimit(body, MAX_DOCUMENT_DEPTH);
    } catch (error) {
      if (error instanceof AppError)
        throw invalid(
          error.code === 'DEPTH_EXCEEDED'
            ? `The document is nested more than ${MAX_DOCUMENT_DEPTH} levels deep`
            : `The document cannot be read: ${error.message}`,
        );
      throw invalid(`The document is not valid JSON: ${(error as Error).message}`);
    }
  }
  let value: unknown;
  try {
    // aliases are capped so a small "billion laughs" document cannot expand into gigabytes
    value = parseYaml(body, { maxAliasCount: 100, uniqueKeys: true, prettyErrors: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw invalid(`The document is neither JSON nor valid YAML: ${message}`);
  }
  checkDepth(value);
  return value;
}

/** Iterative, so a hostile document cannot overflow the stack of the check itself. */
function checkDepth(value: unknown): void {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_DOCUMENT_DEPTH)
      throw invalid(`The document is nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
    for (const child of Object.values(node)) pending.push([child, depth + 1]);
  }
}

export function readDocument(value: unknown, documentUrl?: string): ReadDocument {
  const parsed = typeof value === 'string' ? parseDocumentText(value) : value;
  if (!isRecord(parsed))
    throw invalid('The document must be an OpenAPI 3.x or Swagger 2.0 description: a JSON or YAML object');
  const info = isRecord(parsed.info) ? parsed.info : {};
  const described = { title: text(info.title) ?? null, version: text(info.version) ?? null };
  const swagger = parsed.swagger;
  if (swagger !== undefined) {
    if (show(swagger) !== '2.0')
      throw invalid(`Swagger ${show(swagger)} is not supported; give a Swagger 2.0 or OpenAPI 3.x document`);
    checkPaths(parsed);
    return { doc: convertSwagger2(parsed, documentUrl), format: 'swagger 2.0', ...described };
  }
  const openapi = typeof parsed.openapi === 'string' ? parsed.openapi : undefined;
  if (openapi === undefined)
    throw invalid(
      'This is not an OpenAPI document: it has no "openapi" field (3.x) and no "swagger" field (2.0)',
    );
  if (!/^3\.\d+(\.\d+)?(-[\w.]+)?$/.test(openapi))
    throw invalid(`OpenAPI ${openapi} is not supported; give an OpenAPI 3.0, 3.1 or Swagger 2.0 document`);
  checkPaths(parsed);
  return { doc: parsed, format: `openapi ${openapi}`, ...described };
}

function checkPaths(doc: Json): void {
  if (doc.paths === undefined && (isRecord(doc.webhooks) || isRecord(doc.components))) return;
  if (!isRecord(doc.paths))
    throw invalid('The document has no "paths" object, so it describes no operations to import');
}
