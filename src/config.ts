/**
 * The only reader of process.env. Every setting is one row of VARIABLES: its name, default, parser and
 * the sentence the configuration table of docs/configuration.md shows. loadConfig parses them all, reports every bad
 * variable by name, and returns a frozen object.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import {
  FAULT_ACTIONS,
  FAULT_POINTS,
  type FaultAction,
  type FaultPoint,
  type FaultSetting,
} from './core/ports/faults.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  adminKey: string | undefined;
  secretKey: Uint8Array | undefined;
  secretKeyPrevious: Uint8Array | undefined;
  allowPrivateNetworks: string[];
  egressAllowedPorts: number[];
  egressDnsServers: string[];
  egressConnectTimeoutMs: number;
  egressTimeoutMs: number;
  egressTimeoutCapMs: number;
  egressResponseLimitBytes: number;
  egressResponseCapBytes: number;
  egressRequestLimitBytes: number;
  sandboxWorkers: number;
  sandboxTimeoutMs: number;
  sandboxTimeoutCapMs: number;
  sandboxMemoryMb: number;
  sandboxMemoryCapMb: number;
  sandboxMaxFetches: number;
  sandboxMaxFetchesCap: number;
  sandboxConcurrentFetches: number;
  sandboxOutputBytes: number;
  sandboxLogBytes: number;
  workQueue: boolean;
  confirmationTtlMs: number;
  jobLeaseMs: number;
  jobRetryBaseMs: number;
  workflowRunsPerOrganization: number;
  logLevel: LogLevel;
  executionRetentionDays: number;
  conversationActionBudget: number;
  executionRecordBytes: number;
  bodyLimitBytes: number;
  rateLimitPerKey: number;
  rateLimitPerOrganization: number;
  authFailureLimit: number;
  mcpToolsPageSize: number;
  mcpBatchLimit: number;
  authFailureIpv6Prefix: number;
  trustedProxies: string[];
  allowedOrigins: string[];
  keyCacheTtlMs: number | undefined;
  shutdownTimeoutMs: number;
  faultAt: FaultSetting | undefined;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Parser<T> = (raw: string) => T;

interface Variable<K extends keyof Config> {
  key: K;
  env: string;
  /** Shown in docs/configuration.md; `undefined` means unset by default. */
  default: string | undefined;
  description: string;
  parse: Parser<Config[K]>;
}

const integer =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };

const boolean: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const masterKey: Parser<Uint8Array> = (raw) => {
  const trimmed = raw.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed))
    throw new Error('must be base64 (as `openssl rand -base64 32` prints)');
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) throw new Error(`must decode to exactly 32 bytes, got ${bytes.length}`);
  return new Uint8Array(bytes);
};

const optional =
  <T>(parse: Parser<T>): Parser<T | undefined> =>
  (raw) =>
    raw.trim() === '' ? undefined : parse(raw);

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const VARIABLES: readonly Variable<keyof Config>[] = [
  {
    key: 'port',
    env: 'SWITCHBOARD_PORT',
    default: '8080',
    description: 'TCP port the API listens on (0 picks a free one).',
    parse: integer(0, 65_535),
  },
  {
    key: 'host',
    env: 'SWITCHBOARD_HOST',
    default: '127.0.0.1',
    description: 'Address to bind. Only localhost by default; set `0.0.0.0` to serve other machines.',
    parse: (raw) => {
      const host = raw.trim();
      if (!host || /\s/.test(host)) throw new Error('must be a host name or IP address');
      return host;
    },
  },
  {
    key: 'dataDir',
    env: 'SWITCHBOARD_DATA_DIR',
    default: './data',
    description: 'Directory for the SQLite database and the generated master key file.',
    parse: (raw) => resolve(raw.trim()),
  },
  {
    key: 'databaseUrl',
    env: 'SWITCHBOARD_DATABASE_URL',
    default: undefined,
    description: 'A `postgres://` URL selects PostgreSQL; unset means SQLite in the data directory.',
    parse: optional((raw) => {
      let url: URL;
      try {
        url = new URL(raw.trim());
      } catch {
        throw new Error('must be a URL such as postgres://user@127.0.0.1:5432/switchboard');
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        throw new Error(`must start with postgres:// or postgresql://, got ${url.protocol}//`);
      }
      return raw.trim();
    }),
  },
  {
    key: 'databasePoolSize',
    env: 'SWITCHBOARD_DATABASE_POOL_SIZE',
    default: '10',
    description: 'PostgreSQL connections per process.',
    parse: integer(1, 200),
  },
  {
    key: 'adminKey',
    env: 'SWITCHBOARD_ADMIN_KEY',
    default: undefined,
    description:
      'If set, an API key with every scope (`admin` included) in the default organization, created at start. Changing it revokes the previous one. At least 12 characters.',
    parse: optional((raw) => {
      if (raw.length < 12) throw new Error('must be at least 12 characters (use `openssl rand -hex 32`)');
      if (/\s/.test(raw)) throw new Error('must not contain whitespace');
      return raw;
    }),
  },
  {
    key: 'secretKey',
    env: 'SWITCHBOARD_SECRET_KEY',
    default: undefined,
    description:
      'Master key that encrypts secrets: 32 random bytes, base64 (`openssl rand -base64 32`). Unset: generated into `<data dir>/master.key` (mode 0600) on first start.',
    parse: optional(masterKey),
  },
  {
    key: 'secretKeyPrevious',
    env: 'SWITCHBOARD_SECRET_KEY_PREVIOUS',
    default: undefined,
    description:
      'The master key being rotated away from, still used to read secrets not yet re-encrypted (see "Rotating the master key" in docs/operations.md).',
    parse: optional(masterKey),
  },
  {
    key: 'allowPrivateNetworks',
    env: 'SWITCHBOARD_ALLOW_PRIVATE_NETWORKS',
    default: '',
    description: 'Comma-separated hosts, IPs or CIDRs that outbound calls may reach despite the SSRF guard.',
    parse: list,
  },
  {
    key: 'egressAllowedPorts',
    env: 'SWITCHBOARD_EGRESS_ALLOWED_PORTS',
    default: '',
    description: 'Ports outbound calls may use on public hosts besides 80 and 443 (comma-separated).',
    parse: (raw) => list(raw).map((port) => integer(1, 65_535)(port)),
  },
  {
    key: 'egressDnsServers',
    env: 'SWITCHBOARD_EGRESS_DNS_SERVERS',
    default: '',
    description: 'DNS servers (`ip` or `ip:port`) for outbound calls; unset uses the system resolver.',
    parse: list,
  },
  {
    key: 'egressConnectTimeoutMs',
    env: 'SWITCHBOARD_EGRESS_CONNECT_TIMEOUT_MS',
    default: '5000',
    description: 'Outbound connect timeout.',
    parse: integer(100, 60_000),
  },
  {
    key: 'egressTimeoutMs',
    env: 'SWITCHBOARD_EGRESS_TIMEOUT_MS',
    default: '30000',
    description: 'Default total deadline of an outbound request (every redirect and the whole body).',
    parse: integer(100, 600_000),
  },
  {
    key: 'egressTimeoutCapMs',
    env: 'SWITCHBOARD_EGRESS_TIMEOUT_CAP_MS',
    default: '120000',
    description: 'Largest deadline an action may ask for.',
    parse: integer(100, 600_000),
  },
  {
    key: 'egressResponseLimitBytes',
    env: 'SWITCHBOARD_EGRESS_RESPONSE_LIMIT_BYTES',
    default: '5242880',
    description: 'Default largest response body, counted after decompression (5 MB).',
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    key: 'egressResponseCapBytes',
    env: 'SWITCHBOARD_EGRESS_RESPONSE_CAP_BYTES',
    default: '26214400',
    description: 'Largest response body an action may ask for (25 MB).',
    parse: integer(1024, 1024 * 1024 * 1024),
  },
  {
    key: 'egressRequestLimitBytes',
    env: 'SWITCHBOARD_EGRESS_REQUEST_LIMIT_BYTES',
    default: '1048576',
    description: 'Largest outbound request body (1 MB).',
    parse: integer(1024, 64 * 1024 * 1024),
  },
  {
    key: 'sandboxWorkers',
    env: 'SWITCHBOARD_SANDBOX_WORKERS',
    default: '0',
    description: 'Worker threads that run code actions, one run at a time each. 0 means one per CPU core.',
    parse: integer(0, 256),
  },
  {
    key: 'sandboxTimeoutMs',
    env: 'SWITCHBOARD_SANDBOX_TIMEOUT_MS',
    default: '5000',
    description: "Default wall-clock limit of a code action's run, awaited fetches included.",
    parse: integer(10, 600_000),
  },
  {
    key: 'sandboxTimeoutCapMs',
    env: 'SWITCHBOARD_SANDBOX_TIMEOUT_CAP_MS',
    default: '30000',
    description: 'Largest time limit a code action may ask for.',
    parse: integer(10, 600_000),
  },
  {
    key: 'sandboxMemoryMb',
    env: 'SWITCHBOARD_SANDBOX_MEMORY_MB',
    default: '64',
    description: "Default memory limit of a code action's run, in MB.",
    parse: integer(8, 4096),
  },
  {
    key: 'sandboxMemoryCapMb',
    env: 'SWITCHBOARD_SANDBOX_MEMORY_CAP_MB',
    default: '256',
    description: 'Largest memory limit a code action may ask for, in MB.',
    parse: integer(8, 4096),
  },
  {
    key: 'sandboxMaxFetches',
    env: 'SWITCHBOARD_SANDBOX_MAX_FETCHES',
    default: '20',
    description:
      'Default number of `fetch` calls one run may make; past it `fetch` throws FETCH_BUDGET_EXCEEDED.',
    parse: integer(0, 10_000),
  },
  {
    key: 'sandboxMaxFetchesCap',
    env: 'SWITCHBOARD_SANDBOX_MAX_FETCHES_CAP',
    default: '100',
    description: 'Largest fetch budget a code action may ask for.',
    parse: integer(0, 10_000),
  },
  {
    key: 'sandboxConcurrentFetches',
    env: 'SWITCHBOARD_SANDBOX_CONCURRENT_FETCHES',
    default: '4',
    description: "A run's fetch calls in flight at once; the others wait their turn.",
    parse: integer(1, 100),
  },
  {
    key: 'sandboxOutputBytes',
    env: 'SWITCHBOARD_SANDBOX_OUTPUT_BYTES',
    default: '1048576',
    description: 'Largest value a code action may return, as JSON (1 MB).',
    parse: integer(1024, 64 * 1024 * 1024),
  },
  {
    key: 'sandboxLogBytes',
    env: 'SWITCHBOARD_SANDBOX_LOG_BYTES',
    default: '65536',
    description: 'console output kept per run (64 KB); past it the log is cut and says so.',
    parse: integer(0, 16 * 1024 * 1024),
  },
  {
    key: 'confirmationTtlMs',
    env: 'SWITCHBOARD_CONFIRMATION_TTL_MS',
    default: '600000',
    description:
      'How long an execution awaiting confirmation (an action with requires_confirmation) may be confirmed; after it, it has expired (10 minutes).',
    parse: integer(1_000, 7 * 24 * 3_600_000),
  },
  {
    key: 'workQueue',
    env: 'SWITCHBOARD_WORK_QUEUE',
    default: 'true',
    description:
      'Whether the server also works the job queue (post-call actions, workflow steps, cron schedules). Set false on API-only processes when `npm run worker` processes do it.',
    parse: boolean,
  },
  {
    key: 'jobLeaseMs',
    env: 'SWITCHBOARD_JOB_LEASE_MS',
    default: '30000',
    description:
      'How long a background job (a post-call action or a workflow step) is held by the process running it without a heartbeat; a job whose process died runs again after this. PostgreSQL needs at least 10000.',
    parse: integer(1_000, 3_600_000),
  },
  {
    key: 'jobRetryBaseMs',
    env: 'SWITCHBOARD_JOB_RETRY_BASE_MS',
    default: '1000',
    description:
      'First retry delay of a failed background job; it doubles per attempt (with full jitter) up to 60 s.',
    parse: integer(10, 600_000),
  },
  {
    key: 'workflowRunsPerOrganization',
    env: 'SWITCHBOARD_WORKFLOW_RUNS_PER_ORG',
    default: '100',
    description:
      'Workflow runs of one organization under way at once (a run asleep in a delay step does not count); the others wait `queued` and start in order as slots free up. 0 turns the cap off.',
    parse: integer(0, 1_000_000),
  },
  {
    key: 'conversationActionBudget',
    env: 'SWITCHBOARD_CONVERSATION_ACTION_BUDGET',
    default: '20',
    description:
      'Executions of one action per conversation per rolling minute (a prompt-injected loop meets it). 0 turns it off.',
    parse: integer(0, 1_000_000),
  },
  {
    key: 'executionRetentionDays',
    env: 'SWITCHBOARD_EXECUTION_RETENTION_DAYS',
    default: '30',
    description: 'Days execution records are kept (0 keeps them forever).',
    parse: integer(0, 36_500),
  },
  {
    key: 'executionRecordBytes',
    env: 'SWITCHBOARD_EXECUTION_RECORD_BYTES',
    default: '65536',
    description: 'Characters of each request and response body an execution record keeps.',
    parse: integer(256, 10 * 1024 * 1024),
  },
  {
    key: 'logLevel',
    env: 'SWITCHBOARD_LOG_LEVEL',
    default: 'info',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
    parse: (raw) => {
      const level = raw.trim().toLowerCase() as LogLevel;
      if (!LOG_LEVELS.includes(level)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
      return level;
    },
  },
  {
    key: 'bodyLimitBytes',
    env: 'SWITCHBOARD_BODY_LIMIT',
    default: '1048576',
    description: 'Largest request body in bytes (1 MB).',
    parse: integer(1024, 64 * 1024 * 1024),
  },
  {
    key: 'rateLimitPerKey',
    env: 'SWITCHBOARD_RATE_LIMIT_PER_KEY',
    default: '1200',
    description: 'Requests per rolling minute per API key (0 turns the limit off).',
    parse: integer(0, 10_000_000),
  },
  {
    key: 'rateLimitPerOrganization',
    env: 'SWITCHBOARD_RATE_LIMIT_PER_ORG',
    default: '2400',
    description: 'Requests per rolling minute per organization, across all its keys (0 turns the limit off).',
    parse: integer(0, 10_000_000),
  },
  {
    key: 'authFailureLimit',
    env: 'SWITCHBOARD_AUTH_FAILURE_LIMIT',
    default: '20',
    description:
      'Failed authentications per minute from one client (an IPv4 address, or an IPv6 network; see the next row) before it gets 429. On PostgreSQL the count is shared by every process.',
    parse: integer(1, 1_000_000),
  },
  {
    key: 'mcpToolsPageSize',
    env: 'SWITCHBOARD_MCP_TOOLS_PAGE_SIZE',
    default: '200',
    description: 'Tools per `tools/list` page on `/mcp`; a longer list continues at `nextCursor`.',
    parse: integer(1, 10_000),
  },
  {
    key: 'mcpBatchLimit',
    env: 'SWITCHBOARD_MCP_BATCH_LIMIT',
    default: '20',
    description:
      'Most JSON-RPC messages one `/mcp` request may batch (each `tools/call` in it counts against the rate limits as a request of its own).',
    parse: integer(1, 100),
  },
  {
    key: 'authFailureIpv6Prefix',
    env: 'SWITCHBOARD_AUTH_FAILURE_IPV6_PREFIX',
    default: '64',
    description:
      'Prefix length that makes IPv6 addresses one client for the failed-authentication limit (64: a /64 network, what one subscriber is usually given; 128: each address).',
    parse: integer(1, 128),
  },
  {
    key: 'trustedProxies',
    env: 'SWITCHBOARD_TRUSTED_PROXIES',
    default: '',
    description:
      'Comma-separated proxy IPs or CIDRs whose `X-Forwarded-For` is believed; others are ignored.',
    parse: (raw) => {
      const entries = list(raw);
      for (const entry of entries) {
        const [ip, bits] = entry.split('/');
        if (!ip || isIP(ip) === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
          throw new Error(`"${entry}" is not an IP address or CIDR`);
        }
      }
      return entries;
    },
  },
  {
    key: 'allowedOrigins',
    env: 'SWITCHBOARD_ALLOWED_ORIGINS',
    default: '',
    description:
      'Browser origins allowed to call the API (e.g. `https://console.example.com`); requests from any other `Origin` are refused.',
    parse: (raw) =>
      list(raw).map((origin) => {
        const url = URL.parse(origin);
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          throw new Error(`"${origin}" is not an http(s) origin`);
        }
        return url.origin;
      }),
  },
  {
    key: 'keyCacheTtlMs',
    env: 'SWITCHBOARD_KEY_CACHE_TTL_MS',
    default: undefined,
    description:
      'How long a process trusts a looked-up API key on PostgreSQL, bounding how late a revocation made by another process bites (unset: 1000). On SQLite a key is read again whenever the database changed (PRAGMA data_version, asked on every request), so a revocation bites from the next request on whatever this says.',
    parse: optional(integer(0, 5_000)),
  },
  {
    key: 'shutdownTimeoutMs',
    env: 'SWITCHBOARD_SHUTDOWN_TIMEOUT_MS',
    default: '30000',
    description: 'On SIGTERM, how long in-flight work may take before the process exits anyway.',
    parse: integer(0, 600_000),
  },
  {
    key: 'faultAt',
    env: 'SWITCHBOARD_FAULT_AT',
    default: undefined,
    description: `For crash tests only: \`<point>:<n>[:stop]\` kills (SIGKILL) or stops (SIGSTOP) this process the nth time a workflow step reaches a point (${FAULT_POINTS.join(', ')}).`,
    parse: optional((raw) => {
      const [point, nth, action = 'kill', ...rest] = raw.split(':');
      if (
        !FAULT_POINTS.includes(point as FaultPoint) ||
        !/^[1-9][0-9]*$/.test(nth ?? '') ||
        !FAULT_ACTIONS.includes(action as FaultAction) ||
        rest.length > 0
      )
        throw new Error(
          `must be <point>:<n> or <point>:<n>:stop with a point among ${FAULT_POINTS.join(', ')}`,
        );
      return { point: point as FaultPoint, nth: Number(nth), action: action as FaultAction };
    }),
  },
];

export interface LoadConfigOptions {
  /** The environment to read; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A dotenv file whose values apply where the environment has none; defaults to `./.env` if present. */
  envFile?: string | false;
}

export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = { ...readEnvFile(options.envFile), ...stripUndefined(options.env ?? process.env) };
  const problems: string[] = [];
  const config: Partial<Record<keyof Config, unknown>> = {};
  for (const variable of VARIABLES) {
    const raw = env[variable.env] ?? variable.default;
    if (raw === undefined) {
      config[variable.key] = undefined;
      continue;
    }
    try {
      config[variable.key] = variable.parse(raw);
    } catch (error) {
      problems.push(`${variable.env} ${(error as Error).message}`);
    }
  }
  if (problems.length === 0) problems.push(...capProblems(config as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config as Config);
}

/** A default an action gets must not exceed the cap it may ask up to. */
type NumberSetting = { [K in keyof Config]: Config[K] extends number ? K : never }[keyof Config];
const CAPPED: ReadonlyArray<[NumberSetting, NumberSetting]> = [
  ['egressTimeoutMs', 'egressTimeoutCapMs'],
  ['egressResponseLimitBytes', 'egressResponseCapBytes'],
  ['sandboxTimeoutMs', 'sandboxTimeoutCapMs'],
  ['sandboxMemoryMb', 'sandboxMemoryCapMb'],
  ['sandboxMaxFetches', 'sandboxMaxFetchesCap'],
];

function capProblems(config: Config): string[] {
  const envOf = (key: keyof Config) => VARIABLES.find((variable) => variable.key === key)?.env ?? key;
  return CAPPED.filter(([value, cap]) => config[value] > config[cap]).map(
    ([value, cap]) => `${envOf(value)} must not exceed ${envOf(cap)} (${config[value]} > ${config[cap]})`,
  );
}

function readEnvFile(file: string | false | undefined): Record<string, string> {
  if (file === false) return {};
  const path = file ?? resolve('.env');
  if (!existsSync(path)) return {};
  return stripUndefined(parseEnv(readFileSync(path, 'utf8')));
}

function stripUndefined(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) out[name] = value;
  return out;
}
