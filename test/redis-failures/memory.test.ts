/**
 * Redis out of memory: with `maxmemory` and `noeviction`, delay() and delayMany() reject with
 * E_BACKEND_FULL and nothing of a refused call is written (each task carries its call's number:
 * every task present belongs to an acknowledged call, and every task of an acknowledged call is
 * present); a full Redis can still be inspected by a new process. Any other eviction policy is
 * refused at start, before anything is written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DelaydError } from '../../src/errors.js';
import type { TaskRow } from '../../src/store/types.js';
import { cli } from '../fixtures/cli.js';
import { scenarios } from '../helpers.js';
import { rawCommand, startRedis, stopAllRedis } from '../redis/servers.js';
import { producer, tasks } from './lib.js';

const { defer } = scenarios();
afterAll(stopAllRedis);

const codeOf = (error: unknown) => (error instanceof DelaydError ? error.code : String(error));
const CALL = 500;

/** delayMany calls of CALL tasks until Redis refuses one; `keyed` gives each task a key (so they spread over shards). */
async function fill(keyed: boolean) {
  const redis = await startRedis({ maxmemory: '6mb' });
  const app = producer(redis.url);
  defer(() => app.close());
  const acked: number[] = [];
  let refused: unknown;
  for (let call = 0; call < 1000 && refused === undefined; call++) {
    try {
      await app.enqueue('work', Array.from({ length: CALL }, (_, i) => ({ args: [call, i, 'x'.repeat(40)], when: { countdown: 3600, ...(keyed ? { key: `c${call}-${i}` } : {}) } })));
      acked.push(call);
    } catch (error) {
      refused = error;
    }
  }
  return { redis, app, acked, refused };
}

/** Tasks per call number. */
function byCall(rows: readonly TaskRow[]): Map<number, number> {
  const calls = new Map<number, number>();
  for (const r of rows) {
    const call = Number((JSON.parse(r.args) as number[])[0]);
    calls.set(call, (calls.get(call) ?? 0) + 1);
  }
  return calls;
}

describe('maxmemory with noeviction', () => {
  it('delay() and delayMany() reject with E_BACKEND_FULL; nothing of a refused call is written', async () => {
    const { redis, app, acked, refused } = await fill(false);
    expect(codeOf(refused)).toBe('E_BACKEND_FULL');
    expect((refused as Error).message).toMatch(/out of memory/i);
    expect(acked.length).toBeGreaterThan(2);
    // Single tasks may still fit below the limit; they too are refused with the code once it is reached.
    let singles = 0;
    let single: unknown;
    for (; singles < 20_000 && single === undefined; singles++) {
      await app.enqueue('work', [{ args: [-1, singles, 'x'.repeat(40)], when: { countdown: 60 } }]).catch((e: unknown) => (single = e));
    }
    expect(codeOf(single)).toBe('E_BACKEND_FULL');
    const calls = byCall(await tasks(redis.url, app));
    expect(calls.get(-1) ?? 0).toBe(singles - 1);
    calls.delete(-1);
    expect(Object.fromEntries([...calls].filter(([call]) => !acked.includes(call))), 'tasks of refused calls that were written').toEqual({});
    expect([...calls.keys()].sort((a, b) => a - b)).toEqual(acked);
    for (const [call, n] of calls) expect(n, `call ${call}`).toBe(CALL);
    expect((await app.stats()).counts.scheduled).toBe(acked.length * CALL + singles - 1);
  }, 60_000);

  // Found here (notes/r2-requests.md #3): opening a store used to write, which a full Redis refuses.
  it('a full Redis can still be inspected by a new process (delayd stats --json)', async () => {
    const { redis, acked } = await fill(false);
    const stats = await cli(['stats', '--json', '--db', redis.url]);
    expect(stats.stderr).toBe('');
    expect(JSON.parse(stats.stdout)).toMatchObject({ scheduled: acked.length * CALL });
  }, 60_000);

  // Was a defect (notes/r2-requests.md #4): keyed tasks go to their keys' shards, and a
  // delayMany refused part-way left the tasks of the shards written before it. Now the shards'
  // stages commit on one decision (spread.ts), and the producer drops them on a refusal.
  it('keyed delayMany (tasks over many shards) is all or none when Redis is full', async () => {
    const { redis, app, acked, refused } = await fill(true);
    expect(codeOf(refused)).toBe('E_BACKEND_FULL');
    const calls = byCall(await tasks(redis.url, app));
    expect(Object.fromEntries([...calls].filter(([call]) => !acked.includes(call)))).toEqual({});
    expect([...calls.keys()].sort((a, b) => a - b)).toEqual(acked);
    for (const [call, n] of calls) expect(n, `call ${call}`).toBe(CALL);
    // Nothing of the refused call is left staged either (the producer dropped its stages).
    const staged = await rawCommand(redis.port, ['EVAL', "return #redis.call('KEYS', '*:sg*') + #redis.call('KEYS', '*:sd:*')", '0']);
    expect(staged).toBe(':0\r\n');
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
