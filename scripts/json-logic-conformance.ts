/**
 * How many cases of jsonlogic.com's shared test file give the same truthiness through a trigger
 * constraint as through json-logic-js, the reference engine:
 * `node scripts/json-logic-conformance.ts path/to/tests.json`.
 * The file is a JSON array of `[rule, data, expected]` cases and comment strings; it is not kept in the
 * repository. Prints each case that differs, then the counts; exits 1 when a rule's truthiness differs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as JsonLogicJs from 'json-logic-js';
import { compileConstraints, compileJsonLogic, truthy } from '../src/core/workflows/json-logic.ts';

const jsonLogic = createRequire(import.meta.url)('json-logic-js') as typeof JsonLogicJs;

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/json-logic-conformance.ts path/to/tests.json\n');
  process.exit(2);
}

type Case = [rule: unknown, data: unknown, expected: unknown];
const cases = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).filter((c): c is Case =>
  Array.isArray(c),
);

/** The outcome as a word, so a throw on either side is compared too. */
const outcome = (run: () => boolean): string => {
  try {
    return String(run());
  } catch (error) {
    return `error (${error instanceof Error ? error.message : String(error)})`;
  }
};

let sameConstraint = 0;
let sameRule = 0;
for (const [rule, data] of cases) {
  const reference = outcome(() => jsonLogic.truthy(jsonLogic.apply(rule as never, data)));
  const constraint = outcome(() => compileConstraints(rule)(data));
  const evaluated = outcome(() => truthy(compileJsonLogic(rule)(data)));
  if (constraint === reference) sameConstraint += 1;
  if (evaluated === reference) sameRule += 1;
  if (constraint !== reference || evaluated !== reference)
    process.stdout.write(
      `differs: ${JSON.stringify(rule)} on ${JSON.stringify(data)}: json-logic-js ${reference}, ` +
        `constraint ${constraint}, rule ${evaluated}\n`,
    );
}
process.stdout.write(
  `trigger constraints: ${sameConstraint} of ${cases.length} cases give json-logic-js's truthiness ` +
    `(trigger_constraints null means "no constraints", so a null rule passes)\n` +
    `rules: ${sameRule} of ${cases.length} cases give json-logic-js's truthiness\n`,
);
process.exitCode = sameRule === cases.length ? 0 : 1;
