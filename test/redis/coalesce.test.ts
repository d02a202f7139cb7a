/**
 * Write coalescing of small inserts (src/store/redis/coalesce.ts): alone, a call goes at once;
 * calls that arrive while a round is in flight share the next round, one script per shard; a
 * refused script rejects only its own calls. Then on a real server: fifty concurrent delay()s
 * cost far fewer scripts than fifty, every task is there once, and a key sent twice in one
 * round is still one task.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InsertCoalescer, smallCallShard } from '../../src/store/redis/coalesce.js';
import { INSERT_BYTES, INSERT_CHUNK } from '../../src/store/redis/insert.js';
import { shardOfKey } from '../../src/store/redis/keys.js';
import { RedisStore } from '../../src/store/redis/index.js';
import type { Inserted, NewTask } from '../../src/store/types.js';
import { rawCommand, startRedis, stopAllRedis } from './servers.js';
import { task, T0, DAY_MS } from '../contract/fixtures.js';

afterAll(stopAllRedis, 30_000);

/** A write that records each script it is asked for and answers when `release` is called. */
function fakeWrites() {
  const scripts: { shard: number; names: string[]; answer: (error?: Error) => void }[] = [];
  let id = 0;
  const write = (shard: number, tasks: readonly NewTask[]) =>
    new Promise<Inserted[]>((resolve, reject) => {
      scripts.push({
        shard,
        names: tasks.map((t) => t.name),
        answer: (error) => (error ? reject(error) : resolve(tasks.map((t) => ({ id: ++id * 1024 + shard, dueMs: t.dueMs, created: true })))),
      });
    });
  return { scripts, write };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('InsertCoalescer', () => {
  it('sends a lone call at once, and the calls that came meanwhile together in the next round', async () => {
    const { scripts, write } = fakeWrites();
    let shard = 0;
    const c = new InsertCoalescer(write, () => shard++);
    const first = c.insert([task('a', T0)], null);
    await settle();
    expect(scripts.map((s) => s.names)).toEqual([['a']]);
    const later = [c.insert([task('b', T0)], null), c.insert([task('c', T0), task('d', T0)], null), c.insert([task('e', T0)], null)];
    await settle();
    expect(scripts).toHaveLength(1); // they wait for the round in flight
    scripts[0]!.answer();
    expect((await first).map((i) => i.dueMs)).toEqual([T0]);
    await settle();
    expect(scripts.map((s) => s.names)).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    scripts[1]!.answer();
    const [b, cd, e] = await Promise.all(later);
    expect([b!.length, cd!.length, e!.length]).toEqual([1, 2, 1]);
    // Each call gets its own tasks' ids, in call order.
    expect([...b!, ...cd!, ...e!].map((i) => i.id)).toEqual([...b!, ...cd!, ...e!].map((i) => i.id).sort((x, y) => x - y));
  });

  it('writes one script per shard in a round, and a refused one rejects only its own calls', async () => {
    const { scripts, write } = fakeWrites();
    const c = new InsertCoalescer(write, () => 7);
    const blocker = c.insert([task('x', T0)], null);
    await settle();
    const keyless = c.insert([task('k0', T0)], null);
    const onThree = [c.insert([task('s3a', T0)], 3), c.insert([task('s3b', T0)], 3)];
    scripts[0]!.answer();
    await blocker;
    await settle();
    expect(scripts.slice(1).map((s) => [s.shard, s.names])).toEqual([[7, ['k0']], [3, ['s3a', 's3b']]]);
    scripts[2]!.answer(Object.assign(new Error('OOM'), { code: 'E_BACKEND_FULL' }));
    scripts[1]!.answer();
    expect(await keyless).toHaveLength(1);
    for (const p of onThree) await expect(p).rejects.toMatchObject({ code: 'E_BACKEND_FULL' });
  });

  it('caps a round at what one INSERT script takes (tasks and args bytes); the rest wait for the next', async () => {
    const { scripts, write } = fakeWrites();
    const c = new InsertCoalescer(write, () => 0);
    const calls = [c.insert([task('first', T0)], null)];
    await settle();
    const part = INSERT_CHUNK / 4;
    for (let i = 0; i < 5; i++) calls.push(c.insert(Array.from({ length: part }, () => task(`n${i}`, T0)), null));
    const big = JSON.stringify(['x'.repeat(INSERT_BYTES / 2)]);
    calls.push(c.insert([task('big1', T0, { args: big })], null), c.insert([task('big2', T0, { args: big })], null));
    scripts[0]!.answer();
    await settle();
    expect(scripts[1]!.names).toHaveLength(INSERT_CHUNK);
    scripts[1]!.answer();
    await settle();
    expect(scripts[2]!.names).toEqual([...Array.from({ length: part }, () => 'n4'), 'big1']);
    scripts[2]!.answer();
    await settle();
    expect(scripts[3]!.names).toEqual(['big2']);
    scripts[3]!.answer();
    expect((await Promise.all(calls)).flat()).toHaveLength(1 + 5 * part + 2);
  });

  it('takes only small calls of one shard', () => {
    const keyed = (key: string) => task('a', T0, { key });
    const sameShard = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].filter((k) => shardOfKey(k, 4) === shardOfKey('k1', 4));
    expect(smallCallShard([task('a', T0), task('b', T0)], 4)).toBeNull();
    expect(smallCallShard(sameShard.map(keyed), 4)).toBe(shardOfKey('k1', 4));
    const other = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8'].find((k) => shardOfKey(k, 4) !== shardOfKey('k1', 4))!;
    expect(smallCallShard([keyed('k1'), keyed(other)], 4)).toBeUndefined();
    expect(smallCallShard(Array.from({ length: INSERT_CHUNK + 1 }, () => task('a', T0)), 4)).toBeUndefined();
  });
});

describe('coalescing on a real server', () => {
  const fcallCalls = async (port: number) => Number(/cmdstat_fcall:calls=(\d+)/.exec(await rawCommand(port, ['INFO', 'commandstats']))?.[1] ?? 0);

  it('fifty concurrent inserts: every task once, in far fewer scripts; a key sent twice in one round is one task', async () => {
    const r = await startRedis();
    const s = new RedisStore({ url: r.url, queue: 'co', shards: 4, trustCallerClock: true });
    await s.insert([task('warm', T0 + DAY_MS)]);
    await rawCommand(r.port, ['CONFIG', 'RESETSTAT']);
    const results = await Promise.all([
      ...Array.from({ length: 48 }, (_, i) => s.insert([task('n', T0 + DAY_MS + i)])),
      s.insert([task('n', T0 + DAY_MS, { key: 'twice' })]),
      s.insert([task('n', T0 + DAY_MS, { key: 'twice' })]),
    ]);
    const scripts = await fcallCalls(r.port);
    expect(scripts).toBeLessThan(10);
    const ids = results.flat().map((i) => i.id);
    expect(new Set(ids.slice(0, 48)).size).toBe(48);
    const [a, b] = results.slice(48).map((x) => x[0]!);
    expect(b!.id).toBe(a!.id);
    expect([a!.created, b!.created]).toEqual([true, false]);
    expect((await s.stats()).counts.scheduled).toBe(1 + 48 + 1);
    for (const id of ids) expect((await s.get(id))?.name).toBe('n');
    await s.close();
  });
});
