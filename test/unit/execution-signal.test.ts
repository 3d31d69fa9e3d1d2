/** The signal a kind runs under: stopped by its caller or its deadline, and let go once the run is over. */
import { describe, expect, it } from 'vitest';
import { ExecutionSignal } from '../../src/app/executions/cancellation.ts';

describe('ExecutionSignal', () => {
  it('aborts at the deadline, as a timeout', async () => {
    const stop = new ExecutionSignal(20, undefined);
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
    expect(stop.stopped).toEqual({
      category: 'timeout',
      detail: expect.stringMatching(/deadline of 20 ms/),
    });
    stop.dispose();
  });

  it("aborts with its caller's signal, as a cancellation that says why", () => {
    const caller = new AbortController();
    const stop = new ExecutionSignal(60_000, caller.signal);
    expect(stop.signal.aborted).toBe(false);
    caller.abort(new Error('The worker is stopping'));
    expect(stop.signal.aborted).toBe(true);
    expect(stop.stopped).toEqual({ category: 'cancelled', detail: 'The worker is stopping' });
    stop.dispose();
  });

  it('starts aborted when its caller already gave up', () => {
    const stop = new ExecutionSignal(60_000, AbortSignal.abort());
    expect(stop.signal.aborted).toBe(true);
    expect(stop.stopped?.category).toBe('cancelled');
    stop.dispose();
  });

  it('keeps the first reason, and ignores both once disposed', async () => {
    const caller = new AbortController();
    const stop = new ExecutionSignal(10, caller.signal);
    stop.dispose();
    caller.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stop.signal.aborted).toBe(false);
    expect(stop.stopped).toBeUndefined();

    const twice = new ExecutionSignal(60_000, undefined);
    twice.stop({ category: 'cancelled', detail: 'first' });
    twice.stop({ category: 'timeout', detail: 'second' });
    expect(twice.stopped?.detail).toBe('first');
    twice.dispose();
  });
});
