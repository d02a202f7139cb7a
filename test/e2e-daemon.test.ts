/**
 * The daemon end to end: tasks enqueued from the shell run to `succeeded`; SIGTERM mid-work
 * loses nothing (running handlers finish or go back, waiting tasks go back, a restart runs
 * them all); a second signal exits at once and the next daemon puts its tasks back. Tests
 * wait on the daemon's JSON log lines, never on sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BROKEN_HANDLERS, cli, cliJson, countsByState, Daemon, tempDir } from './fixtures/cli.js';

let tmp: ReturnType<typeof tempDir>;
const daemons: Daemon[] = [];
beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGKILL');
  tmp.remove();
});

const db = () => ['--db', tmp.db];
function daemon(args: string[] = []): Daemon {
  const d = new Daemon(tmp.db, args);
  daemons.push(d);
  return d;
}
async function enqueue(name: string, args: unknown[], extra: string[] = []): Promise<number> {
  const result = await cli(['enqueue', name, '--args', JSON.stringify(args), ...extra, ...db()]);
  if (result.code !== 0) throw new Error(result.stderr);
  return Number(result.stdout);
}

describe('delayd daemon', () => {
  it('runs tasks enqueued from the shell to succeeded, and says which names it serves', async () => {
    for (let i = 0; i < 3; i++) await enqueue('fast', [i]);
    await enqueue('fast', ['later'], ['--countdown', '1']);
    const d = daemon();
    await d.waitFor('4 succeeded', () => d.count('succeeded') === 4);

    const stats = await cliJson<{ succeeded: number; daemons: { pid: number; tasks: string[] }[] }>(['stats', ...db()]);
    expect(stats.succeeded).toBe(4);
    expect(stats.daemons).toEqual([expect.objectContaining({ pid: d.child.pid, tasks: ['boom', 'fast', 'slow'] })]);
    const served = await cli(['enqueue', 'fast', ...db()]);
    expect(served.stderr).toBe('');
    const unknown = await cli(['enqueue', 'nobody', ...db()]);
    expect(unknown.stderr).toMatch(/^delayd: warning: no live daemon serves "nobody" \(live daemons serve boom, fast, slow\)/);
    await d.waitFor('5 succeeded', () => d.count('succeeded') === 5);

    expect(await d.stop()).toEqual({ code: 0, signal: null });
    const shown = await cliJson<{ state: string; result: unknown; attempts: number }>(['show', '4', ...db()]);
    expect(shown).toMatchObject({ state: 'succeeded', result: 'later', attempts: 1 });
    expect((await cliJson<{ workers?: unknown; daemons: unknown[] }>(['stats', ...db()])).daemons).toEqual([]);
  });

  it('a failed task can be retried from the shell', async () => {
    const id = await enqueue('boom', ['no luck']);
    const d = daemon();
    await d.waitFor('failed', () => d.count('failed') === 1);
    const failed = await cliJson<{ state: string; lastError: string }>(['show', String(id), ...db()]);
    expect(failed.state).toBe('failed');
    expect(failed.lastError).toMatch(/^Error: no luck/);

    expect(await cliJson(['retry', String(id), ...db()])).toMatchObject({ state: 'scheduled' });
    await d.waitFor('failed again', () => d.count('failed') === 2);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    expect(await cliJson(['show', String(id), ...db()])).toMatchObject({ state: 'failed', attempts: 2 });
  });

  it('SIGTERM mid-work: running handlers finish within the drain timeout, the rest wait; a restart runs them all', async () => {
    for (let i = 0; i < 6; i++) await enqueue('slow', [800]);
    const d = daemon(['--concurrency', '2', '--drain-timeout', '10']);
    await d.waitFor('2 accepted', () => d.count('accepted') === 2);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    // Claimed tasks waiting in memory go back; every task it had started finished; none is running.
    expect(d.events.find((e) => e.msg === 'scheduler stopped')).toMatchObject({ drained: true, released: 6 - d.count('accepted') });
    const counts = countsByState(tmp.db);
    expect(counts).toEqual({ succeeded: d.count('accepted'), scheduled: 6 - d.count('accepted') });

    const again = daemon(['--concurrency', '6']);
    await again.waitFor('the rest succeeded', () => again.count('succeeded') === counts.scheduled);
    await again.stop();
    expect(countsByState(tmp.db)).toEqual({ succeeded: 6 });
  });

  it('SIGTERM past the drain timeout puts the running tasks back, none stuck running', async () => {
    for (let i = 0; i < 3; i++) await enqueue('slow', [2000]);
    const d = daemon(['--concurrency', '3', '--drain-timeout', '0.1']);
    await d.waitFor('3 accepted', () => d.count('accepted') === 3);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
    const stopped = d.events.find((e) => e.msg === 'scheduler stopped');
    expect(stopped).toMatchObject({ drained: false, released: 3 - d.count('succeeded') });
    expect(countsByState(tmp.db)).toEqual({ scheduled: stopped!.released, ...(d.count('succeeded') ? { succeeded: d.count('succeeded') } : {}) });

    const again = daemon(['--concurrency', '3']);
    await again.waitFor('the rest succeeded', () => again.count('succeeded') === stopped!.released);
    await again.stop();
    expect(countsByState(tmp.db)).toEqual({ succeeded: 3 });
  });

  it('a second signal exits at once; the next daemon puts the abandoned tasks back', async () => {
    // Long enough that the second signal surely lands while the first still drains.
    for (let i = 0; i < 2; i++) await enqueue('slow', [2500]);
    const d = daemon(['--drain-timeout', '30']);
    await d.waitFor('2 accepted', () => d.count('accepted') === 2);
    d.signal('SIGTERM');
    await d.waitFor('stopping', () => d.events.some((e) => e.msg.startsWith('stopping')));
    d.signal('SIGINT');
    expect(await d.exited).toEqual({ code: 130, signal: null });
    expect(countsByState(tmp.db)).toEqual({ running: 2 });

    const again = daemon();
    await again.waitFor('the dead owner put back', () => again.events.some((e) => e.msg === 'put back the running tasks of a dead owner'));
    await again.waitFor('2 succeeded', () => again.count('succeeded') === 2);
    await again.stop();
    expect(countsByState(tmp.db)).toEqual({ succeeded: 2 });
  });
});

describe('delayd daemon refuses to start', () => {
  it('when a handler module fails to import: exit 1, one line on stderr', async () => {
    const result = await cli(['daemon', '--handlers', BROKEN_HANDLERS, ...db()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^delayd: E_HANDLER_IMPORT: Could not import handler module file:\/\/\S+broken-handlers\.js: this module is broken on purpose\n$/);
  });
  it('when a handler module does not exist', async () => {
    const result = await cli(['daemon', '--handlers', './no/such/module.js', ...db()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^delayd: E_HANDLER_IMPORT: Could not import handler module file:\/\/\S+\/no\/such\/module\.js: Cannot find module/);
  });
  it('without --handlers (a usage error) or with a bad number', async () => {
    const none = await cli(['daemon', ...db()]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^delayd: E_USAGE: Missing required argument: handlers/);
    const zero = await cli(['daemon', '--handlers', BROKEN_HANDLERS, '--concurrency', '0', ...db()]);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/^delayd: E_BAD_OPTION: Expected `--concurrency` to be an integer >= 1, got `"0"` \(string\)\n$/);
  });
});
