/**
 * The hold kind's configuration (Talkover's `hold`): a call-control directive telling a voice runtime to
 * hold the call for some seconds and then resume. The seconds are fixed or come from one placeholder; the
 * operator's cap (docs/security.md, "Limits": 300 s) bounds both, a fixed value when saved and an input when
 * run (B14: longer requests are cut to the cap, not refused, and the call resumes). Execution lives in
 * app/kinds/hold/.
 */
import Type, { type Static } from 'typebox';
import { soleReference } from '../../templates/index.ts';
import type { DefinitionIssue } from '../model.ts';
import type { Variable } from '../variables.ts';

/** The longest hold (docs/security.md B14, "Limits"); an operator may set a lower cap, never a higher one. */
export const HOLD_MAX_SECONDS = 300;

export const HoldConfigSchema = Type.Object(
  {
    seconds: Type.Union(
      [
        Type.Integer({ minimum: 1, maximum: HOLD_MAX_SECONDS }),
        Type.String({
          pattern: '^\\s*\\{\\{\\s*[A-Za-z_][A-Za-z0-9_]*\\s*\\}\\}\\s*$',
          description: 'One placeholder naming an integer variable or a context value: {{hold_duration}}',
        }),
      ],
      {
        description: `Seconds to hold, 1 to ${HOLD_MAX_SECONDS} (the operator may cap it lower), or {{variable}}: a longer value given at run time is cut to the cap`,
      },
    ),
  },
  {
    additionalProperties: false,
    description:
      'Calls nothing: a run succeeds with output {"directive": {"type": "hold", "seconds": 30}}; the voice runtime holds the call that long, then resumes it',
  },
);
export type HoldConfigInput = Static<typeof HoldConfigSchema>;

export interface HoldConfig {
  /** A whole number of seconds, or `{{name}}`. */
  seconds: number | string;
}

/** What a successful hold returns as its output. The runtime resumes the call after `seconds`. */
export interface HoldDirective {
  type: 'hold';
  seconds: number;
}

export const HOLD_OUTPUT_PATHS = ['directive.type', 'directive.seconds'];

export const normalizeHoldConfig = (input: HoldConfigInput): HoldConfig => ({
  seconds: typeof input.seconds === 'string' ? input.seconds.trim() : input.seconds,
});

export interface HoldCheckContext {
  variables: readonly Variable[];
  contextVariables: readonly string[];
  maxSeconds: number;
}

export function checkHoldConfig(config: HoldConfig, context: HoldCheckContext): DefinitionIssue[] {
  const path = '/hold/seconds';
  if (typeof config.seconds === 'number') {
    return config.seconds > context.maxSeconds
      ? [{ path, message: `A hold may last at most ${context.maxSeconds} seconds on this server` }]
      : [];
  }
  const ref = soleReference(config.seconds) ?? config.seconds;
  const variable = context.variables.find((v) => v.name === ref);
  if (variable === undefined) {
    return context.contextVariables.includes(ref)
      ? []
      : [{ path, message: `{{${ref}}} is not a variable or a context_variables entry of this action` }];
  }
  return variable.type === 'integer'
    ? []
    : [{ path, message: `The variable ${ref} is of type ${variable.type}; hold seconds need type integer` }];
}

export type HoldSecondsResult =
  { ok: true; seconds: number; requested: number } | { ok: false; message: string; detail: string };

/** Whole seconds from a run's value, cut to the cap; a numeric string (from context) is accepted. */
export function resolveHoldSeconds(value: unknown, maxSeconds: number): HoldSecondsResult {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isInteger(number) || number < 1) {
    return {
      ok: false,
      message: `How long should I hold? Give a whole number of seconds, from 1 to ${maxSeconds}.`,
      detail:
        value === undefined
          ? 'No hold duration was given'
          : `The hold duration must be a whole number of seconds of at least 1, not ${String(JSON.stringify(value)).slice(0, 40)}`,
    };
  }
  return { ok: true, seconds: Math.min(number, maxSeconds), requested: number };
}
