/**
 * One cron's schedule, on croner (the parser, the time zones and the DST rules are croner's;
 * nothing here parses a field or adds an hour). Pure functions of the times given: no clock.
 *
 * DST (croner's documented rule, from Vixie cron): a *fixed-time* expression (one value in each
 * of second, minute and hour, as `30 2 * * *`) runs at the first valid time after a gap (spring
 * forward: 02:30 that does not exist runs at 03:00) and once, at the first pass, for a time that
 * occurs twice (fall back); an *interval* expression (a wildcard, step, range or list in those
 * fields) skips times in a gap and runs on both passes of a repeated hour.
 *
 * Missed occurrences (an occurrence is *late by* the time between its due time and the start
 * of its first attempt):
 * - missed (for 'skip'): late by the grace or more; the grace is the time to the occurrence
 *   after it (its successor is then due too), at most MISSED_GRACE_MS.
 * - superseded (for 'once'): a later occurrence is due already; the latest of those runs
 *   instead (latestAt), so one run stands for all that fell, and it is the latest.
 * - the follower of occurrence T started at `atMs`: for 'once' and 'skip', the first
 *   occurrence after max(T, atMs), so whatever fell meanwhile is not run; for 'all', the one
 *   right after T, unless more than ALL_CAP fell since: then the oldest of the ALL_CAP most
 *   recent (the ones before it are not run).
 */
import { Cron } from 'croner';
import type { CronDef, CronMissed } from '../store/types.js';

/** The most an occurrence may be late and still run under missed: 'skip'. */
export const MISSED_GRACE_MS = 60_000;
/** The most missed occurrences missed: 'all' runs in a row. */
export const ALL_CAP = 100;

export interface CronSpec {
  expression: string;
  /** A resolved IANA zone. */
  tz: string;
  /** JSON array text. */
  args: string;
  missed: CronMissed;
}

export class CronSchedule {
  readonly spec: CronSpec;
  readonly #cron: Cron;

  /** Throws croner's own error for a bad expression (the caller words it: options.ts). */
  constructor(spec: CronSpec) {
    this.spec = spec;
    // No callback: croner only computes, it starts no timer.
    this.#cron = new Cron(spec.expression, { timezone: spec.tz, mode: '5-or-6-parts' });
  }

  def(name: string): CronDef {
    return { name, ...this.spec };
  }

  /** The first occurrence strictly after `ms`, or null when there is none. */
  after(ms: number): number | null {
    return this.#cron.nextRun(new Date(ms))?.getTime() ?? null;
  }

  /** The next `n` occurrences strictly after `ms`. */
  nextRuns(n: number, ms: number): number[] {
    return this.#cron.nextRuns(n, new Date(ms)).map((d) => d.getTime());
  }

  /** The latest occurrence at or before `ms` (croner previousRuns), or null. */
  latestAt(ms: number): number | null {
    // previousRuns(n, d) takes the runs before d: one ms later, so that one at `ms` itself counts.
    return this.#cron.previousRuns(1, new Date(ms + 1))[0]?.getTime() ?? null;
  }

  /** Under 'once': the occurrence that runs instead of `occurrenceMs`, when a later one is due already at `atMs`. */
  supersededBy(occurrenceMs: number, atMs: number): number | null {
    const next = this.after(occurrenceMs);
    if (next === null || next > atMs) return null;
    const latest = this.latestAt(atMs);
    return latest !== null && latest > occurrenceMs ? latest : null;
  }

  graceMs(occurrenceMs: number): number {
    const next = this.after(occurrenceMs);
    return next === null ? MISSED_GRACE_MS : Math.min(MISSED_GRACE_MS, next - occurrenceMs);
  }

  isMissed(occurrenceMs: number, atMs: number): boolean {
    return atMs - occurrenceMs >= this.graceMs(occurrenceMs);
  }

  /** The occurrence to insert when occurrence `occurrenceMs` starts at `atMs` (see the top); null: the schedule has ended. */
  follower(occurrenceMs: number, atMs: number): number | null {
    if (this.spec.missed !== 'all') return this.after(Math.max(occurrenceMs, atMs));
    const next = this.after(occurrenceMs);
    if (next === null || next > atMs) return next;
    // Behind: at most ALL_CAP of those that fell are run, the most recent ones.
    const recent = this.#cron.previousRuns(ALL_CAP, new Date(atMs + 1)).map((d) => d.getTime());
    const oldest = recent[recent.length - 1];
    return recent.length === ALL_CAP && oldest !== undefined && oldest > next ? oldest : next;
  }
}
