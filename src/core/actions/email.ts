/**
 * Email addresses: trimmed, the domain lower-cased (the local part is left as given: it may be
 * case-sensitive), and the spoken form a transcript produces ("john dot smith at example dot com")
 * accepted. Only the common dot-atom form is allowed: no quoted local parts, IP literals, comments or
 * non-ASCII, which an upstream API would likely refuse anyway.
 */
export type EmailResult = { ok: true; email: string } | { ok: false; reason: string };

export const EMAIL_EXAMPLE = 'name@example.com';

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

const SPOKEN: readonly [RegExp, string][] = [
  [/\s+at\s+/gi, '@'],
  [/\s+dot\s+/gi, '.'],
  [/\s+(?:underscore)\s+/gi, '_'],
  [/\s+(?:dash|hyphen)\s+/gi, '-'],
  [/\s+plus\s+/gi, '+'],
];

export function normalizeEmail(input: string, maxLength: number): EmailResult {
  let text = input.trim();
  if (text.length > maxLength * 2) return { ok: false, reason: 'too long to be an email address' };
  if (!text.includes('@') && /\sat\s/i.test(text)) {
    for (const [spoken, written] of SPOKEN) text = text.replace(spoken, written);
    text = text.replace(/\s+/g, '');
  }
  if (/^mailto:/i.test(text)) return { ok: false, reason: 'give the address itself, without mailto:' };

  const at = text.lastIndexOf('@');
  if (at <= 0 || text.indexOf('@') !== at) return { ok: false, reason: 'an email address has one @' };
  const local = text.slice(0, at);
  const domain = text.slice(at + 1).toLowerCase();
  if (local.length > 64 || !LOCAL_PART.test(local))
    return { ok: false, reason: 'the part before the @ is not valid' };

  const labels = domain.split('.');
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((label) => DOMAIN_LABEL.test(label)) ||
    !TOP_LEVEL.test(labels[labels.length - 1]!)
  ) {
    return { ok: false, reason: 'the domain after the @ is not valid' };
  }
  const email = `${local}@${domain}`;
  if (email.length > maxLength) return { ok: false, reason: `at most ${maxLength} characters` };
  return { ok: true, email };
}
