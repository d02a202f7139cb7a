/**
 * The store conformance suite on Redis: one server, and a 3-master + 3-replica cluster. A
 * distinct queue per test gives each a fresh, empty store (no FLUSHALL needed, so a cluster
 * test never races another's keys). The suite's fake times (2030) are trusted as they come:
 * trustCallerClock, as delayd/testing does on Redis.
 */
import { afterAll, beforeAll } from 'vitest';
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
describeStore('redis cluster (3 masters, 3 replicas)', () => new RedisStore({ url: cluster.url, queue: `k${n++}`, shards: 16, trustCallerClock: true }));
