/** Redis `db` URLs (src/store/redis/url.ts): the forms delayd takes, and a clear refusal before anything connects. */
import { describe, expect, it } from 'vitest';
import { parseRedisUrl, redact } from '../../src/store/redis/url.js';

describe('parseRedisUrl', () => {
  it('reads redis://, rediss:// and redis+cluster:// with user, password and database', () => {
    expect(parseRedisUrl('redis://127.0.0.1:7001')).toEqual({
      kind: 'single', tls: false, nodes: [{ host: '127.0.0.1', port: 7001 }], username: undefined, password: undefined, database: 0,
    });
    expect(parseRedisUrl('rediss://ann:s%40cret@cache.example:6380/3')).toMatchObject({
      kind: 'single', tls: true, nodes: [{ host: 'cache.example', port: 6380 }], username: 'ann', password: 's@cret', database: 3,
    });
    expect(parseRedisUrl('redis://:pw@h')).toMatchObject({ username: undefined, password: 'pw', nodes: [{ host: 'h', port: 6379 }] });
    expect(parseRedisUrl('redis+cluster://a:7000,b:7001,[::1]:7002/')).toMatchObject({
      kind: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: '::1', port: 7002 }],
    });
    expect(parseRedisUrl('REDISS+CLUSTER://a:1')).toMatchObject({ kind: 'cluster', tls: true });
  });

  it.each([
    ['redis://', /expected host:port/],
    ['redis://h:0', /the port must be 1 to 65535/],
    ['redis://h:65536', /the port must be 1 to 65535/],
    ['redis://h:port', /expected host:port/],
    ['redis://a:1,b:2', /several hosts need redis\+cluster/],
    ['redis://h:1/db', /the database must be a number/],
    ['redis+cluster://a:1/2', /a cluster has no database number/],
    ['redis://h:1?tls=true', /query strings/],
    ['redis://u:%zz@h:1', /percent-encoding/],
    ['redis:/h:1', /not a URL/],
  ])('refuses %s with E_BAD_DB_URL', (url, why) => {
    expect(() => parseRedisUrl(url, '--db')).toThrow(expect.objectContaining({ code: 'E_BAD_DB_URL', message: expect.stringMatching(why) }));
  });

  it('never repeats a password in a message', () => {
    expect(redact('redis://ann:secret@h:1/2')).toBe('redis://ann:***@h:1/2');
    expect(() => parseRedisUrl('redis://ann:secret@h:bad')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
  });
});
