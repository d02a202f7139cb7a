/**
 * Issue 14, on a fake clock: every 10 s for an hour with three schedulers sharing one SQLite
 * file: 360 runs, each started at its exact second, none early, none twice, and one pending
 * occurrence (the chain's head) at every moment.
 */
import { afterEach, expect, it } from 'vitest';
import { at, cronWorld, heads, isoOf } from './cron-helpers.js';

let world: ReturnType<typeof cronWorld> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

it('runs every 10 s for an hour on three schedulers, one of them restarting every minute: 360 runs, each at its exact second, once', async () => {
  const T = at('2030-01-01T09:00:00.000Z');
  const w = (world = cronWorld(T));
  const schedulers = ['A', 'B', 'C'].map((owner) => w.daemon(owner, 'ping', { cron: '*/10 * * * * *', tz: 'UTC' }));
  await Promise.all(schedulers.map((s) => s.start()));
  const maxHeads: number[] = [];
  for (let minute = 0; minute < 60; minute++) {
    // A rolling restart: stopped just before an occurrence (which another one then runs), back
    // a few seconds later, syncing its cron against a chain that goes on.
    const s = schedulers[minute % 3]!;
    await w.advanceTo(T + minute * 60_000 + 9_000 + (minute % 7) * 100);
    await w.settle(s.stop());
    maxHeads.push(heads(await w.tasks('ping')).length);
    await w.advanceTo(T + minute * 60_000 + 23_500);
    await w.settle(s.start());
    await w.advanceTo(T + (minute + 1) * 60_000);
    maxHeads.push(heads(await w.tasks('ping')).length);
  }
  const expected = Array.from({ length: 360 }, (_, i) => at('2030-01-01T09:00:10.000Z') + i * 10_000);
  expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual(expected.map(isoOf));
  expect(w.runs.filter((r) => r.atMs !== r.dueMs)).toEqual([]); // neither early nor late, on a fake clock
  expect(new Set(w.runs.map((r) => r.id)).size).toBe(360);
  expect(maxHeads.every((n) => n === 1)).toBe(true);
  // Each scheduler ran its share: the restarts handed the chain from one to another.
  for (const owner of ['A', 'B', 'C']) expect(w.runs.filter((r) => r.owner === owner).length).toBeGreaterThan(30);
  await Promise.all(schedulers.map((s) => s.flush()));
  const rows = await w.tasks('ping');
  expect(rows.filter((r) => r.state === 'succeeded')).toHaveLength(360);
  expect(heads(rows).map((r) => isoOf(r.dueMs))).toEqual(['2030-01-01T10:00:10.000Z']);
  const cron = await w.cron('ping');
  expect(cron).toMatchObject({ expression: '*/10 * * * * *', tz: 'UTC', missed: 'once', removedMs: null });
  expect(cron!.next).toMatchObject({ dueMs: at('2030-01-01T10:00:10.000Z'), state: 'scheduled' });
  expect(cron!.last).toMatchObject({ dueMs: at('2030-01-01T10:00:00.000Z'), state: 'succeeded', attempts: 1 });
}, 120_000);
