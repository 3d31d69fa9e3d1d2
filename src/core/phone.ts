/**
 * Strict E.164 normalisation. Transfer destinations are compared against an allow-list after this runs
 * (docs/security.md B12), so anything that could dial something other than the digits shown is refused rather
 * than cleaned up: letters, extensions, pauses, DTMF tones, URIs, non-ASCII digits and a trunk "(0)".
 */
export type E164Result = { ok: true; e164: string } | { ok: false; reason: string };

/** ITU-T E.164: at most 15 digits including the country code. 8 is the shortest we accept as dialable. */
export const E164_MIN_DIGITS = 8;
export const E164_MAX_DIGITS = 15;
export const E164_PATTERN = '^\\+[1-9][0-9]{7,14}$';

/** Longer input than this is not a phone number, however it is punctuated. */
const MAX_INPUT_LENGTH = 40;

const SEPARATORS = new Set([' ', '-', '.', '(', ')']);

/** The first refusal that applies, checked in this order, so the reason names the real problem. */
const REFUSALS: readonly { test: RegExp; reason: string }[] = [
  { test: /^\s*(tel|sip|sips|callto|wtai)\s*:/i, reason: 'give the number itself, not a tel: or sip: URI' },
  {
    test: /[^\x20-\x7e]/,
    reason: 'use plain ASCII digits; other characters (such as full-width digits) are refused',
  },
  {
    test: /(ext|x|;ext=|#)\s*\.?\s*\d*\s*$/i,
    reason: 'extensions are not allowed; give only the number to dial',
  },
  { test: /[,;]|\d\s*[wWpP]\s*\d/, reason: 'pauses and waits (",", ";", "w", "p") are not allowed' },
  { test: /[#*]/, reason: 'tone characters "#" and "*" are not allowed' },
  { test: /[A-Za-z]/, reason: 'letters are not allowed; give the number as digits' },
];

export function normalizeE164(input: string): E164Result {
  if (typeof input !== 'string') return { ok: false, reason: 'a phone number must be text' };
  if (input.length > MAX_INPUT_LENGTH) return { ok: false, reason: 'too long to be a phone number' };
  for (const { test, reason } of REFUSALS) if (test.test(input)) return { ok: false, reason };

  const text = input.trim();
  let rest: string;
  if (text.startsWith('+')) rest = text.slice(1);
  else if (text.startsWith('00')) rest = text.slice(2);
  else return { ok: false, reason: 'include the country code, starting with + (such as +14155550100)' };

  let digits = '';
  let openParen = -1;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c === '(') {
      if (openParen !== -1) return { ok: false, reason: 'parentheses cannot nest' };
      openParen = digits.length;
    } else if (c === ')') {
      if (openParen === -1) return { ok: false, reason: 'unbalanced parentheses' };
      // "+44 (0) 20 ..." would dial an extra 0: the trunk prefix is not part of an international number.
      if (digits.slice(openParen) === '0') return { ok: false, reason: 'remove the trunk prefix "(0)"' };
      openParen = -1;
    } else if (!SEPARATORS.has(c)) {
      return {
        ok: false,
        reason: `the character "${c}" is not allowed; use digits, spaces, "-", "." and "()"`,
      };
    }
  }
  if (openParen !== -1) return { ok: false, reason: 'unbalanced parentheses' };
  if (digits.length < E164_MIN_DIGITS || digits.length > E164_MAX_DIGITS) {
    return {
      ok: false,
      reason: `an international number has ${E164_MIN_DIGITS} to ${E164_MAX_DIGITS} digits after the +`,
    };
  }
  if (digits[0] === '0') return { ok: false, reason: 'the country code cannot start with 0' };
  return { ok: true, e164: `+${digits}` };
}
