/** Shared set-up for scenario tests: a fresh scheduler on a fake clock at a fixed time. */
import { afterEach } from 'vitest';
import { createTestScheduler, type TestSchedulerOptions } from '../src/testing.js';
import type { Store } from '../src/store/types.js';

export const T0 = Date.parse('2030-01-01T09:00:00.000Z');

export function fixture(options: TestSchedulerOptions = {}) {
  const t = createTestScheduler({ now: T0, asDefault: false, ...options });
  const events: { event: string; at: number; payload: Record<string, unknown> }[] = [];
  for (const event of ['received', 'accepted', 'succeeded', 'retrying', 'failed']) {
    t.scheduler.on(event, (payload: Record<string, unknown>) => events.push({ event, at: t.clock.now, payload }));
  }
  const of = (event: string) => events.filter((e) => e.event === event);
  return { ...t, events, of };
}

/**
 * Registers an afterEach that undoes what a test set up, last first, and returns `setup()`
 * (a fixture closed after the test) and `defer(fn)` for anything else to clean.
 */
export function scenarios() {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const defer = (fn: () => unknown) => void cleanups.push(fn);
  const setup = (options: TestSchedulerOptions = {}) => {
    const f = fixture(options);
    defer(f.close);
    return f;
  };
  return { setup, defer };
}

/** Everything an async iterable yields, in order (Array.fromAsync comes with Node 22). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** `store` with one method replaced (a store that fails in a given way); the rest bound to it. */
export function withMethod<K extends keyof Store>(store: Store, name: K, method: Store[K]): Store {
  return new Proxy(store, {
    get: (target, key) => {
      if (key === name) return method;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
