/**
 * Issue 14, on a fake clock: the schedule follows the code. A daemon starting with a changed
 * cron replaces the pending occurrence of the old schedule; one serving the name without a
 * cron cancels it and the chain ends; daemons racing at start leave one pending occurrence;
 * an ad hoc delay() of a periodic task runs once and moves no chain.
 */
import { afterEach, expect, it } from 'vitest';
import { at, cronWorld, heads, isoOf } from './cron-helpers.js';

let world: ReturnType<typeof cronWorld> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const T = at('2030-01-01T09:00:00.000Z');

it('a changed cron replaces the pending occurrence of the old schedule', async () => {
  const w = (world = cronWorld(T));
  const a = w.daemon('A', 'job', { cron: '*/10 * * * * *', tz: 'UTC' });
  await a.start();
  await w.advanceTo(T + 25_000); // 09:00:10 and :20 ran; :30 pending
  await w.settle(a.stop());
  const b = w.daemon('B', 'job', { cron: '*/15 * * * * *', tz: 'UTC', args: [7] });
  await b.start();
  const rows = await w.tasks('job');
  const old = rows.filter((r) => r.dueMs === T + 30_000 && r.args === '[]');
  expect(old).toMatchObject([{ state: 'cancelled', attempts: 0 }]);
  expect(heads(rows).map((r) => [isoOf(r.dueMs), r.args])).toEqual([[isoOf(T + 30_000), '[7]']]); // :30 is also a */15 time
  await w.advanceTo(T + 62_000);
  expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([10, 20, 30, 45, 60].map((s) => isoOf(T + s * 1000)));
  expect(await w.cron('job')).toMatchObject({ expression: '*/15 * * * * *', args: '[7]', updatedMs: old[0]!.finishedMs, removedMs: null });
});

it('a cron removed from the code cancels its pending occurrence, and the chain ends; defined again, it starts anew', async () => {
  const w = (world = cronWorld(T));
  const a = w.daemon('A', 'job', { cron: '*/10 * * * * *', tz: 'UTC' });
  await a.start();
  await w.advanceTo(T + 15_000);
  await w.settle(a.stop());
  const plain = w.daemon('B', 'job', {});
  const removedAt = w.fake.now;
  await plain.start();
  await w.advanceTo(T + 60_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([T + 10_000]);
  expect(heads(await w.tasks('job'))).toEqual([]);
  expect(await w.cron('job')).toMatchObject({ removedMs: removedAt, next: null });
  await w.settle(plain.stop());
  const back = w.daemon('C', 'job', { cron: '*/10 * * * * *', tz: 'UTC' });
  await back.start();
  await w.advanceTo(T + 81_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([T + 10_000, T + 70_000, T + 80_000]);
});

it('daemons starting at once leave exactly one pending occurrence', async () => {
  const w = (world = cronWorld(T));
  const daemons = ['A', 'B', 'C', 'D', 'E'].map((o) => w.daemon(o, 'job', { cron: '*/10 * * * * *', tz: 'UTC' }));
  await Promise.all(daemons.map((d) => d.start()));
  expect(heads(await w.tasks('job')).map((r) => r.dueMs)).toEqual([T + 10_000]);
  await w.advanceTo(T + 31_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([T + 10_000, T + 20_000, T + 30_000]);
});

it('an ad hoc delay() of a periodic task runs once and moves no chain; a missed one is not skipped', async () => {
  const w = (world = cronWorld(T));
  const a = w.daemon('A', 'job', { cron: '0 * * * * *', tz: 'UTC', missed: 'skip' });
  await a.start();
  await a.enqueue('job', [{ args: ['now'], when: { eta: T - 120_000 } }]); // two minutes late
  await w.advanceTo(T + 61_000);
  expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([isoOf(T - 120_000), isoOf(T + 60_000)]);
  expect(heads(await w.tasks('job')).map((r) => r.dueMs)).toEqual([T + 120_000]);
});

it('daemons starting while the pending occurrence is overdue add no second one (the chain catches up alone)', async () => {
  const w = (world = cronWorld(T));
  const a = w.daemon('A', 'job', { cron: '*/10 * * * * *', tz: 'UTC', missed: 'all' });
  await a.start();
  await w.advanceTo(T + 15_000);
  await w.settle(a.stop()); // 09:00:20 pending
  await w.advanceTo(T + 42_000); // 09:00:20 and :30, :40 fell
  const late = ['B', 'C'].map((o) => w.daemon(o, 'job', { cron: '*/10 * * * * *', tz: 'UTC', missed: 'all' }));
  await late[0]!.start(); // its first claim starts 09:00:20 at once, whose follower (09:00:30) is due too
  expect(heads(await w.tasks('job'))).toHaveLength(1);
  await late[1]!.start();
  expect(heads(await w.tasks('job'))).toHaveLength(1);
  await w.advanceTo(T + 61_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([1, 2, 3, 4, 5, 6].map((n) => T + n * 10_000));
});

it('a pending occurrence cancelled by hand stops the schedule until a daemon starts again', async () => {
  const w = (world = cronWorld(T));
  const a = w.daemon('A', 'job', { cron: '*/10 * * * * *', tz: 'UTC' });
  await a.start();
  await w.advanceTo(T + 15_000);
  const [head] = heads(await w.tasks('job'));
  await a.cancel(head!.id);
  await w.advanceTo(T + 45_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([T + 10_000]);
  await w.settle(a.stop());
  await w.settle(a.start());
  await w.advanceTo(T + 61_000);
  expect(w.runs.map((r) => r.dueMs)).toEqual([T + 10_000, T + 50_000, T + 60_000]);
});
