/**
 * The answer to one guest fetch call, as the JSON text the guest's `fetch` parses: a copy of the host
 * function's response made of strings and a number, or the message its rejection carried.
 */
import type { SandboxFetchResponse } from '../../core/ports/sandbox.ts';

export function fetchPayload(response: SandboxFetchResponse): string {
  if (typeof response !== 'object' || response === null) {
    return failurePayload('fetch: the request produced no response');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  const status = Number(response.status);
  return JSON.stringify({
    status: Number.isInteger(status) ? status : 0,
    statusText: String(response.statusText ?? ''),
    url: String(response.url ?? ''),
    headers,
    body: String(response.body ?? ''),
  });
}

export function failurePayload(message: string): string {
  return JSON.stringify({ error: message || 'fetch failed' });
}
