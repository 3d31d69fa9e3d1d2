/**
 * The egress guard's verdict at save time on every URL a definition will send to (what can be known
 * without DNS: scheme, userinfo, port, literal and metadata addresses). A URL it refuses is a 400 when it
 * is saved, not a failure on the first run; the guard checks again, with DNS, on every request.
 */
import type { DefinitionIssue, SavedUrl } from '../core/actions/model.ts';
import { EgressError, type HttpClient } from '../core/ports/http-client.ts';

/** A placeholder fills one path segment or query value: the guard judges the host and port around it. */
const PLACEHOLDER = /\{\{[^}]*\}\}/g;

/** Why the guard refuses `url`, or undefined when it accepts it. */
export function egressRefusal(http: HttpClient, url: string): string | undefined {
  try {
    http.checkUrl(url.replace(PLACEHOLDER, 'x'));
    return undefined;
  } catch (error) {
    if (!(error instanceof EgressError)) throw error;
    return error.message;
  }
}

/** One issue per URL the guard refuses. */
export function egressIssues(http: HttpClient, urls: readonly SavedUrl[]): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const { path, url } of urls) {
    const refused = egressRefusal(http, url);
    if (refused !== undefined)
      issues.push({ path, message: `The egress guard refuses this URL: ${refused}` });
  }
  return issues;
}
