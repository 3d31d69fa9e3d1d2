/**
 * A pool with a fetcher makes the fetch calls of runs that carry a fetch scope in their own worker: the
 * calls never come back to the pool's thread, and the worker applies the run's budget and concurrency
 * limit, ends calls still in flight with the run, and reports what each call did. Runs without a scope
 * still call the request's fetch here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createQuickJsSandbox } from '../../src/adapters/sandbox/quickjs-sandbox.ts';
import type { SandboxFetchScope } from '../../src/core/ports/sandbox.ts';
import { fakeFetch, runner, valueOf } from './support.ts';

const sandbox = createQuickJsSandbox({
  workers: 1,
  fetcher: { module: new URL('./fixtures/echo-fetcher.ts', import.meta.url), options: { delayMs: 5 } },
});
const run = runner(sandbox);
afterAll(() => sandbox.close());

const record = {
  id: 's1',
  organizationId: 'o1',
  description: null,
  keyVersion: 1,
  createdAt: '',
  updatedAt: '',
};
const scope: SandboxFetchScope = {
  secrets: [{ record: { ...record, name: 'API_KEY', allowedHosts: ['api.test'] }, value: 'k-123' }],
  timeoutMs: 7_000,
  deadline: Date.now() + 60_000,
};

describe('fetch calls made by the worker', () => {
  it('answers from the worker’s fetcher, never from the pool’s, and reports each call', async () => {
    const host = fakeFetch();
    const result = await run(
      `const r = await fetch('https://api.test/a', { method: 'POST', headers: { 'X-N': 1 }, body: 'hi' });
       return await r.json();`,
      { fetch: host.fetch, fetchScope: scope },
    );
    expect(valueOf(result)).toMatchObject({
      request: { url: 'https://api.test/a', method: 'POST', headers: { 'x-n': '1' }, body: 'hi' },
      timeoutMs: 7_000,
      secrets: ['API_KEY'],
    });
    expect(host.calls).toHaveLength(0);
    expect(result.fetches).toBe(1);
    expect(result.fetchLog).toEqual([
      { method: 'POST', url: 'https://api.test/a', status: 200, duration_ms: 0 },
    ]);
  });

  it('keeps the run’s budget and concurrency: 20 of 30 calls go out, never more than 4 at once', async () => {
    const result = await run(
      `const answers = await Promise.all(Array.from({ length: 30 }, (_, i) =>
         fetch('https://api.test/' + i).then((r) => r.json(), (e) => e.message)));
       const made = answers.filter((a) => typeof a === 'object');
       return { made: made.length, most: Math.max(...made.map((a) => a.most)),
         refused: answers.filter((a) => typeof a === 'string' && a.startsWith('FETCH_BUDGET_EXCEEDED')).length };`,
      { fetchScope: scope, limits: { maxFetches: 20, maxConcurrentFetches: 4 } },
    );
    expect(valueOf(result)).toEqual({ made: 20, most: 4, refused: 10 });
    expect(result.fetchLog).toHaveLength(20);
  });

  it('ends a call still in flight when the run ends', async () => {
    const ended = await run(`fetch('https://api.test/hang'); return 'done';`, { fetchScope: scope });
    expect(valueOf(ended)).toBe('done');
    const next = await run(`return (await (await fetch('https://api.test/count')).json()).aborted;`, {
      fetchScope: scope,
    });
    expect(valueOf(next)).toBe(1);
  });

  it('calls the request’s own fetch for a run without a scope', async () => {
    const host = fakeFetch({ 'https://api.test/own': { status: 200, body: 'mine' } });
    const result = await run(`return await (await fetch('https://api.test/own')).text();`, {
      fetch: host.fetch,
    });
    expect(valueOf(result)).toBe('mine');
    expect(host.calls).toHaveLength(1);
    expect(result.fetchLog).toBeUndefined();
  });
});
