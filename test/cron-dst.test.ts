/**
 * Issue 14, on a fake clock: DST in Europe/Paris and America/New_York, following croner's
 * documented rule (src/cron/schedule.ts): a fixed-time expression runs at the first valid time
 * after a spring-forward gap and once (first pass) in a repeated fall-back hour; an interval
 * expression runs on both passes of the repeated hour. A daily 09:00 stays at 09:00 local.
 *
 * 2030: Paris springs forward on 31 March (02:00 -> 03:00) and falls back on 27 October
 * (03:00 -> 02:00: 02:30 happens twice); New York springs forward on 10 March (02:00 -> 03:00)
 * and falls back on 3 November (02:00 -> 01:00: 01:30 happens twice).
 *
 * The daemon runs throughout; between occurrences the wall clock is jumped to 2 s before the
 * pending one (nothing falls meanwhile), so days pass in a few steps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { at, cronWorld, isoOf, localTime } from './cron-helpers.js';

let world: ReturnType<typeof cronWorld> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Starts a daemon at `fromIso` with the cron, and follows its chain for `count` occurrences. */
async function follow(fromIso: string, cron: string, tz: string, count: number): Promise<number[]> {
  const w = (world = cronWorld(at(fromIso)));
  await w.daemon('A', 'job', { cron, tz }).start();
  for (let i = 0; i < count; i++) {
    const next = (await w.cron('job'))?.next;
    if (!next) throw new Error(`Expected a pending occurrence after ${w.runs.length} runs, got none`);
    w.jump(next.dueMs - 2_000 - w.fake.now);
    await w.advance(3_000);
    expect(w.runs).toHaveLength(i + 1);
  }
  // Each started at its exact time: never early, never late.
  expect(w.runs.filter((r) => r.atMs !== r.dueMs)).toEqual([]);
  return w.runs.map((r) => r.dueMs);
}

describe('Europe/Paris', () => {
  it('02:30 on the spring-forward day, which does not exist, runs at 03:00 (the first valid time after the gap)', async () => {
    const runs = await follow('2030-03-29T00:00:00Z', '30 2 * * *', 'Europe/Paris', 4);
    expect(runs.map((ms) => localTime(ms, 'Europe/Paris'))).toEqual(['2030-03-29 02:30', '2030-03-30 02:30', '2030-03-31 03:00', '2030-04-01 02:30']);
    expect(runs.map(isoOf)).toEqual(['2030-03-29T01:30:00.000Z', '2030-03-30T01:30:00.000Z', '2030-03-31T01:00:00.000Z', '2030-04-01T00:30:00.000Z']);
  });

  it('02:30 on the fall-back day, which happens twice, runs once, at the first pass', async () => {
    const runs = await follow('2030-10-26T00:00:00Z', '30 2 * * *', 'Europe/Paris', 3);
    expect(runs.map(isoOf)).toEqual(['2030-10-26T00:30:00.000Z', '2030-10-27T00:30:00.000Z', '2030-10-28T01:30:00.000Z']);
  });

  it('a daily 09:00 stays at 09:00 local across both changes', async () => {
    const spring = await follow('2030-03-29T00:00:00Z', '0 9 * * *', 'Europe/Paris', 4);
    expect(spring.map((ms) => localTime(ms, 'Europe/Paris'))).toEqual(['2030-03-29 09:00', '2030-03-30 09:00', '2030-03-31 09:00', '2030-04-01 09:00']);
    expect(spring.map(isoOf).slice(1, 3)).toEqual(['2030-03-30T08:00:00.000Z', '2030-03-31T07:00:00.000Z']);
    await world!.close();
    const fall = await follow('2030-10-26T00:00:00Z', '0 9 * * *', 'Europe/Paris', 3);
    expect(fall.map((ms) => localTime(ms, 'Europe/Paris'))).toEqual(['2030-10-26 09:00', '2030-10-27 09:00', '2030-10-28 09:00']);
    expect(fall.map(isoOf).slice(0, 2)).toEqual(['2030-10-26T07:00:00.000Z', '2030-10-27T08:00:00.000Z']);
  });
});

describe('America/New_York', () => {
  it('02:30 on the spring-forward day, which does not exist, runs at 03:00', async () => {
    const runs = await follow('2030-03-09T00:00:00Z', '30 2 * * *', 'America/New_York', 3);
    expect(runs.map((ms) => localTime(ms, 'America/New_York'))).toEqual(['2030-03-09 02:30', '2030-03-10 03:00', '2030-03-11 02:30']);
  });

  it('01:30 on the fall-back day, which happens twice, runs once, at the first pass (EDT)', async () => {
    const runs = await follow('2030-11-02T00:00:00Z', '30 1 * * *', 'America/New_York', 3);
    expect(runs.map(isoOf)).toEqual(['2030-11-02T05:30:00.000Z', '2030-11-03T05:30:00.000Z', '2030-11-04T06:30:00.000Z']);
  });

  it('an interval expression runs on both passes of the repeated hour', async () => {
    const runs = await follow('2030-11-03T00:00:00Z', '*/30 1 * * *', 'America/New_York', 5);
    expect(runs.map(isoOf)).toEqual([
      '2030-11-03T05:00:00.000Z', // 01:00 EDT
      '2030-11-03T05:30:00.000Z', // 01:30 EDT
      '2030-11-03T06:00:00.000Z', // 01:00 EST
      '2030-11-03T06:30:00.000Z', // 01:30 EST
      '2030-11-04T06:00:00.000Z',
    ]);
  });

  it('a daily 09:00 stays at 09:00 local across both changes', async () => {
    const spring = await follow('2030-03-09T00:00:00Z', '0 9 * * *', 'America/New_York', 3);
    expect(spring.map((ms) => localTime(ms, 'America/New_York'))).toEqual(['2030-03-09 09:00', '2030-03-10 09:00', '2030-03-11 09:00']);
    expect(spring.map(isoOf).slice(0, 2)).toEqual(['2030-03-09T14:00:00.000Z', '2030-03-10T13:00:00.000Z']);
    await world!.close();
    const fall = await follow('2030-11-02T00:00:00Z', '0 9 * * *', 'America/New_York', 3);
    expect(fall.map((ms) => localTime(ms, 'America/New_York'))).toEqual(['2030-11-02 09:00', '2030-11-03 09:00', '2030-11-04 09:00']);
    expect(fall.map(isoOf).slice(0, 2)).toEqual(['2030-11-02T13:00:00.000Z', '2030-11-03T14:00:00.000Z']);
  });
});
