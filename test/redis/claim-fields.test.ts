/**
 * The claim and record scripts read fewer fields when a task hash's field count says it is a
 * plain task (scripts/lib.ts: 4 fields never started, 6 on its first claim), and a start marks
 * op with whether the task has a key or a batch. These cases hold one optional field each, so
 * a fast path taken where it must not be loses that field (claim) or its effect (success).
 *
 * And a claim of one shard that fills its limit over several calls (claim.ts): it takes the
 * earliest due tasks in as many calls as the limit needs, and gives none back. Redis orders
 * the tasks due in one ms by id as text ("10" before "9"): a refill once claimed again and
 * gave the excess back whenever such ties met the limit.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { claim, FAR_SECOND, started, succeeded, task, T0, S0 } from '../contract/fixtures.js';
import { rawCommand, startRedis, stopAllRedis } from './servers.js';

afterAll(stopAllRedis, 30_000);

let q = 0;
const store = (url: string) => new RedisStore({ url, queue: `cf${q++}`, shards: 1, trustCallerClock: true });

describe('claim and record of tasks with one optional field', () => {
  it('claims each override, key and count exactly, whatever the hash holds', async () => {
    const r = await startRedis();
    const s = store(r.url);
    await s.insert([
      task('p', T0),
      task('p', T0 + 1, { retries: 0 }),
      task('p', T0 + 2, { backoffMs: 7 }),
      task('p', T0 + 3, { timeoutMs: 9 }),
      task('p', T0 + 4, { key: 'k,with,commas' }),
      task('p', T0 + 5, { key: '' }),
    ]);
    const got = await claim(s, 'A', ['p']);
    expect(got.map(({ retries, backoffMs, timeoutMs, key, attempts, cutOffs }) => ({ retries, backoffMs, timeoutMs, key, attempts, cutOffs }))).toEqual([
      { retries: null, backoffMs: null, timeoutMs: null, key: null, attempts: 0, cutOffs: 0 },
      { retries: 0, backoffMs: null, timeoutMs: null, key: null, attempts: 0, cutOffs: 0 },
      { retries: null, backoffMs: 7, timeoutMs: null, key: null, attempts: 0, cutOffs: 0 },
      { retries: null, backoffMs: null, timeoutMs: 9, key: null, attempts: 0, cutOffs: 0 },
      { retries: null, backoffMs: null, timeoutMs: null, key: 'k,with,commas', attempts: 0, cutOffs: 0 },
      { retries: null, backoffMs: null, timeoutMs: null, key: '', attempts: 0, cutOffs: 0 },
    ]);
    expect(got.map((t) => t.dueMs)).toEqual([T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4, T0 + 5]);
    // Started then put back: counted attempts and cut-offs come back with the next claim.
    const [first] = got;
    expect((await s.record([started(first!.id, 'A', 1)])).applied).toEqual([true]);
    await s.release('A');
    const again = await claim(s, 'B', ['p']);
    expect(again.find((t) => t.id === first!.id)).toMatchObject({ attempts: 1, cutOffs: 1 });
    await s.close();
  });

  it('frees a key at the success of a keyed task started on its first claim, and keeps plain tasks apart', async () => {
    const r = await startRedis();
    const s = store(r.url);
    await s.insert([task('k', T0, { key: 'only' }), task('k', T0 + 1)]);
    const got = await claim(s, 'A', ['k'], FAR_SECOND);
    const starts = await s.record(got.map((t) => started(t.id, 'A', 1)));
    expect(starts.applied).toEqual([true, true]);
    const ends = await s.record(got.map((t) => succeeded(t.id, 'A', 1)));
    expect(ends.applied).toEqual([true, true]);
    // The key is free again: a new task with it is a new id.
    const [again] = await s.insert([task('k', T0 + 5, { key: 'only' })]);
    expect(again!.id).not.toBe(got[0]!.id);
    expect((await s.stats()).counts).toMatchObject({ succeeded: 2, scheduled: 1, running: 0 });
    // A second success of the same attempt (written again after a lost answer) counts as applied
    // and changes nothing: no counter moves, the key's new holder keeps it.
    expect((await s.record([succeeded(got[0]!.id, 'A', 1), succeeded(got[1]!.id, 'A', 1)])).applied).toEqual([true, true]);
    expect((await s.stats()).counts).toMatchObject({ succeeded: 2, scheduled: 1, running: 0 });
    const [same] = await s.insert([task('k', T0 + 9, { key: 'only' })]);
    expect(same).toMatchObject({ id: again!.id, created: false });
    await s.close();
  });
});

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
