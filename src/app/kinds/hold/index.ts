/**
 * The hold kind: returns a directive telling the voice runtime to hold the call for some seconds and then
 * resume (docs/security.md B14). A requested duration over the operator's cap is cut to the cap, and the
 * record says so.
 */
import {
  HOLD_MAX_SECONDS,
  HOLD_OUTPUT_PATHS,
  HoldConfigSchema,
  checkHoldConfig,
  normalizeHoldConfig,
  resolveHoldSeconds,
  type HoldConfig,
  type HoldConfigInput,
  type HoldDirective,
} from '../../../core/actions/kinds/hold.ts';
import { compileInputSchema, type JsonSchemaObject } from '../../../core/actions/variables.ts';
import type { Clock } from '../../../core/ports/clock.ts';
import { soleReference } from '../../../core/templates/index.ts';
import type { ActionKind, RunContext, RunOutcome } from '../kind.ts';
import { flatLookup } from '../lookup.ts';

export interface HoldKindDeps {
  clock: Clock;
  /** The operator's cap in seconds, at most HOLD_MAX_SECONDS (the default). */
  maxSeconds?: number;
}

export function createHoldKind(deps: HoldKindDeps): ActionKind<HoldConfig> {
  const maxSeconds = Math.min(deps.maxSeconds ?? HOLD_MAX_SECONDS, HOLD_MAX_SECONDS);

  async function run(config: HoldConfig, context: RunContext): Promise<RunOutcome> {
    let value: unknown = config.seconds;
    if (typeof config.seconds === 'string') {
      const lookup = flatLookup(context.action, context.inputs, context.context, new Date(deps.clock.now()));
      const found = lookup(soleReference(config.seconds) ?? '');
      value = found.found ? found.value : undefined;
    }
    const resolved = resolveHoldSeconds(value, maxSeconds);
    if (!resolved.ok) {
      const { message, detail } = resolved;
      return { status: 'failed', error: { category: 'invalid_input', message, detail }, attempts: 0 };
    }
    if (context.dryRun) return { status: 'dry_run', request: null, attempts: 0 };
    const directive: HoldDirective = { type: 'hold', seconds: resolved.seconds };
    const capped = resolved.requested > resolved.seconds;
    return {
      status: 'succeeded',
      output: { directive },
      attempts: 1,
      ...(capped ? { extra: { requested_seconds: resolved.requested, capped_at: maxSeconds } } : {}),
    };
  }

  return {
    kind: 'hold',
    configSchema: HoldConfigSchema,
    normalize: (input) => normalizeHoldConfig(input as HoldConfigInput),
    check: (config, context) => checkHoldConfig(config, { ...context, maxSeconds }),
    secretIds: () => [],
    urls: () => [],
    outputPaths: () => HOLD_OUTPUT_PATHS,
    executionModes: ['sync'],
    /** The variable the seconds come from shows the cap, so a model asks for no more. */
    inputSchema(config, variables): JsonSchemaObject {
      const schema = compileInputSchema(variables);
      const ref = typeof config.seconds === 'string' ? soleReference(config.seconds) : undefined;
      const property = ref === undefined ? undefined : schema.properties?.[ref];
      if (ref === undefined || property === undefined) return schema;
      const maximum =
        typeof property.maximum === 'number' ? Math.min(property.maximum, maxSeconds) : maxSeconds;
      const minimum = typeof property.minimum === 'number' ? Math.max(property.minimum, 1) : 1;
      return {
        ...schema,
        properties: { ...schema.properties, [ref]: { ...property, minimum, maximum } },
      };
    },
    run,
  };
}
