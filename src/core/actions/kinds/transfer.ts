/**
 * The transfer kind's configuration (Talkover's `transfer`): a call-control directive for a voice runtime,
 * which calls nothing itself. The destination is a fixed E.164 number, or one placeholder the agent (or the
 * runtime's context) fills, and then it must be one of `allowed_destinations` (docs/security.md B12). Every
 * number is normalised strictly with core/phone.ts before it is compared: anything that could dial other
 * than the digits shown (an extension, a pause, a URI, non-ASCII digits) is refused, never cleaned up.
 * Execution lives in app/kinds/transfer/.
 */
import Type, { type Static } from 'typebox';
import { E164_MAX_DIGITS, E164_MIN_DIGITS, normalizeE164 } from '../../phone.ts';
import { referencesIn, soleReference } from '../../templates/index.ts';
import type { DefinitionIssue } from '../model.ts';
import type { ErrorCategory } from '../outcomes.ts';
import { checkSpokenTemplate } from '../spoken.ts';
import type { Variable } from '../variables.ts';

export const TRANSFER_MAX_DESTINATIONS = 100;

export const TransferConfigSchema = Type.Object(
  {
    destination: Type.String({
      minLength: 1,
      maxLength: 100,
      description:
        'An E.164 number (+14155550100; spaces, dashes, dots and parentheses are dropped), or one placeholder ({{transfer_to}}) naming a variable or context value; then it must be one of allowed_destinations',
    }),
    allowed_destinations: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 40 }), {
        maxItems: TRANSFER_MAX_DESTINATIONS,
        description:
          'The only numbers a transfer may reach, in E.164. Required when destination is a placeholder; with a fixed destination it must contain it',
      }),
    ),
    announce: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1_000,
        description:
          'What the person receiving the transfer hears before the caller is connected; may use {{variables}}, never secrets',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Calls nothing: a run succeeds with output {"directive": {"type": "transfer", "destination": "+14155550100", "announce"?: "..."}} for the voice runtime, or fails with invalid_input (not plainly an E.164 number) or blocked (not allowed)',
  },
);
export type TransferConfigInput = Static<typeof TransferConfigSchema>;

/** The stored form: numbers in E.164 where they normalise (check() reports the ones that do not). */
export interface TransferConfig {
  /** `+14155550100` or `{{name}}`. */
  destination: string;
  /** E.164, deduplicated; empty when the destination is fixed and no list was given. */
  allowed_destinations: string[];
  announce: string | null;
}

/** What a successful transfer returns as its output: the runtime dials `destination`, nothing else. */
export interface TransferDirective {
  type: 'transfer';
  destination: string;
  announce?: string;
}

/** Output paths a speak_on_receive message may use. */
export const TRANSFER_OUTPUT_PATHS = ['directive.type', 'directive.destination', 'directive.announce'];

const normalized = (number: string): string => {
  const result = normalizeE164(number);
  return result.ok ? result.e164 : number;
};

export function normalizeTransferConfig(input: TransferConfigInput): TransferConfig {
  const destination = input.destination.trim();
  return {
    destination: soleReference(destination) === undefined ? normalized(destination) : destination,
    allowed_destinations: [...new Set((input.allowed_destinations ?? []).map(normalized))],
    announce: input.announce ?? null,
  };
}

/** The placeholder a templated destination names, or undefined for a fixed number. */
export const destinationReference = (config: Pick<TransferConfig, 'destination'>): string | undefined =>
  soleReference(config.destination);

/** The numbers a run may reach: the list, or the fixed destination alone. */
export const allowedDestinations = (config: TransferConfig): readonly string[] =>
  config.allowed_destinations.length > 0 ? config.allowed_destinations : [config.destination];

export interface TransferCheckContext {
  variables: readonly Variable[];
  contextVariables: readonly string[];
}

const DESTINATION_TYPES: ReadonlySet<string> = new Set(['string', 'phone', 'enum']);

export function checkTransferConfig(
  config: TransferConfig,
  context: TransferCheckContext,
): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  config.allowed_destinations.forEach((number, i) => {
    const result = normalizeE164(number);
    if (!result.ok)
      issues.push({
        path: `/transfer/allowed_destinations/${i}`,
        message: `"${number}" is not a number a transfer may reach: ${result.reason}`,
      });
  });

  const ref = destinationReference(config);
  if (ref === undefined) {
    if (referencesIn(config.destination).length > 0) {
      issues.push({
        path: '/transfer/destination',
        message:
          'A destination is an E.164 number or exactly one placeholder ({{transfer_to}}), nothing around it',
      });
    } else {
      const result = normalizeE164(config.destination);
      if (!result.ok)
        issues.push({
          path: '/transfer/destination',
          message: `Not a number to transfer to: ${result.reason}`,
        });
      else if (config.allowed_destinations.length > 0 && !config.allowed_destinations.includes(result.e164))
        issues.push({
          path: '/transfer/destination',
          message: `${result.e164} is not among allowed_destinations; add it there or leave the list out`,
        });
    }
  } else {
    issues.push(...checkDestinationReference(ref, config, context));
  }
  issues.push(
    ...checkSpokenTemplate(config.announce, '/transfer/announce', {
      variables: context.variables,
      contextVariables: context.contextVariables,
    }),
  );
  return issues;
}

function checkDestinationReference(
  ref: string,
  config: TransferConfig,
  context: TransferCheckContext,
): DefinitionIssue[] {
  const path = '/transfer/destination';
  const issues: DefinitionIssue[] = [];
  if (config.allowed_destinations.length === 0)
    issues.push({
      path: '/transfer/allowed_destinations',
      message: `A destination taken from {{${ref}}} needs allowed_destinations: the numbers the agent may choose from`,
    });
  const variable = context.variables.find((v) => v.name === ref);
  if (variable === undefined) {
    if (!context.contextVariables.includes(ref))
      issues.push({
        path,
        message: `{{${ref}}} is not a variable or a context_variables entry of this action`,
      });
    return issues;
  }
  if (!DESTINATION_TYPES.has(variable.type)) {
    issues.push({
      path,
      message: `The variable ${ref} is of type ${variable.type}; a destination needs type phone, string or enum`,
    });
  } else if (variable.type === 'enum') {
    const outside = (variable.enum ?? []).filter((option) => {
      const result = normalizeE164(option);
      return !result.ok || !config.allowed_destinations.includes(result.e164);
    });
    if (outside.length > 0)
      issues.push({
        path,
        message: `Options of ${ref} that are not allowed destinations: ${outside.join(', ')}`,
      });
  }
  return issues;
}

export type DestinationResult =
  { ok: true; destination: string } | { ok: false; category: ErrorCategory; message: string; detail: string };

/**
 * The number a run transfers to, or why not: normalised first (refusing what is not plainly a number),
 * then compared exactly with the allowed E.164 numbers. `message` is a sentence the agent can say.
 */
export function resolveTransferDestination(value: unknown, allowed: readonly string[]): DestinationResult {
  if (typeof value !== 'string' || value.trim() === '') {
    return {
      ok: false,
      category: 'invalid_input',
      message: 'I need the number to transfer the call to.',
      detail:
        value === undefined
          ? 'No destination was given'
          : `The destination must be text, not ${typeof value}`,
    };
  }
  const result = normalizeE164(value);
  if (!result.ok) {
    return {
      ok: false,
      category: 'invalid_input',
      message: `That number can't be used for a transfer: ${result.reason}.`,
      detail: `Refused destination: ${result.reason} (a destination is + and ${E164_MIN_DIGITS} to ${E164_MAX_DIGITS} ASCII digits)`,
    };
  }
  if (!allowed.includes(result.e164)) {
    return {
      ok: false,
      category: 'blocked',
      message: "I'm not allowed to transfer calls to that number.",
      detail: `${result.e164} is not among the action's allowed destinations`,
    };
  }
  return { ok: true, destination: result.e164 };
}
