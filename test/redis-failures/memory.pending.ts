/**
 * Redis out of memory: with `maxmemory` and `noeviction`, delay() and delayMany() reject with
 * E_BACKEND_FULL and nothing of a refused call is written (each call's tasks carry the call's
 * number in their keys: every task present belongs to an acknowledged call, and every task of
 * an acknowledged call is present). Any other eviction policy is refused at start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DelaydError } from '../../src/errors.js';
import { scenarios } from '../helpers.js';
import { rawCommand, startRedis, stopAllRedis } from '../redis/servers.js';
import { producer, tasks } from './lib.js';

const { defer } = scenarios();
afterAll(stopAllRedis);

const codeOf = (error: unknown) => (error instanceof DelaydError ? error.code : String(error));

describe('maxmemory with noeviction', () => {
  it('delay() rejects with E_BACKEND_FULL; nothing half-written', async () => {
    const redis = await startRedis({ maxmemory: '6mb' });
    const app = producer(redis.url);
    defer(() => app.close());
    const CALL = 500;
    const acked: number[] = [];
    let refused: unknown;
    for (let call = 0; call < 1000 && refused === undefined; call++) {
      try {
        await app.enqueue('work', Array.from({ length: CALL }, (_, i) => ({ args: [i, 0, 'x'.repeat(40)], when: { countdown: 3600, key: `c${call}-${i}` } })));
        acked.push(call);
      } catch (error) {
        refused = error;
      }
    }
    expect(codeOf(refused)).toBe('E_BACKEND_FULL');
    expect((refused as Error).message).toMatch(/out of memory/i);
    expect(acked.length).toBeGreaterThan(2);
    // One task alone is refused too, with the same code.
    await expect(app.enqueue('work', [{ args: [0], when: { countdown: 60 } }])).rejects.toMatchObject({ code: 'E_BACKEND_FULL' });
    const rows = await tasks(redis.url);
    const calls = new Map<number, number>();
    for (const r of rows) {
      const call = Number(/^c(\d+)-/.exec(r.key!)![1]);
      calls.set(call, (calls.get(call) ?? 0) + 1);
    }
    expect([...calls.keys()].sort((a, b) => a - b)).toEqual(acked);
    for (const [call, n] of calls) expect(n, `call ${call}`).toBe(CALL);
    expect((await app.stats()).counts.scheduled).toBe(acked.length * CALL);
  }, 60_000);

  it.each(['allkeys-lru', 'volatile-ttl'])('maxmemory-policy %s is refused with E_BACKEND_CONFIG before anything is written', async (policy) => {
    const redis = await startRedis({ maxmemory: '50mb', maxmemoryPolicy: policy });
    const app = producer(redis.url);
    defer(() => app.close());
    const error = await app.enqueue('work', [{ args: [1] }]).then(() => undefined, (e: unknown) => e);
    expect(codeOf(error)).toBe('E_BACKEND_CONFIG');
    expect((error as Error).message).toContain(policy);
    expect((error as Error).message).toContain('noeviction');
    expect(await rawCommand(redis.port, ['DBSIZE'])).toBe(':0\r\n');
  });
});
