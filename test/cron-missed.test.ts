/**
 * Issue 14, on a fake clock: what happens to the occurrences that fell while no daemon ran,
 * and when the wall clock jumps. A 10 s cron; its daemon stops after 09:00:10 ran, and the next
 * one starts at 09:01:05, five occurrences later (09:00:20 ... 09:01:00).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_CAP } from '../src/cron/schedule.js';
import type { CronMissed } from '../src/store/types.js';
import { at, cronWorld, heads, isoOf } from './cron-helpers.js';

let world: ReturnType<typeof cronWorld> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const T = at('2030-01-01T09:00:00.000Z');
const s10 = (n: number) => T + n * 10_000;

/** Runs as [due, started] ISO pairs from `fromMs` on. */
function runsFrom(w: ReturnType<typeof cronWorld>, fromMs = 0): [string, string][] {
  return w.runs.filter((r) => r.atMs >= fromMs).map((r) => [isoOf(r.dueMs), isoOf(r.atMs)]);
}

async function downFiveOccurrences(missed: CronMissed) {
  const w = (world = cronWorld(T));
  const first = w.daemon('A', 'tick', { cron: '*/10 * * * * *', tz: 'UTC', missed });
  await first.start();
  await w.advanceTo(s10(1) + 5_000);
  await w.settle(first.stop());
  await w.advanceTo(s10(6) + 5_000); // nobody runs: 09:00:20 ... 09:01:00 fall
  const second = w.daemon('B', 'tick', { cron: '*/10 * * * * *', tz: 'UTC', missed });
  await second.start();
  await w.advanceTo(s10(9) + 5_000);
  await second.flush();
  return w;
}

describe('a daemon stopped for 5 occurrences, then restarted', () => {
  it("missed: 'skip' runs none of them, records the pending one as missed, then goes on at the right times", async () => {
    const w = await downFiveOccurrences('skip');
    expect(runsFrom(w)).toEqual([
      [isoOf(s10(1)), isoOf(s10(1))],
      [isoOf(s10(7)), isoOf(s10(7))],
      [isoOf(s10(8)), isoOf(s10(8))],
      [isoOf(s10(9)), isoOf(s10(9))],
    ]);
    const rows = await w.tasks('tick');
    const missed = rows.find((r) => r.dueMs === s10(2))!;
    expect(missed).toMatchObject({ state: 'failed', attempts: 1, lastErrorCode: 'E_CRON_MISSED', startedMs: s10(6) + 5_000 });
    expect(missed.errors[0]!.message).toContain("not run, as missed: 'skip' says");
    expect(rows.filter((r) => r.dueMs > s10(2) && r.dueMs <= s10(6))).toEqual([]); // never created
    expect(heads(rows).map((r) => r.dueMs)).toEqual([s10(10)]);
  });

  it("missed: 'once' runs one of them, the latest, at the restart, then goes on at the right times", async () => {
    const w = await downFiveOccurrences('once');
    const restart = s10(6) + 5_000;
    expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([1, 6, 7, 8, 9].map((n) => isoOf(s10(n))));
    // The pending one (09:00:20) is ended unrun at the restart; the latest (09:01:00) is claimed at once.
    const rows = await w.tasks('tick');
    expect(rows.find((r) => r.dueMs === s10(2))).toMatchObject({ state: 'failed', lastErrorCode: 'E_CRON_MISSED', startedMs: restart });
    expect(rows.find((r) => r.dueMs === s10(2))!.errors[0]!.message).toContain("missed: 'once' runs only the latest of them, due at 2030-01-01T09:01:00.000Z");
    expect(w.runs[1]!.atMs).toBeGreaterThanOrEqual(restart);
    expect(w.runs[1]!.atMs).toBeLessThan(restart + 100);
    expect(w.runs.slice(2).map((r) => r.atMs)).toEqual([s10(7), s10(8), s10(9)]);
    expect(rows.filter((r) => r.dueMs > s10(2) && r.dueMs < s10(6))).toEqual([]); // never created
    expect(heads(rows).map((r) => r.dueMs)).toEqual([s10(10)]);
  });

  it("missed: 'all' runs all five in order, each follower claimed as soon as it is written, then goes on at the right times", async () => {
    const w = await downFiveOccurrences('all');
    const restart = s10(6) + 5_000;
    expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => isoOf(s10(n))));
    // Each follower, written already due with its predecessor's start, is claimed at once (dispatch's poke).
    const caughtUp = w.runs.slice(1, 6).map((r) => r.atMs);
    expect(caughtUp[0]).toBe(restart);
    caughtUp.slice(1).forEach((atMs, i) => expect(atMs).toBeGreaterThanOrEqual(caughtUp[i]!));
    expect(caughtUp[4]! - restart).toBeLessThan(100);
    expect(w.runs.slice(6).map((r) => r.atMs)).toEqual([s10(7), s10(8), s10(9)]);
    expect(heads(await w.tasks('tick')).map((r) => r.dueMs)).toEqual([s10(10)]);
  });
});

describe('a wall clock that jumps', () => {
  it('back an hour: runs nothing twice, waits for the clock to reach the next occurrence again, and is never early', async () => {
    const w = (world = cronWorld(T));
    const daemons = ['A', 'B'].map((owner) => w.daemon(owner, 'tick', { cron: '*/10 * * * * *', tz: 'UTC' }));
    await Promise.all(daemons.map((d) => d.start()));
    await w.advanceTo(T + 65_000); // 09:00:10 ... 09:01:00 ran
    expect(w.runs).toHaveLength(6);
    w.jump(-3_600_000); // 08:01:05
    await w.advance(3_600_000 + 40_000); // back to 09:01:45
    expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => isoOf(s10(n))));
    expect(w.runs.filter((r) => r.atMs !== r.dueMs)).toEqual([]);
    expect(new Set(w.runs.map((r) => r.dueMs)).size).toBe(w.runs.length);
    expect(heads(await w.tasks('tick')).map((r) => r.dueMs)).toEqual([s10(11)]);
  });

  it('back an hour while a daemon restarts with a changed cron: no time already run comes back', async () => {
    const w = (world = cronWorld(T));
    const a = w.daemon('A', 'tick', { cron: '*/10 * * * * *', tz: 'UTC' });
    await a.start();
    await w.advanceTo(T + 65_000);
    await w.settle(a.stop());
    w.jump(-3_600_000);
    const b = w.daemon('B', 'tick', { cron: '*/20 * * * * *', tz: 'UTC' });
    await b.start();
    // The old head (09:01:10) is cancelled; the new first comes after the last run, 09:01:00.
    expect(heads(await w.tasks('tick')).map((r) => isoOf(r.dueMs))).toEqual([isoOf(T + 80_000)]);
    await w.advance(3_600_000 + 30_000);
    expect(w.runs.map((r) => isoOf(r.dueMs))).toEqual([...[1, 2, 3, 4, 5, 6].map((n) => isoOf(s10(n))), isoOf(T + 80_000)]);
  });

  for (const [missed, expected] of [
    ['skip', 0],
    ['once', 1],
    ['all', 60],
  ] as const) {
    it(`ahead an hour: missed: '${missed}' runs ${expected} of the 60 occurrences that fell, then goes on at the right times`, async () => {
      const w = (world = cronWorld(T));
      const d = w.daemon('A', 'tick', { cron: '* * * * *', tz: 'UTC', missed });
      await d.start();
      await w.advanceTo(T + 90_000); // 09:01 ran
      w.jump(3_600_000); // 10:01:30: 09:02 ... 10:01 fell
      await w.advance(180_000); // to 10:04:30
      await d.flush();
      const minute = (n: number) => T + n * 60_000;
      const caughtUp = w.runs.filter((r) => r.dueMs > minute(1) && r.dueMs <= minute(61));
      expect(caughtUp).toHaveLength(expected);
      expect(caughtUp.map((r) => r.dueMs)).toEqual([...caughtUp.map((r) => r.dueMs)].sort((x, y) => x - y));
      if (missed === 'all') expect(caughtUp.map((r) => r.dueMs)).toEqual(Array.from({ length: 60 }, (_, i) => minute(i + 2)));
      if (missed === 'once') expect(caughtUp.map((r) => r.dueMs)).toEqual([minute(61)]); // the latest
      // 10:02 may be run late by 'all' (still catching up then); from 10:03 on, on time.
      const onTime = w.runs.filter((r) => r.dueMs > minute(62));
      expect(onTime.map((r) => [isoOf(r.dueMs), isoOf(r.atMs)])).toEqual([63, 64].map((n) => [isoOf(minute(n)), isoOf(minute(n))]));
      expect(w.runs.filter((r) => r.dueMs === minute(62))).toHaveLength(1);
      expect(new Set(w.runs.map((r) => r.dueMs)).size).toBe(w.runs.length);
    });
  }

  it(`ahead an hour with missed: 'all' on a 10 s cron: runs the oldest pending and the ${ALL_CAP} most recent of the 360 that fell`, async () => {
    const w = (world = cronWorld(T));
    const d = w.daemon('A', 'tick', { cron: '*/10 * * * * *', tz: 'UTC', missed: 'all' });
    await d.start();
    await w.advanceTo(T + 15_000); // 09:00:10 ran
    w.jump(3_600_000); // 10:00:15: 09:00:20 ... 10:00:10 fell (360)
    await w.advance(200_000);
    const behind = w.runs.filter((r) => r.dueMs > s10(1) && r.dueMs <= s10(361));
    expect(behind).toHaveLength(ALL_CAP + 1);
    expect(behind[0]!.dueMs).toBe(s10(2));
    expect(behind.slice(1).map((r) => r.dueMs)).toEqual(Array.from({ length: ALL_CAP }, (_, i) => s10(361 - ALL_CAP + 1 + i)));
    expect(new Set(w.runs.map((r) => r.dueMs)).size).toBe(w.runs.length);
  });
});
