/**
 * Start-up and idle memory: the time from spawning the server (`node src/server.ts`, what `npm start`
 * runs) on an existing data directory until its first execute of the http action answers 200 with a
 * succeeded execution, and the server's resident memory once it has sat idle for a moment after that.
 * The data directory is made by an earlier start that created the action, as an operator's would be.
 */
import { createServer } from 'node:net';
import { request } from 'undici';
import { UPSTREAM_HOST, createOrderLookup } from './http-actions.ts';
import { rssMb, spawnServer, startScript, startSwitchboard, stopServer } from './processes.ts';

const rounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 3);
/** How long the server idles after its first execute before its memory is read. */
const idleMs = Number(process.env.BENCH_IDLE_MS ?? 3_000);
const POLL_MS = 2;
const GIVE_UP_MS = 30_000;

export interface StartupFigures {
  /** Spawn to first good execute, each round, in ms. */
  startMs: number[];
  /** Resident memory after idling, each round, in MB. */
  idleRssMb: number[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on now (the server is told it, so the first execute needs no banner). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Executes until one answers 200 with a succeeded execution; refused connections mean "not up yet". */
async function firstGoodExecute(url: string, key: string, actionId: string): Promise<void> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  while (Date.now() < giveUpAt) {
    try {
      const response = await request(`${url}/v1/actions/${actionId}/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ inputs: { order_id: 'ORD-12345' } }),
      });
      const text = await response.body.text();
      if (response.statusCode === 200 && text.includes('"status":"succeeded"')) return;
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no good execute within ${GIVE_UP_MS} ms of starting the server`);
}

export async function benchStartup(): Promise<StartupFigures> {
  const upstreamProcess = await startScript('bench/upstream.ts', [UPSTREAM_HOST]);
  const upstream = `http://${UPSTREAM_HOST}:${upstreamProcess.port}`;
  const first = await startSwitchboard({ SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: UPSTREAM_HOST });
  const { actionId } = await createOrderLookup(first, upstream);
  await first.stop();

  const figures: StartupFigures = { startMs: [], idleRssMb: [] };
  for (let round = 0; round < rounds; round++) {
    const port = await freePort();
    const began = process.hrtime.bigint();
    const child = spawnServer({ ...first.env, SWITCHBOARD_PORT: String(port) }, first.cwd);
    child.stderr?.resume();
    await firstGoodExecute(`http://127.0.0.1:${port}`, first.key, actionId);
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    await sleep(idleMs);
    const rss = rssMb(child.pid);
    await stopServer(child);
    figures.startMs.push(ms);
    if (rss !== undefined) figures.idleRssMb.push(rss);
    process.stderr.write(
      `  round ${round + 1}: first good execute ${ms.toFixed(0)} ms after spawn, idle RSS ${rss?.toFixed(0) ?? '-'} MB\n`,
    );
  }
  await upstreamProcess.stop();
  return figures;
}
