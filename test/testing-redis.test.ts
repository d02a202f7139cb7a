/**
 * delayd/testing on Redis: createTestScheduler({ db: 'redis://...' }) drives hours of schedule
 * on the fake clock although every store reply is real I/O (settle.ts): tasks run at their
 * exact fake millisecond, retries at their backoff, in minutes of schedule per test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestScheduler } from '../src/testing.js';
import { startRedis, stopAllRedis, type RedisServer } from './redis/servers.js';

const T0 = Date.parse('2030-01-01T09:00:00.000Z');
let server: RedisServer;
let db = 0;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

describe('delayd/testing on Redis', () => {
  it('runs each task at its own fake millisecond, two hours of schedule in seconds', async () => {
    const t = createTestScheduler({ db: `${server.url}/${++db}`, shards: 1, now: T0, asDefault: false });
    try {
      const ran: { n: number; at: number }[] = [];
      const job = t.scheduler.task('job')((n: number) => void ran.push({ n, at: t.clock.now }));
      t.scheduler.start();
      await job.delay([1], 10.25);
      await job.delay([2], { eta: new Date(T0 + 3_600_000 + 7) });
      await job.delay([3], { eta: new Date(T0 + 7_200_000) });
      await t.advance(10_249);
      expect(ran).toEqual([]);
      await t.advance(1);
      expect(ran).toEqual([{ n: 1, at: T0 + 10_250 }]);
      await t.advance(7_200_000);
      expect(ran).toEqual([
        { n: 1, at: T0 + 10_250 },
        { n: 2, at: T0 + 3_600_007 },
        { n: 3, at: T0 + 7_200_000 },
      ]);
      expect((await t.scheduler.stats()).counts).toMatchObject({ succeeded: 3, scheduled: 0 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it('retries at the backoff the handler declares', async () => {
    const t = createTestScheduler({ db: `${server.url}/${++db}`, shards: 1, now: T0, asDefault: false });
    try {
      const at: number[] = [];
      const flaky = t.scheduler.task('flaky', { retries: 2, backoff: 30 })(() => {
        at.push(t.clock.now);
        if (at.length < 3) throw new Error('not yet');
      });
      t.scheduler.start();
      const { id } = await flaky.delay([], 1);
      await t.advance(200_000);
      expect(at).toHaveLength(3);
      expect(at[0]).toBe(T0 + 1_000);
      // 30 s, then 60 s, each with a jitter in [0.8, 1.2) (runner.ts backoffMs)
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(24_000);
      expect(at[1]! - at[0]!).toBeLessThan(37_000);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(48_000);
      expect(at[2]! - at[1]!).toBeLessThan(73_000);
      expect(await t.scheduler.get(id)).toMatchObject({ state: 'succeeded', attempts: 3 });
    } finally {
      await t.close();
    }
  }, 60_000);
});
