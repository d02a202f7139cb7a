/**
 * Issue 10 (red-team 3, 14, 15, 16, 17): nothing a handler does takes the daemon down
 * silently; a signal while modules import starts nothing; a module that never finishes
 * importing, or registers no task, ends the daemon with a clear line and status 1; a daemon
 * on a corrupt database exits non-zero rather than logging forever.
 */
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { daemon, enqueueLines, module, rows, until, killedAtEnd } from './procs/issue10.js';
import { cli, tempDir, type Daemon } from './fixtures/cli.js';
import { scenarios } from './helpers.js';

const { defer } = scenarios();

const started = killedAtEnd(defer);

describe('handler bugs', () => {
  it('a null-prototype throw, a forgotten rejection, a throw in a timer: logged, and the daemon goes on', async () => {
    const t = tempDir();
    defer(t.remove);
    const names = ['throw_nullproto', 'floating_reject', 'timer_throw', 'throw_obj', 'ret_bigint'];
    await enqueueLines(t.db, names.map((name) => ({ name })));
    const d = started(daemon(t.db, 'misbehave'));
    await d.waitFor('the uncaught errors to be logged', (x) =>
      x.events.some((e) => /unhandled promise rejection/.test(e.msg)) && x.events.some((e) => /uncaught exception/.test(e.msg)),
    );
    await enqueueLines(t.db, [{ name: 'ok' }]);
    const byName = async () => Object.fromEntries((await rows(t.db)).map((r) => [r.name, r]));
    await until('ok to succeed after them', async () => (await byName()).ok?.state === 'succeeded', 10_000);
    const got = await byName();
    expect(got.throw_nullproto).toMatchObject({ state: 'failed' });
    expect(got.throw_nullproto!.lastError).toContain('Non-error thrown');
    expect(got.floating_reject).toMatchObject({ state: 'succeeded' });
    expect(got.timer_throw).toMatchObject({ state: 'succeeded' });
    expect(got.throw_obj).toMatchObject({ state: 'failed', lastErrorCode: 'E_OBJ' });
    expect(got.throw_obj!.errors[0]).toMatchObject({ code: 'E_OBJ', message: 'obj msg' });
    expect(got.ret_bigint).toMatchObject({ state: 'failed', lastErrorCode: 'E_BAD_RESULT' });
    expect(await d.stop()).toEqual({ code: 0, signal: null });
  }, 40_000);
});

describe('the daemon around its handler modules', () => {
  it('a SIGTERM while the modules import: the import finishes, nothing starts, exit 0', async () => {
    const t = tempDir();
    defer(t.remove);
    await enqueueLines(t.db, [{ name: 'rec' }]);
    const d = started(daemon(t.db, 'slow-import'));
    await d.waitFor('the module to be importing', (x) => x.count('importing') > 0);
    d.signal('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.count('scheduler started')).toBe(0);
    expect((await rows(t.db)).map((r) => r.state)).toEqual(['scheduled']);
  }, 20_000);

  it('a module whose top-level await never settles: one line, status 1', async () => {
    const t = tempDir();
    defer(t.remove);
    const result = await cli(['daemon', '--db', t.db, '--handlers', module('hangs')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`handler module file://${module('hangs')} never finished importing (its top-level await never settled)`);
  }, 20_000);

  it('modules that register no task: refused with E_HANDLER_IMPORT, status 1', async () => {
    const t = tempDir();
    defer(t.remove);
    const result = await cli(['daemon', '--db', t.db, '--handlers', module('empty')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/register at least one task/);
  }, 20_000);

  it('a database that keeps failing as corrupt ends the daemon with a non-zero status', async () => {
    const t = tempDir();
    defer(t.remove);
    await enqueueLines(t.db, Array.from({ length: 3000 }, (_, n) => ({ name: 'ok', args: ['x'.repeat(50), n], countdown: 1 })));
    // Overwrite pages in the middle of the file, as a failing disk would.
    const size = statSync(t.db).size;
    const fd = openSync(t.db, 'r+');
    writeSync(fd, randomBytes(Math.floor(size / 2)), 0, Math.floor(size / 2), Math.floor(size / 4));
    closeSync(fd);
    const d = started(daemon(t.db, 'misbehave', ['--heartbeat', '0.2']));
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
    const exit = await d.exited;
    clearTimeout(timer);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
  }, 40_000);
});
