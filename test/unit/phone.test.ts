import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { E164_PATTERN, normalizeE164 } from '../../src/core/phone.ts';

describe('normalizeE164', () => {
  it.each([
    ['already E.164', '+14155550100', '+14155550100'],
    ['spaces, parentheses and a dash', '+1 (415) 555-0100', '+14155550100'],
    ['spaces', '+44 20 7946 0958', '+442079460958'],
    ['the 00 international prefix', '0044 20 7946 0958', '+442079460958'],
    ['00 followed by a separator', '00 33 1 23 45 67 89', '+33123456789'],
    ['dots', '+49.30.123456', '+4930123456'],
    ['surrounding spaces', '  +33 1 23 45 67 89 ', '+33123456789'],
    ['the Talkover example', '+1234567890', '+1234567890'],
    ['8 digits, the shortest', '+12345678', '+12345678'],
    ['15 digits, the longest', '+123456789012345', '+123456789012345'],
    // Normalising is not allow-listing: a premium-rate number is well formed, and the allow-list refuses it.
    ['a well-formed premium-rate number', '+1 900 555 0100', '+19005550100'],
  ])('accepts %s', (_name, input, e164) => {
    expect(normalizeE164(input)).toEqual({ ok: true, e164 });
  });

  it.each([
    ['no international prefix', '4155550100', 'country code'],
    ['a national trunk 0', '020 7946 0958', 'country code'],
    ['an extension with x', '+1 415 555 0100 x123', 'extensions'],
    ['an extension with ext.', '+1 415 555 0100 ext. 12', 'extensions'],
    ['an RFC 3966 extension', '+14155550100;ext=123', 'extensions'],
    ['an extension after #', '+14155550100#123', 'extensions'],
    ['a pause with commas', '+14155550100,,1234', 'pauses'],
    ['a pause with a semicolon', '+14155550100;1234', 'pauses'],
    ['a wait (w)', '+14155550100w1234', 'pauses'],
    ['a pause (p)', '+14155550100p1234', 'pauses'],
    ['a vanity number', '+1-800-FLOWERS', 'letters'],
    ['a star code in front', '*67+14155550100', 'tone'],
    ['a star inside', '+1415555*0100', 'tone'],
    ['a hash at the end', '+14155550100#', 'extensions'],
    ['a tel: URI', 'tel:+14155550100', 'URI'],
    ['an upper-case TEL: URI', 'TEL:+14155550100', 'URI'],
    ['a sip: URI', 'sip:+14155550100@evil.example', 'URI'],
    ['full-width digits', '＋１４１５５５５０１００', 'ASCII'],
    ['one full-width digit', '+1415555010０', 'ASCII'],
    ['Arabic-Indic digits', '+١٤١٥٥٥٥٠١٠٠', 'ASCII'],
    ['a zero-width space', '+1\u200b4155550100', 'ASCII'],
    ['a right-to-left override', '\u202e+14155550100', 'ASCII'],
    ['a non-breaking space', '+1\u00a04155550100', 'ASCII'],
    ['a newline', '+1\n4155550100', 'ASCII'],
    ['a tab', '+1\t4155550100', 'ASCII'],
    ['7 digits', '+1234567', '8 to 15 digits'],
    ['16 digits', '+1234567890123456', '8 to 15 digits'],
    ['a country code starting with 0', '+0123456789', 'cannot start with 0'],
    ['a trunk prefix in parentheses', '+44 (0) 20 7946 0958', 'trunk prefix'],
    ['unclosed parentheses', '+1 (415 555 0100', 'unbalanced'],
    ['a stray closing parenthesis', '+1 415) 555 0100', 'unbalanced'],
    ['nested parentheses', '+1 ((415)) 555 0100', 'nest'],
    ['two plus signs', '++14155550100', '"+"'],
    ['two numbers', '+14155550100+19005550100', '"+"'],
    ['slashes', '+1/415/555/0100', '"/"'],
    ['an underscore', '+1_415_555_0100', '"_"'],
    ['empty', '', 'country code'],
    ['a lone plus', '+', '8 to 15 digits'],
    ['a very long string', `+1${'0'.repeat(100)}`, 'too long'],
  ])('refuses %s', (_name, input, reason) => {
    const result = normalizeE164(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it('refuses anything that is not a string', () => {
    expect(normalizeE164(14155550100 as unknown as string).ok).toBe(false);
  });

  it('gives E.164 or a refusal for any text', () => {
    const pattern = new RegExp(E164_PATTERN);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (input) => {
        const result = normalizeE164(input);
        if (result.ok) expect(result.e164).toMatch(pattern);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps exactly the digits, whatever the allowed separators', () => {
    const separator = fc.constantFrom('', ' ', '-', '.');
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{7,14}$/),
        fc.array(separator, { minLength: 15, maxLength: 15 }),
        (digits, separators) => {
          const formatted = `+${[...digits].map((digit, i) => digit + separators[i]!).join('')}`;
          expect(normalizeE164(formatted)).toEqual({ ok: true, e164: `+${digits}` });
        },
      ),
    );
  });
});
