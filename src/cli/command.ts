import type { Container } from '../container.ts';
import type { Infrastructure } from '../infrastructure.ts';

export interface CommandContext {
  container: Container;
  /** The adapters themselves, for commands that need more than a port (re-keying the secrets). */
  infrastructure: Infrastructure;
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
