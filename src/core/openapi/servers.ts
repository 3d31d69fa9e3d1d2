/**
 * The base URL of an operation: `base_url` when the caller gives one (it replaces the server URL, path
 * included); else the first server of the operation, its path item or the document, with its variables
 * set to their defaults. A relative server URL (or none, which OpenAPI reads as "/") is resolved against
 * the URL the document was fetched from; given inline, it needs base_url.
 */
import { ImportProblem, type Json, isRecord, list, quote, record, text } from './values.ts';

export interface ServerContext {
  baseUrl?: string | undefined;
  documentUrl?: string | undefined;
}

export function serverFor(root: Json, pathItem: Json, operation: Json, context: ServerContext): string {
  if (context.baseUrl !== undefined) return trimSlash(context.baseUrl);
  const declared = [operation.servers, pathItem.servers, root.servers].find((s) => list(s).some(isRecord));
  const server = record(list(declared).find(isRecord));
  const template = text(server.url) ?? '/';
  const variables = record(server.variables);
  const url = template.replace(/\{([^{}]+)\}/g, (_match, name: string) => {
    const variable = record(variables[name]);
    const value = variable.default ?? list(variable.enum)[0];
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new ImportProblem(
        `the server URL ${quote(template)} has the variable {${name}} with no default; give base_url`,
      );
    return String(value);
  });
  if (/^https?:\/\//i.test(url)) return trimSlash(url);
  if (/^[a-z][a-z0-9+.-]*:/i.test(url))
    throw new ImportProblem(`the server URL ${quote(url)} is not http or https; give base_url`);
  if (context.documentUrl !== undefined) return trimSlash(new URL(url, context.documentUrl).href);
  throw new ImportProblem(
    declared === undefined
      ? 'the document names no server, so its URL is relative to where the document is served; give base_url (or import it by url)'
      : `the server URL ${quote(url)} is relative; give base_url (or import the document by url)`,
  );
}

/** The document-wide server, for what is not tied to one operation (token URLs in the summary). */
export function defaultServer(root: Json, context: ServerContext): string | null {
  try {
    return serverFor(root, {}, {}, context);
  } catch (error) {
    if (error instanceof ImportProblem) return null;
    throw error;
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
