/**
 * English cardinal numbers as a voice transcript spells them: "forty two", "one hundred and five",
 * "two thousand twenty six", "twelve hundred", "minus three". Digit-by-digit readings ("four two") and
 * year-style pairs ("twenty twenty six") are refused rather than guessed, since they are ambiguous.
 */
const UNITS: ReadonlyMap<string, number> = new Map(
  Object.entries({
    zero: 0,
    one: 1,
    two: 2,
    three: 3,
    four: 4,
    five: 5,
    six: 6,
    seven: 7,
    eight: 8,
    nine: 9,
    ten: 10,
    eleven: 11,
    twelve: 12,
    thirteen: 13,
    fourteen: 14,
    fifteen: 15,
    sixteen: 16,
    seventeen: 17,
    eighteen: 18,
    nineteen: 19,
  }),
);

const TENS: ReadonlyMap<string, number> = new Map(
  Object.entries({
    twenty: 20,
    thirty: 30,
    forty: 40,
    fifty: 50,
    sixty: 60,
    seventy: 70,
    eighty: 80,
    ninety: 90,
  }),
);

const SCALES: ReadonlyMap<string, number> = new Map(
  Object.entries({
    thousand: 1e3,
    million: 1e6,
    billion: 1e9,
    trillion: 1e12,
  }),
);

const MAX_WORDS = 40;

/** The whole number the words say, or undefined when they are not exactly one English cardinal. */
export function parseNumberWords(text: string): number | undefined {
  const words = text
    .toLowerCase()
    .replace(/[-,]/g, ' ')
    .split(/\s+/)
    .filter((word) => word !== '' && word !== 'and');
  if (words.length === 0 || words.length > MAX_WORDS) return undefined;

  let sign = 1;
  if (words[0] === 'minus' || words[0] === 'negative') {
    sign = -1;
    words.shift();
    if (words.length === 0) return undefined;
  }
  if (words.length === 1 && words[0] === 'zero') return 0;

  let total = 0;
  let group = 0; // the part below the current scale word, 0..999
  let lastScale = Infinity;
  let hasHundred = false;
  let hasTens = false;
  let hasUnits = false;

  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const next = words[i + 1];
    if (word === 'a') {
      // "a hundred", "a thousand": only before a multiplier, and only at the start of a group.
      if (group !== 0 || (next !== 'hundred' && !SCALES.has(next ?? ''))) return undefined;
      group = 1;
      hasUnits = true;
    } else if (UNITS.has(word)) {
      const value = UNITS.get(word)!;
      if (value === 0 || hasUnits || (hasTens && value >= 10)) return undefined;
      group += value;
      hasUnits = true;
      if (value >= 10) hasTens = true;
    } else if (TENS.has(word)) {
      if (hasTens || hasUnits) return undefined;
      group += TENS.get(word)!;
      hasTens = true;
    } else if (word === 'hundred') {
      // "twelve hundred" is 1200; "one hundred hundred" is nothing.
      if (hasHundred || group === 0 || group > 99) return undefined;
      group *= 100;
      hasHundred = true;
      hasTens = false;
      hasUnits = false;
    } else if (SCALES.has(word)) {
      const scale = SCALES.get(word)!;
      if (group === 0 || scale >= lastScale) return undefined;
      total += group * scale;
      lastScale = scale;
      group = 0;
      hasHundred = false;
      hasTens = false;
      hasUnits = false;
    } else {
      return undefined;
    }
  }
  const value = sign * (total + group);
  return Number.isSafeInteger(value) ? value : undefined;
}
