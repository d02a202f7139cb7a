/**
 * A malformed Redis target is refused by every command with one coded line (E_BAD_DB_URL) and
 * exit 1, before anything connects: a test proxy in front of a real server sees no connection,
 * and a password in the URL never reaches the error line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './fixtures/cli.js';
import { scenarios } from './helpers.js';
import { startRedis, stopAllRedis, type RedisServer } from './redis/servers.js';
import { TcpProxy } from './redis-failures/proxy.js';

const { defer } = scenarios();
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(stopAllRedis);

describe('a bad Redis target', () => {
  it.each([
    ['redis://', 'no host'],
    ['redis://127.0.0.1:notaport', 'a port that is not a number'],
    ['redis://127.0.0.1:70000', 'a port out of range'],
    ['redis://127.0.0.1:1/x', 'a database that is not a number'],
    ['redis+cluster://127.0.0.1:1/0', 'a database on a cluster'],
    ['redis://a:1,b:2', 'two hosts without +cluster'],
    ['redis://127.0.0.1:1?shards=2', 'a query string'],
  ])('%s (%s) is refused with E_BAD_DB_URL and exit 1, before anything connects', async (url) => {
    for (const command of [['stats'], ['enqueue', 'fast']]) {
      const result = await cli([...command, '--db', url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^delayd: E_BAD_DB_URL: Expected --db to be redis:\/\/.*\n$/);
      expect(result.stderr.split('\n')).toHaveLength(2);
    }
  });

  it('a password in the URL never reaches the error line', async () => {
    const proxy = await new TcpProxy(redis.port).listen();
    defer(() => proxy.close());
    const result = await cli(['stats', '--db', `redis://u:s3cret@127.0.0.1:${proxy.port}/x`]);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('s3cret');
    expect(proxy.accepted).toBe(0);
  });
});
