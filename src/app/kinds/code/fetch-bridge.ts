/**
 * The host side of a code action's `fetch`: every call goes through the one guarded egress client (SSRF
 * guard, deadlines, size caps). Code that can read secrets reaches only the hosts they are bound to, on
 * every call and every redirect; a call that visibly carries one goes only to that one's hosts, besides.
 * What each call did is kept for the execution record. It runs on the thread that makes the calls: the
 * sandbox's workers build it from the run's fetch scope (src/sandbox-fetch.ts), the caller otherwise.
 */
import { STATUS_CODES } from 'node:http';
import { redactorFor } from '../../../core/redaction.ts';
import { EgressError, type HttpClient } from '../../../core/ports/http-client.ts';
import type { SandboxFetch, SandboxFetchLogEntry, SandboxFetchRequest } from '../../../core/ports/sandbox.ts';
import type { ResolvedSecret } from '../../../core/ports/secret-reveal.ts';
import type { SecretRecord } from '../../../core/secrets.ts';
import { redirectGuard, refusal, scopeRefusal, secretRefusedFor } from '../host-binding.ts';

export type FetchLogEntry = SandboxFetchLogEntry;

export interface FetchBridgeOptions {
  http: HttpClient;
  now: () => number;
  /**
   * Every secret the run can read. With any, each request may go only to their allowed_hosts (none at all
   * while one has none), and a request carrying one only to that secret's.
   */
  secrets: readonly ResolvedSecret[];
  /** The deadline of each call, further cut to the time the run has left. */
  timeoutMs: number;
  /** When the run must end (epoch ms). */
  deadline: number;
  log: FetchLogEntry[];
}

/** Headers a guest may not set: the client owns framing and the connection (the fetch standard's list). */
const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);

const decoder = new TextDecoder();

/** The text a secret could hide in: URL, headers, body, and what a Basic credential decodes to. */
function carriedText(request: SandboxFetchRequest, headers: Record<string, string>): string {
  const parts = [request.url, request.body ?? ''];
  for (const [name, value] of Object.entries(headers)) {
    parts.push(`${name}: ${value}`);
    const basic = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
    if (basic?.[1]) parts.push(Buffer.from(basic[1], 'base64').toString('utf8'));
  }
  return parts.join('\n');
}

export function createFetchBridge(options: FetchBridgeOptions): SandboxFetch {
  const { http, secrets, log } = options;
  const inScope = secrets.map((secret) => secret.record);
  /** Why a request or hop to `host` carrying `carried` is refused, if it is. */
  const refused = (host: string, carried: readonly SecretRecord[], redirected: boolean) => {
    const secret = secretRefusedFor(host, carried, []);
    return scopeRefusal(host, inScope, redirected) ?? (secret && refusal(secret, host, [], redirected));
  };
  return async (request, signal) => {
    const started = options.now();
    const entry: FetchLogEntry = { method: request.method, url: request.url, duration_ms: 0 };
    log.push(entry);
    try {
      const url = URL.parse(request.url);
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        throw new EgressError('INVALID_URL', 'fetch takes an absolute http or https URL');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (!FORBIDDEN_HEADERS.has(name.toLowerCase()) && !name.toLowerCase().startsWith('proxy-'))
          headers[name] = value;
      }
      const text = carriedText(request, headers);
      const carried = secrets
        .filter((secret) => redactorFor([{ name: secret.record.name, value: secret.value }]).finds(text))
        .map((secret) => secret.record);
      const refusedNow = refused(url.hostname, carried, false);
      if (refusedNow) throw refusedNow;

      const left = options.deadline - options.now();
      const response = await http.request({
        method: request.method,
        url: url.toString(),
        headers,
        ...(request.body === null ? {} : { body: request.body }),
        timeoutMs: Math.max(1, Math.min(options.timeoutMs, left)),
        signal,
        beforeRedirect: redirectGuard((host) => refused(host, carried, true)),
      });
      entry.status = response.status;
      return {
        status: response.status,
        statusText: STATUS_CODES[response.status] ?? '',
        headers: response.headers,
        body: decoder.decode(response.body),
        url: response.url,
      };
    } catch (error) {
      const message =
        error instanceof EgressError
          ? `${error.code}: ${error.message}`
          : `fetch failed: ${error instanceof Error ? error.message : String(error)}`;
      entry.error = message;
      throw new Error(message, { cause: error });
    } finally {
      entry.duration_ms = options.now() - started;
    }
  };
}
