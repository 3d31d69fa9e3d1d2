/** Real server and CLI processes, started the way a user starts them, for tests that need a process boundary. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
    // a server that did not start in time is killed, so it cannot linger listening after the test gave up
    const timer = setTimeout(() => {
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
