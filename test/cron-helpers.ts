/**
 * Shared by the cron scenario tests (issue 14): schedulers on one SQLite file, all on one
 * fake clock whose wall time the test can jump (timers, like Node's, are not moved by a jump),
 * each with the same periodic task, recording every run of its handler.
 */
import { createClock } from '@sinonjs/fake-timers';
import type { Clock } from '../src/clock.js';
import { createLogger } from '../src/logger.js';
import type { TaskContext } from '../src/runner.js';
import { Scheduler } from '../src/scheduler.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { CronRow, TaskRow } from '../src/store/types.js';
import type { TaskOptions } from '../src/validate.js';
import { tempDb } from './tmpdb.js';

const silent = createLogger({ level: (process.env.DBG as 'info') ?? 'silent' });

export interface Run {
  owner: string;
  id: number;
  /** The occurrence's time (the task's eta). */
  dueMs: number;
  /** The fake wall clock when the handler began. */
  atMs: number;
}

export function cronWorld(startMs: number) {
  const fake = createClock(startMs);
  let offset = 0; // monotonic = wall + offset: a wall-clock jump does not move it
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now + offset,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as never),
  };
  const db = tempDb();
  const runs: Run[] = [];
  const schedulers = new Set<Scheduler>();

  /** A scheduler on the shared file serving `name` with `options` (a cron); not started. */
  function daemon(owner: string, name: string, options: TaskOptions): Scheduler {
    const scheduler = new Scheduler({ db: db.path, clock, logger: silent, owner, heartbeatMs: 1000, leaseMs: 10_000 });
    scheduler.task(name, options)(function (this: TaskContext) {
      runs.push({ owner, id: this.id, dueMs: this.eta.getTime(), atMs: fake.now });
    });
    schedulers.add(scheduler);
    return scheduler;
  }

  async function stop(scheduler: Scheduler): Promise<void> {
    const closing = scheduler.close();
    await fake.runToLastAsync();
    await closing;
    schedulers.delete(scheduler);
  }

  /** Reads through a connection of the test's own. */
  async function read<T>(use: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = new SqliteStore({ path: db.path });
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }

  return {
    fake,
    clock,
    runs,
    daemon,
    stop,
    /** Moves time forward, running what falls due. */
    advance: (ms: number) => fake.tickAsync(ms),
    /** Moves time forward to `ms` (unix ms). */
    advanceTo: (ms: number) => fake.tickAsync(Math.max(0, ms - fake.now)),
    /** Awaits `promise`, moving time 1 ms at a time while it is pending (a stop that waits on timers). */
    async settle<T>(promise: Promise<T>): Promise<T> {
      let done = false;
      const result = promise.finally(() => (done = true));
      while (!done) await fake.tickAsync(1);
      return result;
    },
    /** Sets the wall clock `ms` ahead (or back) at once, without running timers. */
    jump: (ms: number) => {
      fake.setSystemTime(fake.now + ms);
      offset -= ms;
    },
    cron: (name: string): Promise<CronRow | undefined> => read(async (s) => (await s.crons()).find((c) => c.name === name)),
    tasks: (name: string): Promise<TaskRow[]> => read(async (s) => (await s.list({ name, limit: 100_000 })).sort((a, b) => a.dueMs - b.dueMs)),
    async close(): Promise<void> {
      for (const scheduler of [...schedulers]) await stop(scheduler);
      db.remove();
    },
  };
}

/** The unfinished occurrences with no attempt started (the chain's head: exactly one). */
export function heads(rows: readonly TaskRow[]): TaskRow[] {
  return rows.filter((r) => r.key?.startsWith('cron:') && (r.state === 'scheduled' || r.state === 'running') && r.attempts === 0);
}

export const at = (iso: string): number => Date.parse(iso);
export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** The local wall time of `ms` in `tz`, as "YYYY-MM-DD HH:mm". */
export function localTime(ms: number, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}
