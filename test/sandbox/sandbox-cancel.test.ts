/**
 * A run's signal stops it wherever it is: waiting for a worker (it never starts), running synchronous
 * code (its worker is ended and replaced), or awaiting a fetch (the fetch's own signal aborts). The pool
 * serves the next run afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import type { SandboxResult, SandboxRunRequest } from '../../src/core/ports/sandbox.ts';
import { DEFAULT_LIMITS, fakeFetch, runner, timed, valueOf } from './support.ts';

const sandbox = createQuickJsSandbox({ workers: 1 });
const run = runner(sandbox);
afterAll(() => sandbox.close());
beforeAll(async () => {
  await run('return 1');
});

const start = (source: string, signal: AbortSignal, fetch = fakeFetch().fetch): Promise<SandboxResult> =>
  sandbox.run({
    source,
    inputs: {},
    secrets: {},
    fetch,
    limits: DEFAULT_LIMITS,
    signal,
  } satisfies SandboxRunRequest);

const codeOf = (result: SandboxResult) => (result.ok ? 'ok' : result.code);

/** Resolves once the pool has a run on a worker. */
async function busy(): Promise<void> {
  while (sandbox.stats().busy === 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('cancelling a sandbox run', () => {
  it('fails at once, running nothing, when its signal is already aborted', async () => {
    const result = await start('return 1', AbortSignal.abort());
    expect(codeOf(result)).toBe('SANDBOX_CANCELLED');
  });

  it('stops a guest busy in synchronous code long before its limit, and the pool serves again', async () => {
    const controller = new AbortController();
    const spinning = start('for (;;) {}', controller.signal);
    await busy();
    const before = sandbox.stats().started;
    const { result, ms } = await timed(async () => {
      controller.abort();
      return spinning;
    });
    expect(codeOf(result)).toBe('SANDBOX_CANCELLED');
    expect(ms).toBeLessThan(500);
    expect(valueOf(await run('return inputs.n * 2', { inputs: { n: 21 } }))).toBe(42);
    expect(sandbox.stats().started).toBe(before + 1);
    expect(sandbox.stats().workers).toBe(1);
  });

  it('takes a run still waiting for the worker out of the queue', async () => {
    const first = new AbortController();
    const second = new AbortController();
    const running = start('for (;;) {}', first.signal);
    await busy();
    const waiting = start('return "never"', second.signal);
    expect(sandbox.stats().queued).toBe(1);
    second.abort();
    expect(codeOf(await waiting)).toBe('SANDBOX_CANCELLED');
    expect(sandbox.stats().queued).toBe(0);
    first.abort();
    expect(codeOf(await running)).toBe('SANDBOX_CANCELLED');
  });

  it('aborts the fetch a guest awaits', async () => {
    const controller = new AbortController();
    const fetch = fakeFetch({ 'https://api.example/slow': 'hang' });
    const awaiting = start(
      "await fetch('https://api.example/slow'); return 1",
      controller.signal,
      fetch.fetch,
    );
    while (fetch.signals.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    expect(codeOf(await awaiting)).toBe('SANDBOX_CANCELLED');
    expect(fetch.signals[0]?.aborted).toBe(true);
  });
});
