/**
 * Issue 14, end to end: kill -9 of a real daemon at moments around an occurrence of a
 * per-second cron: while the occurrence is claimed and waiting for its millisecond (a run
 * showed the head `running` with no attempt for the kills at -12 .. 0 ms), at its start,
 * mid-run (the occurrence cut off, its follower already pending), after its end. After every kill
 * the chain has exactly one pending occurrence (never broken, never doubled); when daemons have
 * run again, every second from the first occurrence on has exactly one task, and `delayd cron`
 * shows the schedule and the daemon serving it.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { CLI, cliJson, Daemon, tempDir } from './fixtures/cli.js';
import { heads } from './cron-helpers.js';
import { rows } from './procs/issue10.js';

const HANDLERS = fileURLToPath(new URL('./procs/cron-beat.mjs', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

function daemon(db: string): Daemon {
  const d = new Daemon(db, ['daemon', '--db', db, '--handlers', HANDLERS, '--heartbeat', '1', '--lease', '5'], CLI);
  cleanups.push(() => d.child.kill('SIGKILL'));
  return d;
}

const accepted = (d: Daemon) => d.events.filter((e) => e.msg === 'accepted' && e.name === 'beat').length;

it('kill -9 around occurrences never breaks nor doubles the chain', async () => {
  const { db, remove } = tempDir();
  cleanups.push(remove);
  // Milliseconds from an occurrence's second: claimed and waiting for its start (the ticker
  // claims 20 ms ahead), at the start, mid-run (runs take 40 ms), after the end.
  const offsets = [-12, -6, -2, 0, 3, 20, 70, 400];
  for (const offset of offsets) {
    const d = daemon(db);
    await d.waitFor('two starts of beat', (x) => accepted(x) >= 2, 60_000);
    const target = Math.ceil(Date.now() / 1000) * 1000 + 1000 + offset;
    while (Date.now() < target - 30) await new Promise((resolve) => setTimeout(resolve, 10));
    while (Date.now() < target); // the last few ms spinning: timers are too coarse
    d.child.kill('SIGKILL');
    await d.exited;
    const occurrences = (await rows(db)).filter((r) => r.name === 'beat');
    expect(heads(occurrences), `heads after a kill ${offset} ms after a start`).toHaveLength(1);
    expect(new Set(occurrences.map((r) => r.dueMs)).size).toBe(occurrences.length);
  }
  const last = daemon(db);
  await last.waitFor('three starts of beat', (x) => accepted(x) >= 3, 60_000);
  const listed = await cliJson<{ name: string; cron: string; next: { due: string } | null; last: { state: string } | null; servedBy: { pid: number }[] }[]>(['cron', '--db', db]);
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ name: 'beat', cron: '* * * * * *', tz: 'UTC', missed: 'all', status: 'defined' });
  expect(listed[0]!.next).not.toBeNull();
  expect(listed[0]!.servedBy.map((w) => w.pid)).toEqual([last.child.pid]);
  expect((await last.stop()).code).toBe(0);

  const occurrences = (await rows(db)).filter((r) => r.name === 'beat').sort((a, b) => a.dueMs - b.dueMs);
  expect(heads(occurrences)).toHaveLength(1);
  // No gap and no double: one task per second, from the first occurrence to the pending one.
  const dues = occurrences.map((r) => r.dueMs);
  expect(dues).toEqual(dues.map((_, i) => dues[0]! + i * 1000));
  // Everything before the pending one ran to its end (a cut-off run was run again, as any task's).
  const ended = occurrences.filter((r) => r.state !== 'scheduled');
  expect(ended.filter((r) => r.state !== 'succeeded')).toEqual([]);
  expect(ended.every((r) => r.result === String(r.dueMs))).toBe(true);
}, 240_000);
