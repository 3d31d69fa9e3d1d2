import { type Command, UsageError } from './command.ts';
import { printObject, printTable } from './output.ts';
import type { Organization } from '../core/tenancy.ts';

const row = (o: Organization) => ({ id: o.id, name: o.name, created_at: o.createdAt });

export const organizationCommands: Record<string, Command> = {
  'orgs create': {
    usage: 'orgs create --name <name>',
    summary: 'Create an organization',
    async run({ container, options, json }) {
      if (typeof options.name !== 'string') throw new UsageError('orgs create needs --name');
      printObject(row(await container.services.organizations.create(options.name)), json);
    },
  },
  'orgs list': {
    usage: 'orgs list',
    summary: 'List organizations',
    async run({ container, json }) {
      const organizations: Organization[] = [];
      let cursor: string | undefined;
      do {
        const page = await container.services.organizations.list({ limit: 100, cursor });
        organizations.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      printTable(organizations.map(row), json);
    },
  },
};
