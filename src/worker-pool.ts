/**
 * A bounded pool for claimed tasks: at most `concurrency` run at once and at most `queueSize`
 * wait in memory, each until its own due millisecond (never before). The scheduler claims only
 * as many tasks as there is `room`, so a burst stays in SQLite rather than in RAM; when room
 * frees up past the low-water mark, `onRoom` asks for more.
 */
import type { Clock } from './clock.js';

export interface PoolItem {
  readonly dueMs: number;
  /** Runs the attempt; must not reject (failures are recorded by the caller). */
  start(): Promise<void>;
}

export interface WorkerPoolOptions {
  clock: Clock;
  concurrency: number;
  queueSize: number;
  /** Called when waiting items fall to half the queue or below. */
  onRoom?: () => void;
}

export class WorkerPool<T extends PoolItem = PoolItem> {
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #queueSize: number;
  readonly #onRoom: () => void;
  /** Sorted by dueMs, earliest first. */
  #waiting: T[] = [];
  #running = 0;
  #timer: unknown = undefined;
  #timerDueMs = Number.POSITIVE_INFINITY;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkerPoolOptions) {
    this.#clock = options.clock;
    this.#concurrency = options.concurrency;
    this.#queueSize = options.queueSize;
    this.#onRoom = options.onRoom ?? (() => {});
  }

  get room(): number {
    return Math.max(0, this.#queueSize - this.#waiting.length);
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
    this.#disarm();
    return taken;
  }

  /** Resolves when nothing is running (waiting items are not counted). */
  whenIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
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

  #dispatch(): void {
    const now = this.#clock.now();
    let started = 0;
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const head = this.#waiting[0] as T;
      if (head.dueMs > now) break;
      this.#waiting.shift();
      started++;
      this.#run(head);
    }
    this.#arm();
    if (started > 0 && this.#waiting.length <= this.#queueSize / 2) this.#onRoom();
  }

  #run(item: T): void {
    this.#running++;
    void item.start().finally(() => {
      this.#running--;
      if (this.#running === 0) this.#idleWaiters.splice(0).forEach((resolve) => resolve());
      this.#dispatch();
    });
  }

  /** One timer, aimed at the earliest waiting item, when a worker is free to take it. */
  #arm(): void {
    const head = this.#waiting[0];
    if (!head || this.#running >= this.#concurrency) return this.#disarm();
    if (this.#timer !== undefined && this.#timerDueMs === head.dueMs) return;
    this.#disarm();
    this.#timerDueMs = head.dueMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDueMs = Number.POSITIVE_INFINITY;
      this.#dispatch();
    }, Math.max(0, head.dueMs - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = Number.POSITIVE_INFINITY;
  }
}
