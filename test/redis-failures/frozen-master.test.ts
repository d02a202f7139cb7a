/**
 * A cluster master frozen (SIGSTOP: a paused VM, a stalled disk), not killed: its connections
 * stay open and silent, so node-redis never learns of the failover that promotes its replica.
 * The store must give up on the silent node within its reply deadline and find the new master,
 * not fail every call to those shards until the old one wakes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { shardOfId, shardOfKey } from '../../src/store/redis/keys.js';
import { rawCommand, startCluster, stopAllRedis } from '../redis/servers.js';
import { task, T0 } from '../contract/fixtures.js';
import { until } from '../procs/issue10.js';
import { shardsOn } from './lib.js';

afterAll(stopAllRedis, 30_000);

describe('a frozen cluster master', () => {
  it('after the failover, its shards are served by the new master while the old one is still frozen; nudges from them are heard', async () => {
    const cluster = await startCluster();
    const store = new RedisStore({ url: cluster.url, queue: 'fm', shards: 16, trustCallerClock: true, commandTimeoutMs: 500 });
    const ids: number[] = [];
    for (let i = 0; i < 32; i++) ids.push(...(await store.insert([task('a', T0 + i)])).map((r) => r.id));
    const victim = cluster.nodes[0]!;
    const shards = await shardsOn(victim.port);
    const id = ids.find((x) => shards.has(shardOfId(x)))!;
    expect(id).toBeDefined();
    expect(await store.get(id)).toMatchObject({ id, state: 'scheduled' });
    // Nudges: the cursor of every shard moved to now, so a task written behind it is announced.
    const now = await store.now();
    await store.claim({ owner: 'D', uptoSecond: Math.floor(now / 1000), limit: 0, names: ['b'] });
    const heard: number[] = [];
    const stopNudges = await store.onNudge((dueMs) => heard.push(dueMs));
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`).filter((k) => shards.has(shardOfKey(k, 16)));
    const victimId = (await rawCommand(victim.port, ['CLUSTER', 'MYID'])).trim().replace(/^\$\d+\s+/, '').split(/\s/)[0]!;
    process.kill(victim.pid, 'SIGSTOP');
    try {
      // The failover: the others mark the victim failed (not only suspected) and serve all slots.
      const other = cluster.nodes[1]!.port;
      await until('the failover', async () => {
        const line = (await rawCommand(other, ['CLUSTER', 'NODES'])).split('\n').find((l) => l.includes(victimId)) ?? '';
        return /\bfail\b/.test(line) && !line.includes('fail?') && (await rawCommand(other, ['CLUSTER', 'INFO'])).includes('cluster_state:ok');
      }, 15_000, () => rawCommand(other, ['CLUSTER', 'NODES']));
      let row: Awaited<ReturnType<RedisStore['get']>>;
      let last: unknown;
      await until('a read of a failed-over shard to succeed', async () => {
        try {
          row = await store.get(id);
          return true;
        } catch (error) {
          last = error;
          return false;
        }
      }, 10_000, () => String(last));
      expect(row).toMatchObject({ id });
      // Written to a failed-over shard (by another store, which finds the new master too): the
      // subscription made again on the fresh cluster client hears it.
      const producer = new RedisStore({ url: cluster.url, queue: 'fm', shards: 16, commandTimeoutMs: 500 });
      const written = Date.now();
      for (let k = 0; heard.length === 0 && Date.now() - written < 10_000; k++) {
        await producer.insert([{ ...task('b', now - 5), key: keys[k]!, createdMs: now }]).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(heard.length, 'no nudge heard from a failed-over shard within 10 s').toBeGreaterThan(0);
      await producer.close();
      await stopNudges();
    } finally {
      process.kill(victim.pid, 'SIGCONT');
    }
    await store.close();
  }, 60_000);
});
