/**
 * A connection that goes silent without closing (a zombie socket: the TCP proxy freezes it):
 * node-redis bounds a command only until it is written, so before deadline.ts a delay() or a
 * get() sent on it waited forever. Now each reply is bounded by commandTimeoutMs: a read fails
 * with E_BACKEND_UNAVAILABLE, an insert is retried with its request id (one task, never two),
 * and a fresh connection serves as soon as the path works.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { startRedis, stopAllRedis } from '../redis/servers.js';
import { task, T0 } from '../contract/fixtures.js';
import { until } from '../procs/issue10.js';
import { TcpProxy } from './proxy.js';

afterAll(stopAllRedis, 30_000);

async function frozenStore(queue: string) {
  const redis = await startRedis();
  const proxy = await new TcpProxy(redis.port).listen();
  const store = new RedisStore({ url: proxy.url, queue, shards: 1, trustCallerClock: true, commandTimeoutMs: 400 });
  const [first] = await store.insert([task('a', T0)]);
  return { proxy, store, firstId: first!.id };
}

describe('a frozen connection', () => {
  it('fails a read within its deadline (not never), and a new connection serves after the thaw', async () => {
    const { proxy, store, firstId } = await frozenStore('frozen-read');
    const accepted = proxy.accepted;
    proxy.freeze();
    const t0 = Date.now();
    await expect(store.get(firstId)).rejects.toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', message: expect.stringContaining('No reply from Redis within 400 ms') });
    expect(Date.now() - t0).toBeLessThan(3000);
    proxy.thaw();
    expect(await store.get(firstId)).toMatchObject({ id: firstId, state: 'scheduled' });
    expect(proxy.accepted).toBeGreaterThan(accepted); // the silent connection was replaced
    await store.close();
    await proxy.close();
  }, 20_000);

  it('a zombie socket (only the open connection silenced, for good): an insert is written once, over a new one', async () => {
    const { proxy, store } = await frozenStore('zombie-insert');
    proxy.zombie();
    const t0 = Date.now();
    const [b] = await store.insert([task('b', T0)]);
    expect(Date.now() - t0).toBeLessThan(5000);
    const rows = await store.list({ name: 'b' });
    expect(rows.map((r) => r.id)).toEqual([b!.id]);
    await store.close();
    await proxy.close();
  }, 20_000);

  it('a write that waited offline past its deadline is not sent after the reconnect', async () => {
    // node-redis's own per-command timeout is off (link.ts): the deadline must also keep a
    // command queued while the server was away from running later, unknown to its caller.
    const redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const store = new RedisStore({ url: redis.url, queue: 'offline-cancel', shards: 1, trustCallerClock: true, commandTimeoutMs: 300 });
    const [a] = await store.insert([task('a', T0)]);
    await redis.kill9();
    const t0 = Date.now();
    await expect(store.cancel(a!.id, T0)).rejects.toMatchObject({ code: 'E_BACKEND_UNKNOWN_OUTCOME' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await redis.restart();
    // A read sent after the reconnect follows anything still queued before it on the connection.
    let row: Awaited<ReturnType<RedisStore['get']>>;
    await until('a read after the restart', () => store.get(a!.id).then((r) => ((row = r), true), () => false), 10_000);
    expect(row).toMatchObject({ id: a!.id, state: 'scheduled' });
    await store.close();
  }, 20_000);

  it('a nudge subscriber on a zombie socket is found by its PING and replaced: nudges are heard again', async () => {
    const redis = await startRedis();
    const proxy = await new TcpProxy(redis.port).listen();
    const daemon = new RedisStore({ url: proxy.url, queue: 'zombie-nudge', shards: 1, commandTimeoutMs: 300 });
    const producer = new RedisStore({ url: redis.url, queue: 'zombie-nudge', shards: 1 });
    const now = await daemon.now();
    await daemon.claim({ owner: 'D', uptoSecond: Math.floor(now / 1000), limit: 10, names: ['a'] });
    const heard: number[] = [];
    const stop = await daemon.onNudge((dueMs) => heard.push(dueMs));
    await producer.insert([{ ...task('a', now - 9), createdMs: now }]);
    for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(heard).toEqual([now - 9]); // heard through the proxy before it silences anything
    proxy.zombie();
    // Written behind the cursor every 100 ms until one is heard: the old subscriber never hears
    // again; its replacement (PING every second, unanswered within 300 ms) does.
    const t0 = Date.now();
    for (let k = 1; heard.length === 1 && Date.now() - t0 < 8000; k++) {
      await producer.insert([{ ...task('a', now - 9 + k), createdMs: now }]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(heard.length).toBeGreaterThan(1);
    expect(Date.now() - t0).toBeLessThan(4000);
    await stop();
    await Promise.all([daemon.close(), producer.close()]);
    await proxy.close();
  }, 20_000);

  it('does not cut off a WAIT that takes longer than a command may (replicas not confirming)', async () => {
    const lone = await startRedis();
    const store = new RedisStore({ url: lone.url, queue: 'wait-long', shards: 1, trustCallerClock: true, commandTimeoutMs: 300, replicas: 1, replicaTimeoutMs: 1200 });
    await expect(store.insert([task('a', T0)])).rejects.toMatchObject({ code: 'E_BACKEND_NOT_REPLICATED', message: expect.stringContaining('within 1200 ms, got 0') });
    await store.close();
  }, 20_000);
});
