/**
 * Issue 14: the cron options of task(), checked at task() time (E_BAD_CRON with what was
 * expected and what came), and the schedule's rules for missed occurrences (schedule.ts).
 */
import { describe, expect, it } from 'vitest';
import { ALL_CAP, CronSchedule, MISSED_GRACE_MS } from '../src/cron/schedule.js';
import { Registry, taskFactory } from '../src/task.js';
import type { Enqueuer } from '../src/task.js';
import { at } from './cron-helpers.js';

const task = taskFactory(new Registry(), () => ({}) as Enqueuer);
const badCron = (options: Record<string, unknown>, message: RegExp) => {
  let caught: unknown;
  try {
    task(`t${Math.random()}`, options as never)(() => {});
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ name: 'DelaydError', code: 'E_BAD_CRON' });
  expect((caught as Error).message).toMatch(message);
};

describe('task(name, { cron, tz, args, missed })', () => {
  it('accepts 5 and 6 fields, a zone, args and each missed policy, and registers the schedule', () => {
    const registry = new Registry();
    const t = taskFactory(registry, () => ({}) as Enqueuer);
    t('report', { cron: '0 9 * * 1-5', tz: 'Europe/Paris', missed: 'skip', args: ['daily', { n: 1 }] })(() => {});
    t('ping', { cron: '*/10 * * * * *' })(() => {});
    expect(registry.get('report')!.cron!.spec).toEqual({ expression: '0 9 * * 1-5', tz: 'Europe/Paris', args: '["daily",{"n":1}]', missed: 'skip' });
    // Defaults: the daemon's zone (Intl, resolved at task()), no args, missed: 'once'.
    expect(registry.get('ping')!.cron!.spec).toEqual({ expression: '*/10 * * * * *', tz: Intl.DateTimeFormat().resolvedOptions().timeZone, args: '[]', missed: 'once' });
  });

  it('refuses a bad expression, saying what was expected and what came', () => {
    badCron({ cron: '61 * * * *' }, /Expected `cron` to be a cron expression of 5 fields .* got `"61 \* \* \* \*"` \(string\): .*minute/);
    badCron({ cron: '* * * *' }, /5 fields .*got `"\* \* \* \*"`/);
    badCron({ cron: '* * * * * * *' }, /got `"\* \* \* \* \* \* \*"`/);
    badCron({ cron: 42 }, /Expected `cron` to be a cron expression \(5 fields, or 6 with seconds\), got `42` \(number\)/);
    badCron({ cron: '' }, /got `""` \(string\)/);
    badCron({ cron: '0 0 31 2 *' }, /to match some time, got `"0 0 31 2 \*"` \(string\), which never does/);
  });

  it('refuses a bad zone, args or missed, and those options without a cron', () => {
    badCron({ cron: '* * * * *', tz: 'Mars/Olympus' }, /Expected `tz` to be an IANA time zone such as 'Europe\/Paris' or 'UTC', got `"Mars\/Olympus"` \(string\)/);
    badCron({ cron: '* * * * *', tz: 3 }, /`tz`.*got `3` \(number\)/);
    badCron({ cron: '* * * * *', args: 'x' }, /Expected the cron's `args` to be an array, got `"x"` \(string\)/);
    badCron({ cron: '* * * * *', args: [() => 1] }, /`args` to be JSON/);
    badCron({ cron: '* * * * *', missed: 'never' }, /Expected `missed` to be one of 'skip', 'once', 'all', got `"never"` \(string\)/);
    badCron({ tz: 'UTC' }, /Expected `tz` to come with a `cron` expression/);
    badCron({ missed: 'all' }, /Expected `missed` to come with a `cron` expression/);
  });
});

describe('CronSchedule', () => {
  const T = at('2030-01-01T09:00:00.000Z');
  const every10 = (missed: 'skip' | 'once' | 'all') => new CronSchedule({ expression: '*/10 * * * * *', tz: 'UTC', args: '[]', missed });

  it('lists occurrences strictly after a time (croner nextRun)', () => {
    expect(every10('once').after(T)).toBe(T + 10_000);
    expect(every10('once').after(T - 1)).toBe(T);
    expect(every10('once').nextRuns(3, T)).toEqual([T + 10_000, T + 20_000, T + 30_000]);
  });

  it('calls an occurrence missed when late by its interval (at most a minute) or more', () => {
    expect(every10('skip').graceMs(T)).toBe(10_000);
    expect(every10('skip').isMissed(T, T + 9_999)).toBe(false);
    expect(every10('skip').isMissed(T, T + 10_000)).toBe(true);
    const daily = new CronSchedule({ expression: '0 9 * * *', tz: 'UTC', args: '[]', missed: 'skip' });
    expect(daily.graceMs(T)).toBe(MISSED_GRACE_MS);
    expect(daily.isMissed(T, T + 59_999)).toBe(false);
    expect(daily.isMissed(T, T + 60_000)).toBe(true);
  });

  it("follows with the first occurrence after now ('once', 'skip'), or the next one, capped ('all')", () => {
    expect(every10('once').follower(T, T)).toBe(T + 10_000);
    expect(every10('once').follower(T, T + 45_000)).toBe(T + 50_000);
    expect(every10('skip').follower(T, T + 45_000)).toBe(T + 50_000);
    expect(every10('all').follower(T, T + 45_000)).toBe(T + 10_000);
    expect(every10('all').follower(T, T + 2)).toBe(T + 10_000);
    // 'once': superseded by the latest occurrence due at the start, once the next one is due.
    expect(every10('once').supersededBy(T, T + 9_999)).toBeNull();
    expect(every10('once').supersededBy(T, T + 10_000)).toBe(T + 10_000);
    expect(every10('once').supersededBy(T, T + 45_000)).toBe(T + 40_000);
    // 200 behind: the chain goes on from the ALL_CAP most recent.
    expect(every10('all').follower(T, T + 2_000_005)).toBe(T + 2_000_000 - (ALL_CAP - 1) * 10_000);
  });
});
