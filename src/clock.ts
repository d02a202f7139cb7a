/**
 * Every part of delayd that reads the time or waits takes a Clock, so tests can drive hours of
 * schedule with @sinonjs/fake-timers in milliseconds. `now()` is wall-clock unix milliseconds;
 * timers are Node's, which run on a monotonic clock and so are not moved by wall-clock jumps.
 */
export interface Clock {
  now(): number;
  /**
   * Milliseconds on a clock that never jumps (for measuring elapsed time, such as the age of
   * the last acknowledged heartbeat). Absent: `now()` is used.
   */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The shape of a @sinonjs/fake-timers clock that we use; `now` is a property there. */
export interface FakeClockLike {
  now: number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export function fromFakeClock(fake: FakeClockLike): Clock {
  return {
    now: () => fake.now,
    monotonic: () => fake.now,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle),
  };
}
