/** The functions library's text (functions.ts): what is registered, and the EVAL fallback's text. */
import { describe, expect, it } from 'vitest';
import { library, LuaScript } from '../../src/store/redis/functions.js';
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
