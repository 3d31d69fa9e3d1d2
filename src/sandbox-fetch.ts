/**
 * Loaded by each sandbox worker thread (container.ts names it to the sandbox): that thread's own guarded
 * egress client, made with the process's egress options, and the code kind's fetch bridge over it. A
 * guest's fetch then goes out from the thread the code runs in, under the same guard and secret
 * binding as every other outbound request, without a round trip through the main thread.
 */
import { createGuardedHttpClient } from './adapters/http-client/guarded-client.ts';
import type { EgressOptions } from './adapters/http-client/options.ts';
import { createFetchBridge } from './app/kinds/code/fetch-bridge.ts';
import type { SandboxFetchFactory } from './core/ports/sandbox.ts';

export function createSandboxFetch(options: EgressOptions): SandboxFetchFactory {
  const http = createGuardedHttpClient(options);
  return (scope, log) =>
    createFetchBridge({
      http,
      now: () => Date.now(),
      secrets: scope.secrets,
      timeoutMs: scope.timeoutMs,
      deadline: scope.deadline,
      log,
    });
}
