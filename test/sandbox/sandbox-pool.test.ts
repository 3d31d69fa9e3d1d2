/**
 * The hard stop behind the engine's own limits (docs/security.md G-07): the pool terminates a worker that
 * does not answer by the deadline plus the grace period, replaces a worker that dies, and stops holding runs
 * for an engine that cannot start. Faults are injected by a worker script that wraps the real one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxResult } from '../../src/core/ports/sandbox.ts';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import { MB, runner, timed, valueOf } from './support.ts';

const GRACE_MS = 250;
const faulty = createQuickJsSandbox({
  workers: 1,
  hardKillGraceMs: GRACE_MS,
  workerScript: new URL('./fixtures/faulty-worker.ts', import.meta.url),
});
const run = runner(faulty, { timeoutMs: 300 });
afterAll(() => faulty.close());
// the worker starts with the first run; the timed cases measure the kill, not the pool's start-up
beforeAll(async () => {
  await run('return 1');
});

function failure(result: SandboxResult): string {
  return result.ok ? 'ok' : `${result.code}: ${result.message}`;
}

async function expectServing(): Promise<void> {
  expect(valueOf(await run('return inputs.n * 2', { inputs: { n: 21 } }))).toBe(42);
}

describe('a worker that stops answering', () => {
  it('is terminated at deadline + grace; the run fails with SANDBOX_TIMEOUT and a new worker serves', async () => {
    const before = faulty.stats();
    const { result, ms } = await timed(() => run('__HANG__'));
    expect(failure(result)).toMatch(/^SANDBOX_TIMEOUT/);
    expect(ms).toBeGreaterThanOrEqual(300 + GRACE_MS - 5);
    // the kill is a timer on this thread, which the rest of the suite keeps busy in parallel
    expect(ms).toBeLessThanOrEqual(300 + GRACE_MS + 300);
    expect(faulty.stats().hardKills).toBe(before.hardKills + 1);
    await expectServing();
    expect(faulty.stats().workers).toBe(1);
  });

  it('stops one long native call (a sort of a million numbers) by deadline + grace', async () => {
    const source =
      'const a = []; for (let i = 0; i < 1e6; i++) a.push((i * 7919) % 1000003);\n' +
      'a.sort(); a.slice().sort(); return 1';
    const { result, ms } = await timed(() => run(source, { limits: { memoryBytes: 256 * MB } }));
    expect(failure(result)).toMatch(/^SANDBOX_TIMEOUT/);
    expect(ms).toBeLessThanOrEqual(300 + GRACE_MS + 300);
    await expectServing();
  });
});

describe('a worker that dies', () => {
  it.each([
    ['exits', '__EXIT__'],
    ['throws from its own code', '__THROW__'],
  ])(
    '%s: the run fails with SANDBOX_CRASHED and a replacement serves the next run',
    async (_name, marker) => {
      const before = faulty.stats().crashes;
      const { result, ms } = await timed(() => run(marker));
      expect(failure(result)).toMatch(/^SANDBOX_CRASHED/);
      expect(ms).toBeLessThan(300);
      expect(faulty.stats().crashes).toBe(before + 1);
      await expectServing();
    },
  );

  it('fails queued runs, not only the running one, only with the crashed worker', async () => {
    const results = await Promise.all([run('__EXIT__'), run('return 1'), run('return 2')]);
    expect(failure(results[0])).toMatch(/^SANDBOX_CRASHED/);
    expect(results.slice(1).map(valueOf)).toEqual([1, 2]);
  });
});

describe('an engine that cannot start', () => {
  it('fails the runs waiting for it with SANDBOX_CRASHED instead of holding them', async () => {
    const broken = createQuickJsSandbox({
      workers: 1,
      workerScript: new URL('./fixtures/failing-worker.ts', import.meta.url),
    });
    try {
      const { result, ms } = await timed(() => runner(broken)('return 1'));
      expect(failure(result)).toBe('SANDBOX_CRASHED: The sandbox engine could not start');
      expect(ms).toBeLessThan(5_000);
    } finally {
      await broken.close();
    }
  });
});
