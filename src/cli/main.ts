/**
 * The `switchboard` command: operator tasks against the configured store (the same environment and
 * .env as the server). Run it as `npx switchboard <command>`.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../config.ts';
import { buildContainer } from '../container.ts';
import { createLogger, openInfrastructure } from '../infrastructure.ts';
import { type Command, UsageError } from './command.ts';
import { keyCommands } from './keys.ts';
import { organizationCommands } from './organizations.ts';
import { secretCommands } from './secrets.ts';

const COMMANDS: Readonly<Record<string, Command>> = {
  ...keyCommands,
  ...organizationCommands,
  ...secretCommands,
};

function help(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  return [
    'Usage: npx switchboard <command> [options]',
    '',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Add --json for machine-readable output. The command uses the same configuration as the server',
    '(SWITCHBOARD_DATA_DIR, SWITCHBOARD_DATABASE_URL, SWITCHBOARD_SECRET_KEY, ... and ./.env).',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      org: { type: 'string' },
      'new-key': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, action, ...args] = positionals;
  const command = group && action ? COMMANDS[`${group} ${action}`] : undefined;
  if (values.help || !command) {
    console.log(help());
    return values.help || !group ? 0 : 2;
  }
  const config = loadConfig();
  // no background work: a command leaves no sweep, schedule or queue worker running in this process
  const infrastructure = await openInfrastructure(config, {
    logger: createLogger({ logLevel: 'warn' }, pino.destination(2)),
  });
  const container = await buildContainer(infrastructure);
  try {
    await command.run({ container, infrastructure, args, options: values, json: values.json === true });
    return 0;
  } finally {
    await container.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(`switchboard: ${(error as Error).message}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
