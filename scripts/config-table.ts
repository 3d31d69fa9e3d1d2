/** Prints the README's configuration table from the variables config.ts reads: `npm run docs:config`. */
import { VARIABLES } from '../src/config.ts';

const rows = VARIABLES.map(
  (v) =>
    `| \`${v.env}\` | ${v.default === undefined || v.default === '' ? '(unset)' : `\`${v.default}\``} | ${v.description} |`,
);
process.stdout.write(['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n') + '\n');
