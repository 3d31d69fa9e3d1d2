/**
 * The code kind: run the action's JavaScript in the sandbox with its inputs, the secrets its action and
 * integration declare, and a fetch bridged to the guarded egress client; turn what happened into an
 * outcome the agent and the author can act on (docs/code-actions.md; threats: docs/security.md C).
 */
import { Script } from 'node:vm';
import {
  CodeConfigSchema,
  checkCodeLimits,
  literalHosts,
  normalizeCodeConfig,
  type CodeConfig,
  type CodeConfigInput,
} from '../../../core/actions/kinds/code.ts';
import type { DefinitionIssue } from '../../../core/actions/model.ts';
import { DEFAULT_MESSAGES, type ErrorCategory } from '../../../core/actions/outcomes.ts';
import { redactorFor } from '../../../core/redaction.ts';
import type { Clock } from '../../../core/ports/clock.ts';
import type { HttpClient } from '../../../core/ports/http-client.ts';
import type { Sandbox, SandboxErrorCode, SandboxLimits } from '../../../core/ports/sandbox.ts';
import { hostMatches, unboundSecretWarning } from '../host-binding.ts';
import type { ActionKind, RunContext, RunOutcome, SecretInScope } from '../kind.ts';
import { createFetchBridge, type FetchLogEntry } from './fetch-bridge.ts';

/** The operator's defaults and caps (docs/security.md, "Limits"), from the SWITCHBOARD_SANDBOX_* settings. */
export interface SandboxSettings {
  timeoutMs: number;
  timeoutCapMs: number;
  memoryMb: number;
  memoryCapMb: number;
  maxFetches: number;
  maxFetchesCap: number;
  concurrentFetches: number;
  outputBytes: number;
  logBytes: number;
}

export interface CodeKindDeps {
  sandbox: Sandbox;
  http: HttpClient;
  clock: Clock;
  settings: SandboxSettings;
  /** The deadline of one outbound call (SWITCHBOARD_EGRESS_TIMEOUT_MS); a fetch also ends with the run. */
  fetchTimeoutMs: number;
}

/** JSON nesting a returned value may have (docs/security.md, "Limits"). */
const OUTPUT_DEPTH = 32;
/** The longest thrown message passed on to the agent. */
const MESSAGE_LENGTH = 500;

const CATEGORY_OF: Readonly<Record<SandboxErrorCode, ErrorCategory>> = {
  SANDBOX_TIMEOUT: 'timeout',
  SANDBOX_MEMORY: 'sandbox_error',
  SANDBOX_ERROR: 'sandbox_error',
  OUTPUT_INVALID: 'sandbox_error',
  OUTPUT_TOO_LARGE: 'response_too_large',
  SANDBOX_CRASHED: 'sandbox_error',
  SANDBOX_CANCELLED: 'cancelled',
};

/** A syntax error in the source, found at save time, with its line in the author's source. */
export function syntaxProblem(source: string): DefinitionIssue | undefined {
  try {
    // compiled, never run: the same wrapping the sandbox uses, so `await` and `return` are allowed
    new Script(`(async function () {\n${source}\n})`, { filename: 'action.js' });
    return undefined;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const line = /action\.js:(\d+)/.exec(error.stack ?? '')?.[1];
    const where = line ? ` on line ${Math.max(1, Number(line) - 1)}` : '';
    return { path: '/code/source', message: `The code does not compile${where}: ${error.message}` };
  }
}

export function createCodeKind(deps: CodeKindDeps): ActionKind<CodeConfig> {
  const { settings } = deps;

  function limitsFor(config: CodeConfig): SandboxLimits {
    return {
      timeoutMs: Math.min(config.timeout_ms ?? settings.timeoutMs, settings.timeoutCapMs),
      memoryBytes: Math.min(config.memory_mb ?? settings.memoryMb, settings.memoryCapMb) * 1024 * 1024,
      outputBytes: settings.outputBytes,
      outputDepth: OUTPUT_DEPTH,
      logBytes: settings.logBytes,
      maxFetches: Math.min(config.max_fetches ?? settings.maxFetches, settings.maxFetchesCap),
      maxConcurrentFetches: settings.concurrentFetches,
    };
  }

  async function run(config: CodeConfig, context: RunContext): Promise<RunOutcome> {
    if (context.dryRun) return { status: 'dry_run', request: null, attempts: 0 };
    const resolved = await Promise.all(
      context.secrets.declaredNames.map((name) => context.secrets.byName(name)),
    );
    const secrets: Record<string, string> = {};
    context.secrets.declaredNames.forEach((name, i) => {
      secrets[name] = resolved[i]?.value ?? '';
    });
    const limits = limitsFor(config);
    const fetches: FetchLogEntry[] = [];
    const scope = {
      secrets: resolved,
      timeoutMs: deps.fetchTimeoutMs,
      deadline: deps.clock.now() + limits.timeoutMs,
    };
    const result = await deps.sandbox.run({
      source: config.source,
      inputs: context.inputs,
      secrets,
      limits,
      // a sandbox that makes the calls from its own threads takes the scope; another calls this
      fetch: createFetchBridge({ http: deps.http, now: () => deps.clock.now(), ...scope, log: fetches }),
      fetchScope: scope,
      signal: context.signal,
    });
    const extra = {
      logs: result.logs,
      ...(result.logsTruncated ? { logs_truncated: true } : {}),
      fetches: result.fetchLog ?? fetches,
    };
    if (result.ok) {
      const leaked = leakedSecret(result.value, resolved);
      if (leaked) {
        return {
          status: 'failed',
          error: {
            category: 'sandbox_error',
            code: 'SECRET_IN_OUTPUT',
            message: DEFAULT_MESSAGES.sandbox_error,
            detail: `The code returned the value of secret ${leaked}; secrets may be used by the code but never returned. The output was discarded.`,
          },
          attempts: 1,
          extra,
        };
      }
      return { status: 'succeeded', output: result.value ?? null, attempts: 1, extra };
    }
    const category = CATEGORY_OF[result.code];
    const where = result.line === undefined ? '' : ` (line ${result.line})`;
    return {
      status: 'failed',
      error: {
        category,
        code: result.code,
        // what the author threw is meant for the agent ("User not found"); other failures get the category's sentence
        message:
          result.code === 'SANDBOX_ERROR'
            ? result.message.slice(0, MESSAGE_LENGTH) || DEFAULT_MESSAGES.sandbox_error
            : DEFAULT_MESSAGES[category],
        detail: `${result.message}${where}`,
        ...(result.line === undefined ? {} : { line: result.line }),
      },
      attempts: 1,
      extra,
    };
  }

  return {
    kind: 'code',
    configSchema: CodeConfigSchema,
    normalize: (input) => normalizeCodeConfig(input as CodeConfigInput),
    check(config) {
      const issues = checkCodeLimits(config, {
        timeoutMs: settings.timeoutCapMs,
        memoryMb: settings.memoryCapMb,
        maxFetches: settings.maxFetchesCap,
      });
      const syntax = syntaxProblem(config.source);
      if (syntax) issues.push(syntax);
      return issues;
    },
    secretIds: () => [],
    urls: () => [],
    readsDeclaredSecrets: true,
    warnings: sourceWarnings,
    run,
  };
}

/**
 * What a code action's author should know at save: a secret in scope bound to no host makes every fetch
 * refuse; a host the source names that no secret in scope is bound to will be refused.
 */
function sourceWarnings(config: CodeConfig, inScope: readonly SecretInScope[]): DefinitionIssue[] {
  const unbound = inScope.filter(({ secret }) => secret.allowedHosts.length === 0);
  if (unbound.length > 0) {
    return unbound.map(({ name, declaredBy, secret }) =>
      declaredBy === 'action'
        ? { path: `/secrets/${name}`, message: unboundSecretWarning(name, secret, '') }
        : { path: '/integration_id', message: unboundSecretWarning(name, secret, ' (of the integration)') },
    );
  }
  const bound = inScope.flatMap(({ secret }) => secret.allowedHosts);
  if (bound.length === 0) return [];
  return literalHosts(config.source)
    .filter((host) => !bound.some((pattern) => hostMatches(host, pattern)))
    .map((host) => ({
      path: '/code/source',
      message:
        `The source names ${host}, which no secret this code can read is bound to, so a fetch to it will be ` +
        'refused; add it to the allowed_hosts of the secret it is for if the code should reach it.',
    }));
}

/** The name of a secret whose value (in any form the redactor knows) is in the returned value. */
function leakedSecret(
  value: unknown,
  secrets: readonly { record: { name: string }; value: string }[],
): string | undefined {
  if (secrets.length === 0) return undefined;
  const text = JSON.stringify(value);
  return secrets.find(
    (secret) => redactorFor([{ name: secret.record.name, value: secret.value }]).json(value).json !== text,
  )?.record.name;
}
