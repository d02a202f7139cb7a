/** The test servers themselves: one server restarts on its AOF folder; a cluster is created with 3 masters. */
import { afterAll, describe, expect, it } from 'vitest';
import { rawCommand, startCluster, startRedis, stopAllRedis } from './servers.js';

afterAll(stopAllRedis);

describe('test redis servers', () => {
  it('starts on a free loopback port, keeps its AOF across kill -9 and restart, stops by pid', async () => {
    const r = await startRedis({ appendonly: true, appendfsync: 'always' });
    expect(r.port).not.toBe(6379);
    expect(await rawCommand(r.port, ['SET', 'k', 'v'])).toBe('+OK\r\n');
    const before = r.pid;
    await r.kill9();
    expect(() => process.kill(before, 0)).toThrow();
    await r.restart();
    expect(r.pid).not.toBe(before);
    expect(await rawCommand(r.port, ['GET', 'k'])).toBe('$1\r\nv\r\n');
    await r.stop();
    expect(() => process.kill(r.pid, 0)).toThrow();
  });

  it('creates a 3-master, 3-replica cluster', async () => {
    const c = await startCluster();
    const info = await rawCommand(c.ports[0]!, ['CLUSTER', 'INFO']);
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_size:3');
    await c.stop();
  }, 60_000);
});
