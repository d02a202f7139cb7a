/**
 * The store conformance suite on Redis: one server, and a 3-master + 3-replica cluster. A
 * distinct queue per test gives each a fresh, empty store (no FLUSHALL needed, so a cluster
 * test never races another's keys). The suite's fake times (2030) are trusted as they come:
 * trustCallerClock, as delayd/testing does on Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { describeStore } from './store.contract.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../redis/servers.js';

let server: RedisServer;
let cluster: RedisCluster;
let n = 0;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster()]);
}, 60_000);
afterAll(stopAllRedis, 30_000);

describeStore('redis, one server', () => new RedisStore({ url: server.url, queue: `c${n++}`, shards: 4, trustCallerClock: true }));
it('nudges across a cluster: a subscriber on every shard hears a task due now, whichever master it lands on', async () => {
  const queue = `nudge${n++}`;
  const listener = new RedisStore({ url: cluster.url, queue, shards: 16 });
  const producer = new RedisStore({ url: cluster.url, queue, shards: 16 });
  const now = await listener.now();
  await listener.claim({ owner: 'D', uptoSecond: Math.floor(now / 1000), limit: 1, names: ['a'] });
  const heard: number[] = [];
  const stop = await listener.onNudge((dueMs) => heard.push(dueMs));
  for (let i = 0; i < 8; i++) await producer.insert([{ name: 'a', args: '[]', dueMs: now - i, createdMs: now, key: null, retries: null, backoffMs: null, timeoutMs: null }]);
  for (let i = 0; i < 200 && heard.length < 8; i++) await new Promise((r) => setTimeout(r, 5));
  expect(heard.sort()).toEqual(Array.from({ length: 8 }, (_, i) => now - i).sort());
  await stop();
  await Promise.all([listener.close(), producer.close()]);
});

describeStore('redis cluster (3 masters, 3 replicas)', () => new RedisStore({ url: cluster.url, queue: `k${n++}`, shards: 16, trustCallerClock: true }));
