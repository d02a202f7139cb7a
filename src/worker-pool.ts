/**
 * A bounded pool for claimed tasks: at most `concurrency` run at once and at most `queueSize`
 * wait in memory, each until its own due millisecond (never before). The scheduler claims only
 * as many tasks as there is `room`, so a burst stays in SQLite rather than in RAM; when room
 * frees up past the low-water mark, `onRoom` asks for more.
 *
 * What one dispatch round would start goes to `admit` first, as one batch, so the scheduler
 * can make their starts durable in one write and start only those it still holds. At most
 * `admitsInFlight` admits are in flight at a time (one by default); their items hold their
 * workers (and their places in the queue) until they answer, and a dispatch asked for
 * meanwhile runs after one answers. With more than one, a round takes at most its share of
 * the workers (concurrency / admitsInFlight): over a network, where a write answers after a
 * round trip, attempts that all end together would otherwise all wait for one write, then run
 * together and wait again, in lock-step; in shares, one share runs while the next share's
 * write is on its way. An item marked `alone` starts only when nothing runs nor is being
 * admitted, and nothing starts while it runs.
 *
 * `reserve(n)` sets room aside for a claim in flight, so that what it brings never over-fills
 * the queue; the claimer gives it back (`unreserve`) before pushing what it got.
 */
import type { Clock } from './clock.js';
import { timerMs } from './ticker.js';

export interface PoolItem {
  readonly dueMs: number;
  /** Runs the attempt; must not reject (failures are recorded by the caller). */
  start(): Promise<void>;
  /**
   * Runs with nothing else running (a task whose earlier attempts were cut off may be what
   * brings the process down: alone, it takes no innocent attempt with it).
   */
  readonly alone?: boolean;
}

/** Per item: start it (true) or drop it (false); 'later': keep them all waiting and ask again soon. */
export type Verdict = readonly boolean[] | 'later';

export interface WorkerPoolOptions<T> {
  clock: Clock;
  concurrency: number;
  queueSize: number;
  /** Called when waiting items fall to half the queue or below. */
  onRoom?: () => void;
  /** Decides which of the items a dispatch round would start do start. @default all of them */
  admit?: (items: readonly T[]) => Verdict | Promise<Verdict>;
  /** After 'later', how long before asking again. @default 250 */
  retryMs?: number;
  /** How many admits may be in flight at once (see the top of this file). @default 1 */
  admitsInFlight?: number;
}

export class WorkerPool<T extends PoolItem = PoolItem> {
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #queueSize: number;
  readonly #onRoom: () => void;
  readonly #admit: ((items: readonly T[]) => Verdict | Promise<Verdict>) | undefined;
  readonly #retryMs: number;
  readonly #admitsInFlight: number;
  /** The most items one dispatch round takes: all free workers, or a share of them. */
  readonly #roundSize: number;
  /** Set while an admit said 'later': nothing starts until it fires. */
  #retryTimer: unknown = undefined;
  /** Sorted by dueMs, earliest first. */
  #waiting: T[] = [];
  #running = 0;
  #aloneRunning = 0;
  /** 1 while an admit in flight holds an `alone` item (it is alone in its batch). */
  #aloneAdmitting = 0;
  #dispatchQueued = false;
  /** Items of the admits in flight: taken from #waiting, not yet running. */
  #admitting = 0;
  /** Admits in flight (at most #admitsInFlight). */
  #admits = 0;
  /** Bumped by takeWaiting: an admit that answers after it starts nothing and re-queues nothing. */
  #epoch = 0;
  #reserved = 0;
  #timer: unknown = undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkerPoolOptions<T>) {
    this.#clock = options.clock;
    this.#concurrency = options.concurrency;
    this.#queueSize = options.queueSize;
    this.#onRoom = options.onRoom ?? (() => {});
    this.#admit = options.admit;
    this.#retryMs = options.retryMs ?? 250;
    this.#admitsInFlight = Math.max(1, options.admitsInFlight ?? 1);
    this.#roundSize = Math.max(1, Math.ceil(this.#concurrency / this.#admitsInFlight));
  }

  get room(): number {
    return Math.max(0, this.#queueSize - this.#waiting.length - this.#admitting - this.#reserved);
  }

  /** Sets room aside for a claim in flight; see the top of this file. */
  reserve(count: number): void {
    this.#reserved += count;
  }

  unreserve(count: number): void {
    this.#reserved = Math.max(0, this.#reserved - count);
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  push(items: readonly T[]): void {
    for (const item of items) this.#insertSorted(item);
    this.#dispatch();
  }

  /** Removes and returns every item not yet started (used when stopping). */
  takeWaiting(): T[] {
    const taken = this.#waiting;
    this.#waiting = [];
    this.#epoch++;
    this.#disarm();
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    return taken;
  }

  /** Resolves when nothing is running nor being admitted (waiting items are not counted). */
  whenIdle(): Promise<void> {
    if (this.#running === 0 && this.#admitting === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Whether the pool became idle within `ms` (false: time ran out first). */
  async idleWithin(ms: number): Promise<boolean> {
    let timer: unknown;
    const timeout = new Promise<false>((resolve) => {
      timer = this.#clock.setTimeout(() => resolve(false), timerMs(ms));
    });
    const idle = await Promise.race([this.whenIdle().then(() => true as const), timeout]);
    this.#clock.clearTimeout(timer);
    return idle;
  }

  #insertSorted(item: T): void {
    const list = this.#waiting;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as T).dueMs <= item.dueMs) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, item);
  }

  #dispatch(started = 0): void {
    if (this.#retryTimer !== undefined) return;
    const now = this.#clock.now();
    // With every admit allowed in flight, #answered dispatches again.
    while (this.#admits < this.#admitsInFlight) {
      const batch = this.#due(now);
      if (batch.length === 0) break;
      this.#waiting.splice(0, batch.length);
      const verdict = this.#admit ? this.#admit(batch) : undefined;
      if (verdict instanceof Promise) {
        this.#awaitVerdict(batch, verdict);
        continue;
      }
      if (verdict === 'later') return this.#later(batch);
      started += this.#start(batch, verdict);
    }
    this.#arm();
    if (started > 0 && this.#waiting.length <= this.#queueSize / 2) this.#onRoom();
  }

  /** Starts the items the verdict lets through; how many. Dropped items free their places for the next round. */
  #start(batch: readonly T[], verdict: readonly boolean[] | undefined): number {
    let started = 0;
    for (let i = 0; i < batch.length; i++) {
      if (verdict !== undefined && verdict[i] !== true) continue;
      started++;
      this.#run(batch[i] as T);
    }
    return started;
  }

  #awaitVerdict(batch: T[], pending: Promise<Verdict>): void {
    const epoch = this.#epoch;
    const alone = batch[0]?.alone === true ? 1 : 0;
    this.#admitting += batch.length;
    this.#admits++;
    this.#aloneAdmitting += alone;
    this.#disarm();
    pending.then(
      (verdict) => this.#answered(batch, verdict, epoch, alone),
      () => this.#answered(batch, 'later', epoch, alone),
    );
  }

  #answered(batch: T[], verdict: Verdict, epoch: number, alone: number): void {
    this.#admitting -= batch.length;
    this.#admits--;
    this.#aloneAdmitting -= alone;
    // Taken away meanwhile (stopping, lease lost): their rows go back; none of them starts.
    if (epoch !== this.#epoch) this.#dispatch();
    else if (verdict === 'later') this.#later(batch);
    else this.#dispatch(this.#start(batch, verdict));
    if (this.#running === 0 && this.#admitting === 0) this.#idleWaiters.splice(0).forEach((resolve) => resolve());
  }

  /** The due items at the head that free workers can take now. */
  #due(now: number): T[] {
    const batch: T[] = [];
    if (this.#aloneRunning > 0 || this.#aloneAdmitting > 0) return batch;
    const free = Math.min(this.#concurrency - this.#running - this.#admitting, this.#roundSize);
    for (const item of this.#waiting) {
      if (batch.length >= free || item.dueMs > now) break;
      if (item.alone === true) {
        if (batch.length === 0 && this.#running === 0 && this.#admitting === 0) batch.push(item);
        break;
      }
      batch.push(item);
    }
    return batch;
  }

  #later(batch: T[]): void {
    // Back in due order: another admit's items, put back first, may be due later than these.
    this.#waiting = mergeByDue(batch, this.#waiting);
    this.#disarm();
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#dispatch();
    }, this.#retryMs);
  }

  #run(item: T): void {
    this.#running++;
    if (item.alone === true) this.#aloneRunning++;
    void item.start().finally(() => {
      this.#running--;
      if (item.alone === true) this.#aloneRunning--;
      if (this.#running === 0 && this.#admitting === 0) this.#idleWaiters.splice(0).forEach((resolve) => resolve());
      this.#dispatchSoon();
    });
  }

  /**
   * After a microtask rather than at once: attempts that end together free their workers in
   * one round, so their successors' starts are one write rather than one each.
   */
  #dispatchSoon(): void {
    if (this.#dispatchQueued) return;
    this.#dispatchQueued = true;
    queueMicrotask(() => {
      this.#dispatchQueued = false;
      this.#dispatch();
    });
  }

  /** One timer, aimed at the earliest waiting item, when a worker is free to take it. */
  #arm(): void {
    const head = this.#waiting[0];
    const busy = this.#running + this.#admitting >= this.#concurrency || this.#admits >= this.#admitsInFlight;
    if (!head || busy || this.#retryTimer !== undefined) return this.#disarm();
    // Blocked until something running ends or an admit answers, which dispatches again: no timer to spin on.
    const alone = this.#aloneRunning + this.#aloneAdmitting > 0;
    if (alone || (head.alone === true && this.#running + this.#admitting > 0)) return this.#disarm();
    if (this.#timer !== undefined && this.#timerDueMs === head.dueMs) return;
    this.#disarm();
    this.#timerDueMs = head.dueMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDueMs = Number.POSITIVE_INFINITY;
      this.#dispatch();
    }, timerMs(head.dueMs - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
  }
}

/** Two lists sorted by dueMs as one; on a tie, `first`'s item comes first. */
function mergeByDue<T extends PoolItem>(first: readonly T[], second: readonly T[]): T[] {
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < first.length && j < second.length) {
    merged.push((first[i] as T).dueMs <= (second[j] as T).dueMs ? (first[i++] as T) : (second[j++] as T));
  }
  return merged.concat(first.slice(i), second.slice(j));
}
