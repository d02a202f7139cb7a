/** A Redis Cluster that lost a master and its replica says CLUSTERDOWN: E_BACKEND_CLUSTERDOWN, with the reply as cause. */
import { afterAll, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/index.js';
import { rawCommand, startCluster, stopAllRedis } from './servers.js';

afterAll(stopAllRedis, 30_000);

it('maps CLUSTERDOWN to E_BACKEND_CLUSTERDOWN once the cluster has lost a whole slot range', async () => {
  const cluster = await startCluster();
  const store = new RedisStore({ url: cluster.url, queue: 'down', shards: 16, connectTimeoutMs: 500, commandTimeoutMs: 1000 });
  expect((await store.stats()).counts.scheduled).toBe(0);
  // The first master and every replica of it.
  const nodes = await rawCommand(cluster.ports[0]!, ['CLUSTER', 'NODES']);
  const myself = /^(\w+) \S+ myself,master/m.exec(nodes)?.[1];
  const replicaPorts = [...nodes.matchAll(/^\w+ 127\.0\.0\.1:(\d+)@\d+ slave (\w+)/gm)].filter((m) => m[2] === myself).map((m) => Number(m[1]));
  expect(replicaPorts).toHaveLength(1);
  for (const node of cluster.nodes.filter((n) => n.port === cluster.ports[0] || replicaPorts.includes(n.port))) await node.kill9();
  const live = cluster.nodes.find((n) => n.port !== cluster.ports[0] && !replicaPorts.includes(n.port))!;
  const deadline = Date.now() + 15_000;
  while (!(await rawCommand(live.port, ['CLUSTER', 'INFO'])).includes('cluster_state:fail')) {
    if (Date.now() > deadline) throw new Error('the cluster never said cluster_state:fail');
    await new Promise((r) => setTimeout(r, 100));
  }
  const codes = new Set<string>();
  let cause = '';
  for (let shard = 0; shard < 16; shard++) {
    const error = await store.get(shard + 1024).then(() => undefined, (e: { code: string; cause?: Error }) => e);
    if (error) codes.add(error.code);
    if (error?.code === 'E_BACKEND_CLUSTERDOWN') cause = String(error.cause?.message);
  }
  expect(codes.has('E_BACKEND_CLUSTERDOWN')).toBe(true);
  expect([...codes].every((c) => c === 'E_BACKEND_CLUSTERDOWN' || c === 'E_BACKEND_UNAVAILABLE')).toBe(true);
  expect(cause).toMatch(/^CLUSTERDOWN/);
  await store.close();
}, 60_000);
