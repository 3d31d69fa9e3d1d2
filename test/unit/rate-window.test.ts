import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/adapters/rate-limit/memory.ts';

const fakeClock = (start = 1_700_000_000_000) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('MemoryRateLimiter', () => {
  it('admits the limit, then refuses with a Retry-After that really frees a slot', async () => {
    const clock = fakeClock();
    const limiter = new MemoryRateLimiter(clock);
    for (let i = 0; i < 5; i++) expect((await limiter.consume('k', 5)).allowed).toBe(true);
    const refused = await limiter.consume('k', 5);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(70);
    clock.advance(refused.retryAfterSeconds * 1000 - 1000);
    expect((await limiter.consume('k', 5)).allowed).toBe(false);
    clock.advance(1000);
    expect((await limiter.consume('k', 5)).allowed).toBe(true);
    await limiter.close();
  });

  it('keeps keys apart', async () => {
    const limiter = new MemoryRateLimiter(fakeClock());
    expect((await limiter.consume('a', 1)).allowed).toBe(true);
    expect((await limiter.consume('a', 1)).allowed).toBe(false);
    expect((await limiter.consume('b', 1)).allowed).toBe(true);
    await limiter.close();
  });

  it('never admits more than the limit in any rolling minute (docs/security.md J06)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.integer({ min: 0, max: 4_000 }), { minLength: 1, maxLength: 400 }),
        async (limit, gaps) => {
          const clock = fakeClock();
          const limiter = new MemoryRateLimiter(clock);
          const admitted: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            if ((await limiter.consume('k', limit)).allowed) admitted.push(clock.now());
          }
          await limiter.close();
          for (let i = 0; i < admitted.length; i++) {
            const start = admitted[i] ?? 0;
            const inWindow = admitted.filter((t) => t >= start && t < start + 60_000).length;
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
