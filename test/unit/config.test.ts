import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, VARIABLES, loadConfig } from '../../src/config.ts';

const load = (env: Record<string, string>) => loadConfig({ env, envFile: false });

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = load({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      allowPrivateNetworks: [],
      bodyLimitBytes: 1_048_576,
    });
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['SWITCHBOARD_PORT', 'eighty'],
    ['SWITCHBOARD_PORT', '70000'],
    ['SWITCHBOARD_DATABASE_URL', 'mysql://localhost/x'],
    ['SWITCHBOARD_DATABASE_URL', 'not a url'],
    ['SWITCHBOARD_SECRET_KEY', 'too-short'],
    ['SWITCHBOARD_SECRET_KEY', Buffer.alloc(16).toString('base64')],
    ['SWITCHBOARD_ADMIN_KEY', 'short'],
    ['SWITCHBOARD_LOG_LEVEL', 'loud'],
    ['SWITCHBOARD_TRUSTED_PROXIES', 'not-an-ip'],
    ['SWITCHBOARD_ALLOWED_ORIGINS', 'ftp://example.com'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => load({ [name]: value })).toThrowError(ConfigError);
    expect(() => load({ [name]: value })).toThrowError(new RegExp(name));
  });

  it.each([
    ['SWITCHBOARD_WORKFLOW_RUNS_PER_ORG', '-1'],
    ['SWITCHBOARD_WORKFLOW_RUNS_PER_ORG', 'many'],
    ['SWITCHBOARD_FAULT_AT', 'step-started'],
    ['SWITCHBOARD_FAULT_AT', 'step-started:0'],
    ['SWITCHBOARD_FAULT_AT', 'step-started:1:pause'],
    ['SWITCHBOARD_FAULT_AT', 'step-started:1:stop:again'],
  ])('names %s when it is %j (durable runs)', (name, value) => {
    expect(() => load({ [name]: value })).toThrowError(new RegExp(name));
  });

  it.each([
    [{}, 100, undefined],
    [
      { SWITCHBOARD_WORKFLOW_RUNS_PER_ORG: '0', SWITCHBOARD_FAULT_AT: 'step-finished:2' },
      0,
      { point: 'step-finished', nth: 2, action: 'kill' },
    ],
    [
      { SWITCHBOARD_WORKFLOW_RUNS_PER_ORG: '3', SWITCHBOARD_FAULT_AT: 'step-finished:2:stop' },
      3,
      { point: 'step-finished', nth: 2, action: 'stop' },
    ],
  ])('reads the run cap and the fault setting from %j', (env, cap, faultAt) => {
    expect(load(env)).toMatchObject({ workflowRunsPerOrganization: cap, faultAt });
  });

  it('reports every bad variable at once', () => {
    try {
      load({ SWITCHBOARD_PORT: 'x', SWITCHBOARD_LOG_LEVEL: 'y' });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems).toHaveLength(2);
    }
  });

  it('accepts a 32-byte base64 master key and lists', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = load({
      SWITCHBOARD_SECRET_KEY: key,
      SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/8, api.internal',
    });
    expect(config.secretKey?.length).toBe(32);
    expect(config.allowPrivateNetworks).toEqual(['10.0.0.0/8', 'api.internal']);
  });

  it('documents every variable in the configuration table of docs/configuration.md', () => {
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const variable of VARIABLES) expect(page, variable.env).toContain(`\`${variable.env}\``);
  });
});
