import type { Container } from '../container.ts';

export interface CommandContext {
  container: Container;
  args: string[];
  options: Record<string, string | boolean | undefined>;
  json: boolean;
}

export interface Command {
  usage: string;
  summary: string;
  run(context: CommandContext): Promise<void>;
}

/** Wrong arguments: the message says what to type instead; exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
