/**
 * A delayMany over several shards (spread.ts) is all or none: stages on every shard, one
 * decision on the first. Proved on a real server with a session whose scripts can crash or lose
 * their reply: a producer dead before the decision commits leaves nothing visible and upkeep
 * deletes every stage and the decision; one dead after it is finished by upkeep; a lost commit
 * reply is retried and writes nothing twice; results come back in call order, keys deduped.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { insertAll } from '../../src/store/redis/insert.js';
import { shardOfKey } from '../../src/store/redis/keys.js';
import { DECISION_ABORT, DECISION_COMMIT } from '../../src/store/redis/scripts/decision.js';
import { STAGE_DROP, STAGE_PUT } from '../../src/store/redis/scripts/stage.js';
import { STAGE_PUBLISH } from '../../src/store/redis/scripts/stage-publish.js';
import { connectTarget } from '../../src/store/redis/link.js';
import { parseRedisUrl } from '../../src/store/redis/url.js';
import { Session } from '../../src/store/redis/session.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { startCluster, startRedis, stopAllRedis } from './servers.js';
import { task, T0 } from '../contract/fixtures.js';
import { age, keys, many, open, SHARDS, wrap } from './stage-lib.js';

afterAll(stopAllRedis, 30_000);

/** 1,000 tasks, each with its own key (so over every shard). */
const keyed = () => many(1000, (i) => ({ key: `k${i}` }));

describe('delayMany over several shards', () => {
  it('writes every task on its key\'s shard, results in call order, keys deduped within the call and against what exists', async () => {
    const r = await startRedis();
    const { store } = await open(r.url);
    const [before] = await store.insert([task('work', T0 + 5, { key: 'k7' })]);
    const tasks = keyed();
    tasks.push(task('work', T0 + 9, { key: 'k3' })); // the same key as tasks[3], later in the call
    const inserted = await store.insert(tasks);
    expect(inserted).toHaveLength(1001);
    expect(inserted[7]).toEqual({ id: before!.id, dueMs: T0 + 5, created: false });
    expect(inserted[1000]).toEqual({ id: inserted[3]!.id, dueMs: tasks[3]!.dueMs, created: false });
    expect(inserted.filter((i) => i.created)).toHaveLength(999);
    for (const i of [0, 3, 500, 999]) {
      const row = await store.get(inserted[i]!.id);
      expect(row?.key).toBe(`k${i}`);
      expect(inserted[i]!.id % 1024).toBe(shardOfKey(`k${i}`, SHARDS));
    }
    expect((await store.stats()).counts.scheduled).toBe(1000);
  });

  it('a producer that dies before the decision commits leaves nothing visible; upkeep drops every stage and the decision', async () => {
    const r = await startRedis();
    const { queue, store, s, raw } = await open(r.url);
    // Dies before its commit and before it can abort or drop anything.
    const dying = wrap(s, (script) => ([DECISION_COMMIT, DECISION_ABORT, STAGE_DROP] as unknown[]).includes(script) ? 'crash' : 'run');
    await expect(insertAll(dying, keyed(), 0, 0, 30)).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    expect(await keys(raw, queue, 'sg:', 'all')).toHaveLength(SHARDS);
    expect(await keys(raw, queue, 'sd:', 'all')).toHaveLength(1);
    expect(await keys(raw, queue, 't:', 'all')).toEqual([]);
    expect((await store.stats()).counts.scheduled).toBe(0);
    await store.orphanOwners(); // young: some live producer's
    expect(await keys(raw, queue, 'sg:', 'all')).toHaveLength(SHARDS);
    await age(raw, queue);
    await store.orphanOwners();
    expect(await keys(raw, queue, 'sg', 'all')).toEqual([]);
    expect(await keys(raw, queue, 'sd', 'all')).toEqual([]);
    expect((await store.stats()).counts.scheduled).toBe(0);
  });

  it('a refusal on one shard aborts the call: the other shards\' stages are dropped at once', async () => {
    const r = await startRedis();
    const { queue, store, s, raw } = await open(r.url);
    const refusing = wrap(s, (script, n) => (script === STAGE_PUT && n === 3 ? 'crash' : 'run'));
    await expect(insertAll(refusing, keyed(), 0, 0, 30)).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    expect(await keys(raw, queue, 'sg', 'all')).toEqual([]);
    expect(await keys(raw, queue, 'sd', 'all')).toEqual([]);
    expect((await store.stats()).counts.scheduled).toBe(0);
  });

  it('a producer that dies after the decision commits: upkeep publishes every shard, then deletes the decision', async () => {
    const r = await startRedis();
    const { queue, store, s, raw } = await open(r.url);
    const dying = wrap(s, (script) => (script === STAGE_PUBLISH ? 'crash' : 'run'));
    await expect(insertAll(dying, keyed(), 0, 0, 30)).rejects.toMatchObject({ code: 'E_BACKEND_UNKNOWN_OUTCOME', message: expect.stringContaining('committed') });
    expect((await store.stats()).counts.scheduled).toBe(0);
    await age(raw, queue);
    await store.orphanOwners();
    expect((await store.stats()).counts.scheduled).toBe(1000);
    expect(new Set((await store.list({ limit: 2000 })).map((t) => t.key)).size).toBe(1000);
    expect(await keys(raw, queue, 'sg', 'all')).toEqual([]);
    // The decision went once its stages were gone (the same look, or the next).
    await store.orphanOwners();
    expect(await keys(raw, queue, 'sd', 'all')).toEqual([]);
  });

  it('a commit whose reply was lost is sent again: everything once', async () => {
    const r = await startRedis();
    const { queue, store, s, raw } = await open(r.url);
    const lossy = wrap(s, (script, n) => (script === DECISION_COMMIT && n === 1 ? 'lose' : script === STAGE_PUBLISH && n === 2 ? 'lose' : 'run'));
    const { inserted } = await insertAll(lossy, keyed(), 0, 0, 30);
    expect(inserted.every((i) => i.created)).toBe(true);
    expect(new Set(inserted.map((i) => i.id)).size).toBe(1000);
    expect((await store.stats()).counts.scheduled).toBe(1000);
    expect(await keys(raw, queue, 'sg', 'all')).toEqual([]);
    expect(await keys(raw, queue, 'sd', 'all')).toEqual([]);
  });

  it('over a Redis Cluster (16 shards on 3 masters): a producer dead after the decision commits is finished by upkeep', async () => {
    const cluster = await startCluster();
    const queue = 'spread-cluster';
    const link = await connectTarget(parseRedisUrl(cluster.url), { connectTimeoutMs: 2000, commandTimeoutMs: 5000 });
    const s = await Session.open(link, { queue, shards: 16, replicas: 0, replicaTimeoutMs: 1000, where: 'test', checkDurability: false });
    const store = new RedisStore({ url: cluster.url, queue, shards: 16, trustCallerClock: true, checkDurability: false });
    try {
      const zcards = async (index: string) =>
        Promise.all(s.prefixes.map(async (p) => Number(await s.command(`${p}${index}`, ['ZCARD', `${p}${index}`], false))));
      const dying = wrap(s, (script) => (script === STAGE_PUBLISH ? 'crash' : 'run'));
      await expect(insertAll(dying, keyed(), 0, 0, 30)).rejects.toMatchObject({ code: 'E_BACKEND_UNKNOWN_OUTCOME' });
      expect((await zcards('sgs')).filter((n) => n > 0)).toHaveLength(16);
      expect((await store.stats()).counts.scheduled).toBe(0);
      // Age every stage and the decision, as a later upkeep's clock would see them.
      for (const p of s.prefixes) {
        for (const index of ['sgs', 'sds']) {
          for (const sid of (await s.command(`${p}${index}`, ['ZRANGE', `${p}${index}`, 0, -1], false)) as string[]) {
            await s.command(`${p}${index}`, ['ZADD', `${p}${index}`, 0, sid], true);
          }
        }
      }
      await store.orphanOwners();
      await store.orphanOwners();
      expect((await store.stats()).counts.scheduled).toBe(1000);
      expect(await zcards('sgs')).toEqual(new Array(16).fill(0));
      expect(await zcards('sds')).toEqual(new Array(16).fill(0));
    } finally {
      await store.close();
      await s.close();
    }
  }, 60_000);
});
