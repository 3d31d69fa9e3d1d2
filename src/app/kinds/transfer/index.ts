/**
 * The transfer kind: no call goes out from here. It settles the destination (normalised, then compared
 * with the allowed numbers) and returns a directive the voice runtime obeys (docs/security.md B12). A
 * refused destination fails the execution with a sentence the agent can say.
 */
import {
  TRANSFER_OUTPUT_PATHS,
  TransferConfigSchema,
  allowedDestinations,
  checkTransferConfig,
  destinationReference,
  normalizeTransferConfig,
  resolveTransferDestination,
  type TransferConfig,
  type TransferConfigInput,
  type TransferDirective,
} from '../../../core/actions/kinds/transfer.ts';
import { renderSpoken } from '../../../core/actions/spoken.ts';
import { compileInputSchema, type JsonSchemaObject } from '../../../core/actions/variables.ts';
import type { Clock } from '../../../core/ports/clock.ts';
import type { ActionKind, RunContext, RunOutcome } from '../kind.ts';
import { flatLookup } from '../lookup.ts';

export interface TransferKindDeps {
  clock: Clock;
}

export function createTransferKind(deps: TransferKindDeps): ActionKind<TransferConfig> {
  async function run(config: TransferConfig, context: RunContext): Promise<RunOutcome> {
    const lookup = flatLookup(context.action, context.inputs, context.context, new Date(deps.clock.now()));
    const ref = destinationReference(config);
    const given = ref === undefined ? { found: true, value: config.destination } : lookup(ref);
    const resolved = resolveTransferDestination(
      given.found ? given.value : undefined,
      allowedDestinations(config),
    );
    if (!resolved.ok) {
      const { category, message, detail } = resolved;
      return { status: 'failed', error: { category, message, detail }, attempts: 0 };
    }
    if (context.dryRun) return { status: 'dry_run', request: null, attempts: 0 };
    const directive: TransferDirective = { type: 'transfer', destination: resolved.destination };
    let extra: Record<string, unknown> | undefined;
    if (config.announce !== null) {
      const announce = renderSpoken(config.announce, 'announce', lookup);
      if ('text' in announce) directive.announce = announce.text;
      else extra = { announce_omitted: announce.omitted };
    }
    return { status: 'succeeded', output: { directive }, attempts: 1, ...(extra ? { extra } : {}) };
  }

  return {
    kind: 'transfer',
    configSchema: TransferConfigSchema,
    normalize: (input) => normalizeTransferConfig(input as TransferConfigInput),
    check: (config, context) => checkTransferConfig(config, context),
    secretIds: () => [],
    urls: () => [],
    outputPaths: () => TRANSFER_OUTPUT_PATHS,
    executionModes: ['sync'],
    /** The variable the destination comes from lists the allowed numbers, so a model offers only those. */
    inputSchema(config, variables): JsonSchemaObject {
      const schema = compileInputSchema(variables);
      const ref = destinationReference(config);
      const property = ref === undefined ? undefined : schema.properties?.[ref];
      if (ref === undefined || property === undefined || 'enum' in property) return schema;
      return {
        ...schema,
        properties: { ...schema.properties, [ref]: { ...property, enum: config.allowed_destinations } },
      };
    },
    run,
  };
}
