/** Real server and CLI processes, started the way a user starts them, for tests that need a process boundary. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type StoreKind, type TestDatabase } from './databases.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Only what the process needs: the test runner's own SWITCHBOARD_* variables must not leak in. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, SWITCHBOARD_LOG_LEVEL: 'info', ...env };
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `node src/worker.ts` and waits until it works the queue; `url` is empty (it serves no HTTP). */
export function startWorker(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  return startEntryPoint('worker.ts', /(worker started)/, env, cwd);
}

/** Runs `node src/server.ts` with `cwd` (where a .env would be read) and waits until it listens. */
export function startServer(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  return startEntryPoint('server.ts', /listening on (http:\/\/\S+)/, env, cwd);
}

function startEntryPoint(
  script: string,
  ready: RegExp,
  env: Record<string, string>,
  cwd: string,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [`${ROOT}src/${script}`], {
    cwd,
    env: childEnv({ SWITCHBOARD_PORT: '0', ...env }),
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // not left running behind a failed start
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1]?.startsWith('http') ? match[1] : '',
          child,
          output: () => output,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Runs a process to completion: for start-up failures and the CLI. */
export function run(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd, env: childEnv(env), timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export const runServerUntilExit = (env: Record<string, string>, cwd: string) =>
  run([`${ROOT}src/server.ts`], env, cwd);
export const runCli = (args: string[], env: Record<string, string>, cwd: string) =>
  run([`${ROOT}bin/switchboard.js`, ...args], env, cwd);

export async function call(
  url: string,
  key: string | undefined,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  // Tests talk to the server under test over loopback; the egress rule binds src/, not the test harness.
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export type Spawn = (entry: 'server' | 'worker', env: Record<string, string>) => Promise<ServerProcess>;

export interface ProcessCluster {
  db: TestDatabase;
  /** The admin key every process is started with. */
  key: string;
  /** What points a process at the store: the admin key, loopback upstreams, `leaseMs` leases, quick retries. */
  env: Record<string, string>;
  /** Starts a server or worker on the store, through `booting`; it is killed when the test ends. */
  spawn: Spawn;
}

/**
 * What a test of workflow runs across processes starts from: a fresh `kind` store dropped when the test
 * ends, and processes started on it in turns (`booting`: start-ups are CPU-bound).
 */
export async function processCluster(
  kind: StoreKind,
  leaseMs: number,
  onTestFinished: (fn: () => Promise<void>) => void,
  booting: <T>(task: () => Promise<T>) => Promise<T>,
): Promise<ProcessCluster> {
  const db = await createTestDatabase(kind);
  onTestFinished(() => db.drop());
  const key = `e2e-admin-${randomBytes(12).toString('hex')}`;
  const env = {
    ...db.env,
    SWITCHBOARD_ADMIN_KEY: key,
    SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2',
    SWITCHBOARD_JOB_LEASE_MS: String(leaseMs),
    SWITCHBOARD_JOB_RETRY_BASE_MS: '50',
  };
  const spawnOne: Spawn = async (entry, processEnv) => {
    const p = await booting(() => (entry === 'server' ? startServer : startWorker)(processEnv, db.dataDir));
    onTestFinished(async () => {
      await p.stop('SIGKILL');
    });
    return p;
  };
  return { db, key, env, spawn: spawnOne };
}
