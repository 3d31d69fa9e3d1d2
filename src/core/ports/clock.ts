/** Time, injectable so schedules, leases and expiries can be tested with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();
