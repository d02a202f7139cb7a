/**
 * Every part of delayd that reads the time or waits takes a Clock, so tests can drive hours of
 * schedule with @sinonjs/fake-timers in milliseconds. `now()` is wall-clock unix milliseconds;
 * timers are Node's, which run on a monotonic clock and so are not moved by wall-clock jumps.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle),
  };
}
