/**
 * What an agent can do with a failure: a category it can reason about and a sentence it can say (the Custom
 * Actions guide's error handling for 404, 401, 500 and timeouts; docs/actions.md, "Results"). An action may
 * override the sentence per status code, status class (`5xx`) or category.
 */
export const ERROR_CATEGORIES = [
  'invalid_input',
  'not_found',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'upstream_error',
  'timeout',
  'blocked',
  'response_too_large',
  'sandbox_error',
  'declined',
  'secret_unavailable',
  'cancelled',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export const DEFAULT_MESSAGES: Readonly<Record<ErrorCategory, string>> = {
  invalid_input: 'Some of the details are missing or not in the expected form.',
  not_found: "I couldn't find a record matching those details. Could you double-check them?",
  unauthorized: "I can't get into that system right now: it did not accept our credentials.",
  forbidden: "That system doesn't allow me to do this.",
  rate_limited: 'That system is busy right now. Please try again in a moment.',
  upstream_error: "I'm having trouble reaching that system right now.",
  timeout: 'The system is taking longer than expected to respond.',
  blocked: "That request isn't allowed.",
  response_too_large: 'That system sent back more information than I can handle.',
  sandbox_error: 'Something went wrong while running that action.',
  declined: 'That action was not confirmed, so it did not run.',
  secret_unavailable: "I can't use that system right now: its stored credentials can't be read.",
  cancelled: 'That action was stopped before it finished.',
};

/** The category of an upstream HTTP status that is not a success. */
export function categoryOfStatus(status: number): ErrorCategory {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status === 400 || status === 409 || status === 422) return 'invalid_input';
  return 'upstream_error';
}

/** The sentence for a failure: the action's override for the exact status, its class, or the category. */
export function messageFor(
  category: ErrorCategory,
  status: number | undefined,
  overrides: Readonly<Record<string, string>> | undefined,
): string {
  if (overrides) {
    const candidates =
      status === undefined ? [category] : [String(status), `${String(status).charAt(0)}xx`, category];
    for (const key of candidates) {
      const text = overrides[key];
      if (text) return text;
    }
  }
  return DEFAULT_MESSAGES[category];
}
