/**
 * delayd/testing on a store over a network (Redis). A fake clock's tickAsync runs timers and
 * microtasks, but a store's reply arrives on real I/O, which it does not wait for: a tick's
 * claim would still be in flight when the next fake second fires. So the test scheduler's
 * store is wrapped to count the calls in flight, and advance() steps from timer to timer,
 * letting every call settle (in real time, bounded) before the next step.
 */
import type { Store } from './store/types.js';

const SETTLE_LIMIT_MS = 30_000;

export interface SettlingStore {
  store: Store;
  /** Resolves once no store call is in flight; rejects after SETTLE_LIMIT_MS of real time. */
  settle(): Promise<void>;
}

export function settling(inner: Store): SettlingStore {
  let inFlight = 0;
  const done = () => void inFlight--;
  const store = new Proxy(inner, {
    get: (target, key) => {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        inFlight++;
        result.then(done, done);
        return result;
      };
    },
  });
  const settle = async () => {
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    while (inFlight > 0) {
      if (Date.now() > deadline) throw new Error(`delayd/testing: a store call was still in flight after ${SETTLE_LIMIT_MS} ms`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { store, settle };
}

/** The fake clock's next timer time (fake-timers keeps them in `timers`), or undefined. */
export function nextTimerAt(clock: object): number | undefined {
  const timers = (clock as { timers?: Record<string, { callAt: number }> }).timers;
  if (!timers) return undefined;
  let next: number | undefined;
  for (const timer of Object.values(timers)) if (next === undefined || timer.callAt < next) next = timer.callAt;
  return next;
}
