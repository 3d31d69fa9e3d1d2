/** Child processes for the benchmark: each system under test runs in its own process, as in production. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const children: ChildProcess[] = [];

const STOP_SIGNAL = process.env.BENCH_PROFILE_DIR ? 'SIGTERM' : 'SIGKILL';

export function stopAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill(STOP_SIGNAL);
}
process.on('exit', stopAll);

/** Ends every child started so far and waits for them to exit. */
export async function stopChildren(): Promise<void> {
  await Promise.all(children.map(stop));
}

/** Ends one child and resolves once it has exited (so the next part of the run has the cores to itself). */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(STOP_SIGNAL);
  });
}

/** Seconds of CPU a process has used, all threads (Linux /proc); undefined elsewhere. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/** Resident memory of a process in MB (Linux /proc); undefined elsewhere. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Starts `node <script> ...args` and resolves with its port (printed as `{"port": n}`) and pid. */
export function startScript(
  script: string,
  args: string[],
): Promise<{ port: number; pid: number | undefined; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) =>
      resolve({
        port: (JSON.parse(chunk.toString()) as { port: number }).port,
        pid: child.pid,
        stop: () => stop(child),
      }),
    );
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export interface SwitchboardProcess {
  url: string;
  key: string;
  pid: number | undefined;
  /** The working directory it runs in, which holds its data directory. */
  cwd: string;
  /** The environment it was started with (to start it again on the same data). */
  env: Record<string, string>;
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** The Node.js options `npm start` runs the server with (package.json's start script, `node <options> src/server.ts`). */
function startOptions(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = (scripts.start ?? '').split(/\s+/).filter(Boolean);
  if (words[0] !== 'node' || words.at(-1) !== 'src/server.ts')
    throw new Error(`the start script is not "node [options] src/server.ts": ${scripts.start}`);
  // npm runs it from the project; the bench runs the server elsewhere
  return words.slice(1, -1).map((word) => (word.startsWith('./') ? join(ROOT, word) : word));
}

/** The server as `npm start` runs it, with quiet logs and limits high enough not to refuse the load. */
export function spawnServer(env: Record<string, string>, cwd: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      ...startOptions(),
      ...(process.env.BENCH_PROFILE_DIR
        ? ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR]
        : []),
      join(ROOT, 'src/server.ts'),
    ],
    {
      cwd,
      env: {
        PATH: process.env.PATH,
        SWITCHBOARD_PORT: '0',
        SWITCHBOARD_LOG_LEVEL: 'warn',
        // limits on, as in production, just high enough not to refuse the load
        SWITCHBOARD_RATE_LIMIT_PER_KEY: '10000000',
        SWITCHBOARD_RATE_LIMIT_PER_ORG: '10000000',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  children.push(child);
  return child;
}

/** Ends one child started by spawnServer and waits for it to exit. */
export const stopServer = (child: ChildProcess): Promise<void> => stop(child);

/** Starts the real server (`src/server.ts`) on a fresh data directory, with quiet logs. */
export function startSwitchboard(env: Record<string, string>): Promise<SwitchboardProcess> {
  const key = `bench-admin-key-${process.pid}-${Date.now()}`;
  const serverEnv = { SWITCHBOARD_ADMIN_KEY: key, ...env };
  const cwd = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  const child = spawnServer(serverEnv, cwd);
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      child.stderr?.removeAllListeners('data');
      child.stderr?.resume();
      resolve({
        url,
        key,
        pid: child.pid,
        cwd,
        env: serverEnv,
        stop: () => stop(child),
        async api<T>(method: string, path: string, body?: unknown): Promise<T> {
          const response = await request(`${url}${path}`, {
            method: method as 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          const text = await response.body.text();
          if (response.statusCode >= 300)
            throw new Error(`${method} ${path}: ${response.statusCode} ${text}`);
          return JSON.parse(text) as T;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`switchboard exited with ${code}:\n${output}`)));
  });
}
