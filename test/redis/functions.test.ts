/**
 * The functions library (functions.ts): what is registered, the EVAL fallback's text, and the
 * notice at open of libraries other delayd versions left on the server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { library, LuaScript, otherLibraries } from '../../src/store/redis/functions.js';
import { RedisStore } from '../../src/store/redis/index.js';
import { rawCommand, startRedis, stopAllRedis } from './servers.js';
import { task, T0 } from '../contract/fixtures.js';
import { LIB } from '../../src/store/redis/scripts/lib.js';
import { INSERT } from '../../src/store/redis/scripts/insert.js';
import { STATS } from '../../src/store/redis/scripts/reads.js';
import { STAGE_DROP } from '../../src/store/redis/scripts/stage.js';

describe('the functions library', () => {
  it('registers each script once under a name carrying the hash of all the code, with its flags', () => {
    const { hash, text } = library();
    expect(hash).toMatch(/^[0-9a-f]{12}$/);
    expect(text.startsWith(`#!lua name=delayd_${hash}\n`)).toBe(true);
    expect(text.split(LIB)).toHaveLength(2); // the shared Lua once
    for (const [script, flags] of [[INSERT, ''], [STATS, "'no-writes'"], [STAGE_DROP, "'allow-oom'"]] as const) {
      expect(script.fn).toBe(`${script.name}_${hash}`);
      expect(text.split(`function_name = '${script.fn}', flags = { ${flags} }`)).toHaveLength(2);
      expect(text.split(script.body)).toHaveLength(2);
    }
  });

  it('builds a new library, under new names, when a script is declared after it', () => {
    const before = library();
    const late = new LuaScript('lateForTest', 'return 1');
    const after = library();
    expect(after.hash).not.toBe(before.hash);
    expect(late.fn).toBe(`lateForTest_${after.hash}`);
    expect(INSERT.fn).toBe(`insert_${after.hash}`);
  });

  it('gives the EVAL fallback a shebang always, so a growing script is refused before it starts on a full Redis', () => {
    expect(INSERT.standalone.startsWith(`#!lua\n${LIB}\nenter(ARGV)\n`)).toBe(true);
    expect(STATS.standalone.startsWith('#!lua flags=no-writes\n')).toBe(true);
    expect(STAGE_DROP.standalone.startsWith('#!lua flags=allow-oom\n')).toBe(true);
  });
});

describe('libraries of other delayd versions', () => {
  afterAll(stopAllRedis, 30_000);

  it('are named in the log at open (not this version\'s own), each to be deleted by an operator', async () => {
    const r = await startRedis();
    const old = 'delayd_00000000abcd';
    await rawCommand(r.port, ['FUNCTION', 'LOAD', `#!lua name=${old}\nredis.register_function('insert_00000000abcd', function() return 1 end)`]);
    const first = new RedisStore({ url: r.url, queue: 'f1', shards: 1, trustCallerClock: true });
    await first.insert([task('a', T0)]); // loads this version's library
    await first.close();
    const logged: { message: string; fields: Record<string, unknown> }[] = [];
    const second = new RedisStore({ url: r.url, queue: 'f2', shards: 1, trustCallerClock: true, log: (_lvl, message, fields) => logged.push({ message, fields }) });
    await second.durability();
    const notice = logged.filter((l) => 'libraries' in l.fields);
    expect(notice).toEqual([{ message: expect.stringContaining(`FUNCTION DELETE <name> (${old})`), fields: { node: `127.0.0.1:${r.port}`, libraries: [old] } }]);
    await second.close();
  }, 30_000);

  it('are found in RESP2 arrays and RESP3 maps alike', () => {
    const own = `delayd_${library().hash}`;
    const resp2 = [['library_name', 'delayd_0123456789ab', 'engine', 'LUA', 'functions', []], ['library_name', own]];
    const resp3 = [new Map<unknown, unknown>([['library_name', 'delayd_ba9876543210'], ['functions', [new Map([['name', 'x_1']])]]])];
    expect(otherLibraries(resp2)).toEqual(['delayd_0123456789ab']);
    expect(otherLibraries(resp3)).toEqual(['delayd_ba9876543210']);
    expect(otherLibraries([['library_name', 'mylib']])).toEqual([]);
  });
});
