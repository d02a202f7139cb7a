/** BackendClock (backend-clock.ts): this host's clock corrected to the backend's, never ahead of it. */
import { describe, expect, it } from 'vitest';
import { BackendClock, judgesTime } from '../src/backend-clock.js';
import type { Clock } from '../src/clock.js';

function localClock(start: number): Clock & { at: number } {
  const c = {
    at: start,
    now: () => c.at,
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
  return c;
}

describe('a clock judged by the backend', () => {
  it('runs behind this host by the skew of a host whose clock is 2 s ahead', async () => {
    const local = localClock(1_000_000);
    const clock = new BackendClock(local, { now: async () => local.at - 2_000 });
    expect(clock.now()).toBe(1_000_000);
    await clock.sync();
    expect(clock.offsetMs).toBe(-2_000);
    local.at += 500;
    expect(clock.now()).toBe(998_500);
  });

  it('never reads ahead of the backend, whatever the round trip: the backend read its time before answering', async () => {
    const local = localClock(5_000_000);
    let backend = 5_000_000 + 700; // this host runs 700 ms behind
    const clock = new BackendClock(local, {
      now: async () => {
        const read = backend; // the backend reads its time ...
        local.at += 40; // ... and the answer takes 40 ms to arrive
        backend += 40;
        return read;
      },
    });
    await clock.sync();
    expect(clock.now()).toBeLessThanOrEqual(backend);
    expect(backend - clock.now()).toBe(40);
  });

  it('keeps the last offset when a sample fails', async () => {
    const local = localClock(0);
    let fail = false;
    const clock = new BackendClock(local, { now: async () => (fail ? Promise.reject(new Error('down')) : 3_000) });
    await clock.sync();
    fail = true;
    await expect(clock.sync()).rejects.toThrow('down');
    expect(clock.offsetMs).toBe(3_000);
  });

  it('is used only for a store that says its clock judges', () => {
    expect(judgesTime({ clock: 'backend', now: async () => 0 })).toBe(true);
    expect(judgesTime({ clock: 'local', now: async () => 0 })).toBe(false);
    expect(judgesTime({ now: async () => 0 })).toBe(false);
  });
});

describe('a scheduler on a store that judges time', () => {
  it('on a host whose clock runs 1.5 s ahead, starts a task at its due time by the backend, not before', async () => {
    const { Scheduler } = await import('../src/scheduler.js');
    const { SqliteStore } = await import('../src/store/sqlite/index.js');
    const { createLogger } = await import('../src/logger.js');
    const SKEW = 1_500;
    const sqlite = new SqliteStore({ path: ':memory:' });
    const backendNow = () => Date.now() - SKEW; // the backend's clock: behind ours by SKEW
    const store = new Proxy(sqlite, {
      get: (target, key) => {
        if (key === 'clock') return 'backend';
        if (key === 'now') return async () => backendNow();
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const app = new Scheduler({ store, logger: createLogger({ level: 'silent' }) });
    const started = new Promise<number>((resolve) => app.task('probe')(() => resolve(backendNow())));
    const dueMs = backendNow() + 200;
    await store.insert([{ name: 'probe', args: '[]', dueMs, createdMs: dueMs, key: null, retries: null, backoffMs: null, timeoutMs: null }]);
    await app.start();
    try {
      const at = await started;
      expect(at).toBeGreaterThanOrEqual(dueMs);
      expect(at - dueMs).toBeLessThan(1_000);
    } finally {
      await app.close();
      sqlite.close();
    }
  });
});
