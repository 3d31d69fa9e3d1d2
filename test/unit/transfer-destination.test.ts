/**
 * Transfer destinations (docs/security.md B12): every number is normalised strictly before it is compared
 * with the allowed ones, so nothing that could dial other than the digits shown gets through, and a number
 * that merely starts or ends like an allowed one is not allowed.
 */
import { describe, expect, it } from 'vitest';
import {
  checkTransferConfig,
  normalizeTransferConfig,
  resolveTransferDestination,
  type TransferConfigInput,
} from '../../src/core/actions/kinds/transfer.ts';
import type { Variable } from '../../src/core/actions/variables.ts';

const ALLOWED = ['+14155550100', '+442079460958'];

describe('resolveTransferDestination', () => {
  it.each([
    ['E.164 as is', '+14155550100', '+14155550100'],
    ['spaces, parentheses and a dash', '+1 (415) 555-0100', '+14155550100'],
    ['dots', '+1.415.555.0100', '+14155550100'],
    ['surrounding spaces', '  +44 20 7946 0958 ', '+442079460958'],
    ['the 00 international prefix in place of +', '0044 20 7946 0958', '+442079460958'],
  ])('accepts %s', (_name, input, destination) => {
    expect(resolveTransferDestination(input, ALLOWED)).toEqual({ ok: true, destination });
  });

  it.each([
    // extensions: dialling them would reach a different party than the number shown
    ['an RFC 3966 extension', '+14155550100;ext=123'],
    ['an extension with x', '+14155550100x123'],
    ['an extension with " x "', '+1 415 555 0100 x 9'],
    ['an extension with ext.', '+1 415 555 0100 ext. 12'],
    ['an extension after #', '+14155550100#123'],
    // pauses and waits: DTMF sent after the call connects
    ['a pause with commas', '+14155550100,,1234'],
    ['a single comma', '+14155550100,9'],
    ['a pause with p', '+14155550100p1234'],
    ['a wait with w', '+14155550100w1234'],
    ['a semicolon', '+14155550100;1234'],
    // URIs: another transport entirely
    ['a tel: URI', 'tel:+14155550100'],
    ['an upper-case TEL: URI', 'TEL:+14155550100'],
    ['a sip: URI', 'sip:+14155550100@pbx.example'],
    ['a sips: URI', 'sips:+14155550100@pbx.example'],
    ['a sip: URI with spaces', ' sip : +14155550100'],
    // non-ASCII digits are refused, not converted: what is compared is what was written
    ['full-width digits', '＋１４１５５５５０１００'],
    ['one full-width digit', '+1415555010０'],
    ['a full-width plus', '＋14155550100'],
    ['Arabic-Indic digits', '+١٤١٥٥٥٥٠١٠٠'],
    ['Extended Arabic-Indic digits', '+۱۴۱۵۵۵۵۰۱۰۰'],
    ['Devanagari digits', '+१४१५५५५०१००'],
    ['mathematical bold digits', '+𝟏𝟒𝟏𝟓𝟓𝟓𝟓𝟎𝟏𝟎𝟎'],
    ['a zero-width space', '+1\u200b4155550100'],
    ['a right-to-left override', '\u202e+14155550100'],
    ['a non-breaking space', '+1\u00a04155550100'],
    ['a newline', '+1415555\n0100'],
    // letters and lengths
    ['a vanity number', '+1-415-555-CALL'],
    ['more than 15 digits', '+1415555010012345'],
    ['fewer than 8 digits', '+1415555'],
    // + handling
    ['no + or 00', '14155550100'],
    ['a national number', '(415) 555-0100'],
    ['two plus signs', '++14155550100'],
    ['a plus in the middle', '+1415+5550100'],
    ['two numbers', '+14155550100+442079460958'],
    ['a lone plus', '+'],
    ['a star code', '*67+14155550100'],
    ['empty text', ''],
    ['blank text', '   '],
  ])('refuses %s as invalid input, never as a number to compare', (_name, input) => {
    const result = resolveTransferDestination(input, ALLOWED);
    expect(result).toMatchObject({ ok: false, category: 'invalid_input' });
    if (!result.ok) expect(result.message).toMatch(/number/);
  });

  it.each([
    ['a well-formed premium-rate number', '+1 900 555 0100'],
    ['an allowed number with one more digit', '+141555501001'],
    ['an allowed number missing its last digit', '+1415555010'],
    ['an allowed number with another country code', '+24155550100'],
  ])('refuses %s as blocked, with a sentence the agent can say', (_name, input) => {
    const result = resolveTransferDestination(input, ALLOWED);
    expect(result).toMatchObject({
      ok: false,
      category: 'blocked',
      message: "I'm not allowed to transfer calls to that number.",
    });
    if (!result.ok) expect(result.detail).toContain('not among');
  });

  it.each([
    ['nothing', undefined],
    ['a number', 14155550100],
    ['null', null],
    ['an object', { number: '+14155550100' }],
  ])('refuses %s as invalid input', (_name, value) => {
    expect(resolveTransferDestination(value, ALLOWED)).toMatchObject({
      ok: false,
      category: 'invalid_input',
    });
  });
});

describe('transfer config', () => {
  const phone: Variable = { name: 'transfer_to', type: 'phone', required: true };
  const check = (
    input: TransferConfigInput,
    variables: Variable[] = [phone],
    contextVariables: string[] = [],
  ) => checkTransferConfig(normalizeTransferConfig(input), { variables, contextVariables });

  it('stores allowed destinations and a fixed destination in E.164, without duplicates', () => {
    expect(
      normalizeTransferConfig({
        destination: '+1 (415) 555-0100',
        allowed_destinations: ['+1 415 555 0100', '+14155550100', '0044 20 7946 0958'],
      }),
    ).toEqual({
      destination: '+14155550100',
      allowed_destinations: ['+14155550100', '+442079460958'],
      announce: null,
    });
  });

  it('accepts a fixed destination alone, a templated one with its list, and a context value', () => {
    expect(check({ destination: '+14155550100' })).toEqual([]);
    expect(check({ destination: '{{transfer_to}}', allowed_destinations: ALLOWED })).toEqual([]);
    expect(check({ destination: '{{ desk }}', allowed_destinations: ALLOWED }, [], ['desk'])).toEqual([]);
  });

  it.each([
    [
      'a smuggled allowed destination',
      { destination: '{{transfer_to}}', allowed_destinations: ['+14155550100;ext=1'] },
      '/transfer/allowed_destinations/0',
      'extensions',
    ],
    [
      'a SIP URI in the list',
      { destination: '{{transfer_to}}', allowed_destinations: ['sip:desk@pbx.example'] },
      '/transfer/allowed_destinations/0',
      'URI',
    ],
    [
      'a full-width allowed destination',
      { destination: '{{transfer_to}}', allowed_destinations: ['＋１４１５５５５０１００'] },
      '/transfer/allowed_destinations/0',
      'ASCII',
    ],
    [
      'a templated destination without a list',
      { destination: '{{transfer_to}}' },
      '/transfer/allowed_destinations',
      'allowed_destinations',
    ],
    [
      'a fixed destination outside the list',
      { destination: '+19005550100', allowed_destinations: ALLOWED },
      '/transfer/destination',
      'not among',
    ],
    [
      'a fixed destination with a pause',
      { destination: '+14155550100,,9' },
      '/transfer/destination',
      'pauses',
    ],
    [
      'text around a placeholder',
      { destination: '+1{{transfer_to}}', allowed_destinations: ALLOWED },
      '/transfer/destination',
      'exactly one placeholder',
    ],
    [
      'an undeclared placeholder',
      { destination: '{{somebody}}', allowed_destinations: ALLOWED },
      '/transfer/destination',
      'not a variable',
    ],
    [
      'a secret as the destination',
      { destination: '{{secrets.DESK}}', allowed_destinations: ALLOWED },
      '/transfer/destination',
      'not a variable',
    ],
    [
      'a secret in the announcement',
      { destination: '+14155550100', announce: 'PIN {{secrets.PIN}}' },
      '/transfer/announce',
      'never spoken',
    ],
    [
      'an unknown placeholder in the announcement',
      { destination: '+14155550100', announce: 'About {{order}}' },
      '/transfer/announce',
      '{{order}}',
    ],
  ])('refuses %s', (_name, input, path, message) => {
    const issues = check(input);
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('refuses a destination variable of the wrong type, and enum options outside the list', () => {
    const count: Variable = { name: 'transfer_to', type: 'integer' };
    expect(check({ destination: '{{transfer_to}}', allowed_destinations: ALLOWED }, [count])).toContainEqual({
      path: '/transfer/destination',
      message: expect.stringContaining('type integer'),
    });
    const desks: Variable = { name: 'transfer_to', type: 'enum', enum: ['+14155550100', '+19005550100'] };
    expect(check({ destination: '{{transfer_to}}', allowed_destinations: ALLOWED }, [desks])).toContainEqual({
      path: '/transfer/destination',
      message: expect.stringContaining('+19005550100'),
    });
  });
});
