/**
 * What the dashboard shows, in one answer: counts, the cursor, the ring's load (scheduled
 * tasks per second for this hour and the next), live daemons, running tasks, recent failures,
 * batches, and this daemon's lateness and throughput. Every store read behind it is cached
 * (cache.ts), so any number of open dashboards cost the store one round of reads a second;
 * the lists (running, failed) every two seconds.
 */
import { iso } from '../cli/lib/present.js';
import { liveWorkers, processLiveContext } from '../cli/lib/serving.js';
import type { Clock } from '../clock.js';
import type { Scheduler } from '../scheduler.js';
import { SLOTS } from '../slot.js';
import type { BatchRow, SlotCount, Stats, TaskRow, WorkerRow } from '../store/types.js';
import { Cached } from './cache.js';
import type { ReadStore } from './read-thread.js';
import type { Series } from './series.js';

const LIST_TTL_MS = 2000;

export class OverviewSource {
  readonly stats: Cached<Stats>;
  readonly #app: Scheduler;
  readonly #clock: Clock;
  readonly #series: Series;
  readonly #load: Cached<{ from: number; slots: SlotCount[] }>;
  readonly #workers: Cached<WorkerRow[]>;
  readonly #running: Cached<TaskRow[]>;
  readonly #failed: Cached<TaskRow[]>;
  readonly #batches: Cached<BatchRow[]>;

  /** The second of this daemon's last claim: the cursor moves on the ring each second, whatever the stats' cache. */
  #claimedSecond: number | null = null;

  constructor(app: Scheduler, store: ReadStore, clock: Clock, series: Series) {
    this.#app = app;
    this.#clock = clock;
    this.#series = series;
    this.stats = new Cached(() => store.stats(), clock, 1000);
    this.#load = new Cached(async () => {
      const from = Math.floor(clock.now() / 1000 / SLOTS) * SLOTS;
      return { from, slots: await store.slotLoad(from, from + 2 * SLOTS - 1) };
    }, clock, 1000);
    this.#workers = new Cached(() => store.workers(), clock, LIST_TTL_MS);
    this.#running = new Cached(() => store.list({ state: 'running', limit: 50 }), clock, LIST_TTL_MS);
    this.#failed = new Cached(() => store.list({ state: 'failed', limit: 20 }), clock, LIST_TTL_MS);
    this.#batches = new Cached(() => store.recentBatches(10), clock, LIST_TTL_MS);
  }

  claimed(second: number): void {
    if (this.#claimedSecond === null || second > this.#claimedSecond) this.#claimedSecond = second;
  }

  async read() {
    const [stats, load, workers, running, failed, batches] = await Promise.all([
      this.stats.get(), this.#load.get(), this.#workers.get(), this.#running.get(), this.#failed.get(), this.#batches.get(),
    ]);
    const nowMs = this.#clock.now();
    const live = liveWorkers(workers, processLiveContext(nowMs));
    const runningBy = new Map<string, number>();
    for (const t of running) runningBy.set(t.owner ?? '', (runningBy.get(t.owner ?? '') ?? 0) + 1);
    const hostOf = new Map(live.map((w) => [w.owner, `${w.host}:${w.pid}`]));
    let total = 0;
    for (const s of load.slots) total += s.count;
    // The persisted cursor only moves forward: the later of the store's and our last claim's.
    const cursor = stats.cursor === null ? this.#claimedSecond : Math.max(stats.cursor, this.#claimedSecond ?? stats.cursor);
    return {
      now: iso(nowMs),
      nowMs,
      owner: this.#app.owner,
      counts: stats.counts,
      cursor,
      cursorTime: cursor === null ? null : iso(cursor * 1000),
      nextDue: stats.nextDueMs === null ? null : iso(stats.nextDueMs),
      // Pairs [second - from, count]: the inner ring is 0..3599, the outer 3600..7199.
      load: { from: load.from, total, slots: load.slots.map((s) => [s.second - load.from, s.count]) },
      daemons: live.map((w) => ({
        owner: w.owner, host: w.host, pid: w.pid, tasks: w.names, started: iso(w.startedMs), seen: iso(w.seenMs),
        running: runningBy.get(w.owner) ?? 0,
      })),
      running: running.map((t) => ({ id: t.id, name: t.name, daemon: hostOf.get(t.owner ?? '') ?? t.owner, started: t.startedMs === null ? null : iso(t.startedMs) })),
      failures: failed.map((t) => ({
        id: t.id, name: t.name, args: parseOr(t.args), attempts: t.attempts, finished: t.finishedMs === null ? null : iso(t.finishedMs),
        lastErrorCode: t.lastErrorCode, lastError: t.lastError,
      })),
      batches: batches.map((b) => ({ id: b.id, name: b.name, total: b.total, succeeded: b.ok, failed: b.done - b.ok, pending: b.total - b.done })),
      series: this.#series.points(300),
    };
  }
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
