import { type Command, UsageError } from './command.ts';
import { printObject, printTable } from './output.ts';
import type { ApiKey } from '../core/tenancy.ts';

const row = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: k.scopes,
  source: k.source,
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
});

const organizationOf = (options: Record<string, unknown>, defaultId: string): string =>
  typeof options.org === 'string' ? options.org : defaultId;

export const keyCommands: Record<string, Command> = {
  'keys create': {
    usage: 'keys create --name <name> --scopes <a,b,...> [--org <id>]',
    summary: 'Create an API key (printed once) in the default organization or --org',
    async run({ container, options, json }) {
      if (typeof options.name !== 'string' || typeof options.scopes !== 'string') {
        throw new UsageError(
          'keys create needs --name and --scopes (e.g. --scopes admin, or actions:read,actions:execute)',
        );
      }
      const { apiKey, token } = await container.services.apiKeys.create({
        organizationId: organizationOf(options, container.defaultOrganizationId),
        name: options.name,
        scopes: options.scopes.split(',').map((s) => s.trim()),
        source: 'cli',
      });
      printObject({ ...row(apiKey), organization_id: apiKey.organizationId, key: token }, json);
      if (!json) console.error('\nStore the key now: it is shown only this once.');
    },
  },
  'keys list': {
    usage: 'keys list [--org <id>]',
    summary: 'List API keys (never the keys themselves)',
    async run({ container, options, json }) {
      const organizationId = organizationOf(options, container.defaultOrganizationId);
      const keys: ApiKey[] = [];
      let cursor: string | undefined;
      do {
        const page = await container.services.apiKeys.list(organizationId, { limit: 100, cursor });
        keys.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      printTable(keys.map(row), json);
    },
  },
  'keys revoke': {
    usage: 'keys revoke <key id> [--org <id>]',
    summary: 'Revoke an API key',
    async run({ container, args, options, json }) {
      const [id] = args;
      if (!id) throw new UsageError('keys revoke needs the key id (see keys list)');
      const key = await container.services.apiKeys.revoke(
        organizationOf(options, container.defaultOrganizationId),
        id,
      );
      printObject(row(key), json);
    },
  },
};
