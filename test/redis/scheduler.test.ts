/**
 * The whole app on Redis: `new Scheduler({ db: 'redis://127.0.0.1:PORT' })` on the real clock
 * (Redis replies are real I/O, which a fake clock's tickAsync does not wait for), with short
 * delays and waits for conditions, each bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/index.js';
import type { TaskContext } from '../../src/index.js';
import { createLogger } from '../../src/logger.js';
import { startRedis, stopAllRedis, type RedisServer } from './servers.js';
import { collect } from '../helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function app(): Scheduler {
  return new Scheduler({ db: `${server.url}/${++db % 16}`, logger: createLogger({ level: 'silent' }), heartbeatMs: 500 });
}
let db = 0;

describe('a Scheduler on Redis', () => {
  it('runs delay, delayMany and map at their due times, never early; retries with backoff; times out', async () => {
    const s = app();
    const ran = new Map<number, number>();
    const job = s.task('job')(function (this: TaskContext) {
      ran.set(this.id, Date.now());
    });
    let flakes = 0;
    const flaky = s.task('flaky', { retries: 3, backoff: 0.2 })(() => {
      if (++flakes < 3) throw new Error(`flake ${flakes}`);
      return 'ok';
    });
    const slow = s.task('slow', { timeout: 0.2 })(() => new Promise((r) => setTimeout(r, 2000)));
    const square = s.task('square')((n: number) => n * n);
    const total = s.task('total')(async (batchId: number) => {
      const results = await collect((await s.batch(batchId)).results());
      return results.reduce((sum, r) => sum + (r.value as number), 0);
    });
    await s.start();
    try {
      const one = await job.delay([], 0.3);
      const many = await job.delayMany(Array.from({ length: 100 }, (_, i) => ({ args: [], when: 0.2 + (i % 10) * 0.1 })));
      const f = await flaky.delay([], 0);
      const t = await slow.delay([], 0);
      const batch = await square.map([[1], [2], [3], [4]], { countdown: 0.1, reduce: total });
      await until('every job ran', 8000, async () => ran.size === 101);
      for (const task of [one, ...many]) expect(ran.get(task.id)!).toBeGreaterThanOrEqual(task.eta.getTime());
      const flakyRow = await until('flaky succeeded', 8000, async () => {
        const row = await s.get(f.id);
        return row?.state === 'succeeded' && row;
      });
      expect(flakyRow).toMatchObject({ attempts: 3, result: '"ok"' });
      expect(flakyRow.errors.map((e) => e.message)).toEqual(['flake 1', 'flake 2']);
      const slowRow = await until('slow failed', 8000, async () => {
        const row = await s.get(t.id);
        return row?.state === 'failed' && row;
      });
      expect(slowRow.lastErrorCode).toBe('E_TIMEOUT');
      const reduceId = await until('the reduce ran', 8000, async () => {
        const { reduceTaskId } = await batch.progress();
        return reduceTaskId !== null && (await s.get(reduceTaskId))?.state === 'succeeded' && reduceTaskId;
      });
      expect(await s.get(reduceId)).toMatchObject({ result: '30' });
      expect(await batch.progress()).toMatchObject({ total: 4, succeeded: 4 });
      const stats = await s.stats();
      expect(stats.counts).toMatchObject({ scheduled: 0, running: 0, succeeded: 101 + 1 + 4 + 1, failed: 1 });
      expect(stats.backend).toMatchObject({ kind: 'redis', shards: 16 });
    } finally {
      await s.close();
    }
  }, 30_000);

  it('cancels, reschedules and retries through the scheduler', async () => {
    const s = app();
    const ran: number[] = [];
    let failOnce = true;
    const job = s.task('job')(function (this: TaskContext) {
      ran.push(this.id);
      if (this.id === failing.id && failOnce) {
        failOnce = false;
        throw new Error('first time');
      }
    });
    await s.start();
    let failing = { id: -1 };
    try {
      const cancelled = await job.delay([], 60);
      const moved = await job.delay([], 60);
      failing = await job.delay([], 0.1);
      expect(await s.cancel(cancelled.id)).toMatchObject({ state: 'cancelled' });
      expect((await s.reschedule(moved.id, { countdown: 0.2 })).state).toBe('scheduled');
      await until('moved ran', 5000, async () => (await s.get(moved.id))?.state === 'succeeded');
      await until('failing failed', 5000, async () => (await s.get(failing.id))?.state === 'failed');
      expect((await s.retry(failing.id)).state).toBe('scheduled');
      await until('failing succeeded on retry', 5000, async () => (await s.get(failing.id))?.state === 'succeeded');
      expect(ran.filter((id) => id === failing.id)).toHaveLength(2);
      expect(ran).not.toContain(cancelled.id);
      expect((await s.get(cancelled.id))?.state).toBe('cancelled');
    } finally {
      await s.close();
    }
  }, 20_000);
});
