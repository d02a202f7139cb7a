/**
 * A claim of one shard that fills its limit over several calls (claim.ts): it takes the
 * earliest due tasks in as many calls as the limit needs, and gives none back. Redis orders
 * the tasks due in one ms by id as text ("10" before "9"): a refill once claimed again and
 * gave the excess back whenever such ties met the limit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { rawCommand, startRedis, stopAllRedis } from './servers.js';
import { task, T0, S0 } from '../contract/fixtures.js';

afterAll(stopAllRedis, 30_000);

let q = 0;
const store = (url: string) => new RedisStore({ url, queue: `c${q++}`, shards: 1, trustCallerClock: true });

describe('a claim of one shard that fills its limit', () => {
  it('takes the earliest due in as many calls as the limit needs, none given back, whatever ties in due time', async () => {
    const r = await startRedis();
    const s = store(r.url);
    // 1,000 tasks, ten due in each ms: ids 1 to 1000, which Redis orders by text within a ms.
    await s.insert(Array.from({ length: 1000 }, (_, i) => task('t', T0 + Math.floor(i / 10))));
    await rawCommand(r.port, ['CONFIG', 'RESETSTAT']);
    const first = await s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 505, names: ['t'] });
    const stats = await rawCommand(r.port, ['INFO', 'commandstats']);
    const [, calls] = /cmdstat_fcall:calls=(\d+)/.exec(stats) ?? [];
    expect(first.tasks).toHaveLength(505);
    // One call of 100, then 405 in 5 calls at once: no call more, and no UNCLAIM.
    expect(Number(calls)).toBe(6);
    const rest = await s.claim({ owner: 'A', uptoSecond: S0 + 1, limit: 1000, names: ['t'] });
    expect(rest.tasks).toHaveLength(495);
    const latestTaken = Math.max(...first.tasks.map((t) => t.dueMs));
    expect(Math.min(...rest.tasks.map((t) => t.dueMs))).toBeGreaterThanOrEqual(latestTaken);
    expect(new Set([...first.tasks, ...rest.tasks].map((t) => t.id)).size).toBe(1000);
    await s.close();
  }, 60_000);
});
