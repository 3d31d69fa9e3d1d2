/**
 * The code kind's configuration (Langdock's code actions): the body of an async function that sees
 * frozen `inputs`, read-only `secrets` and a guarded `fetch`, and returns a JSON value. Per-action limits
 * may tighten or raise the operator's defaults up to the operator's caps. Execution lives in
 * app/kinds/code/.
 */
import Type, { type Static } from 'typebox';
import type { DefinitionIssue } from '../model.ts';

export const CODE_SOURCE_MAX_LENGTH = 40_000;

export const CodeConfigSchema = Type.Object(
  {
    source: Type.String({
      maxLength: CODE_SOURCE_MAX_LENGTH,
      description:
        'JavaScript: the body of an async function with `inputs`, `secrets` and `fetch` in scope; `return` a JSON value',
    }),
    integration_id: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
        description: 'The integration whose secrets the code reads; the same as the action’s integration_id',
      }),
    ),
    timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 100,
        maximum: 600_000,
        description: 'Wall clock for the whole run, fetches included (default and cap set by the operator)',
      }),
    ),
    memory_mb: Type.Optional(
      Type.Integer({
        minimum: 8,
        maximum: 4_096,
        description: 'Memory of the run (operator default and cap)',
      }),
    ),
    max_fetches: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 10_000, description: 'fetch calls the run may make' }),
    ),
  },
  { additionalProperties: false },
);
export type CodeConfigInput = Static<typeof CodeConfigSchema>;

/** What is stored: the integration lives on the action's envelope. */
export interface CodeConfig {
  source: string;
  timeout_ms?: number;
  memory_mb?: number;
  max_fetches?: number;
}

export function normalizeCodeConfig(input: CodeConfigInput): CodeConfig {
  return {
    source: input.source,
    ...(input.timeout_ms === undefined ? {} : { timeout_ms: input.timeout_ms }),
    ...(input.memory_mb === undefined ? {} : { memory_mb: input.memory_mb }),
    ...(input.max_fetches === undefined ? {} : { max_fetches: input.max_fetches }),
  };
}

/** The operator's largest values for the per-action limits. */
export interface CodeLimitCaps {
  timeoutMs: number;
  memoryMb: number;
  maxFetches: number;
}

export function checkCodeLimits(config: CodeConfig, caps: CodeLimitCaps): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const over = (field: string, value: number | undefined, cap: number, unit: string) => {
    if (value !== undefined && value > cap)
      issues.push({
        path: `/code/${field}`,
        message: `${field} may be at most ${cap}${unit} on this server (the operator's cap)`,
      });
  };
  over('timeout_ms', config.timeout_ms, caps.timeoutMs, ' ms');
  over('memory_mb', config.memory_mb, caps.memoryMb, ' MB');
  over('max_fetches', config.max_fetches, caps.maxFetches, '');
  return issues;
}

const LITERAL_URL_HOST = /\bhttps?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])/g;

/**
 * The hosts a source names in literal URLs (`'https://api.example.com/users/' + id`): what its author
 * means it to reach, checked against where its secrets are bound when it is saved.
 */
export function literalHosts(source: string): string[] {
  const hosts = new Set<string>();
  for (const match of source.matchAll(LITERAL_URL_HOST)) {
    const host = (match[1] ?? '').toLowerCase().replace(/\.$/, '');
    if (host !== '' && !host.startsWith('.') && !host.includes('..')) hosts.add(host);
  }
  return [...hosts];
}
