/**
 * The claim loop: ticks and wake-ups become claims, claims become items in the worker pool.
 *
 * One claim is in flight at a time (a store over a network answers later than the next tick
 * may come): a tick or wake-up that comes meanwhile is remembered, as the highest second asked
 * for, and claimed right after. The pool's free room is reserved while the claim is in flight,
 * so nothing else fills it and the claim's tasks always fit. Nothing is claimed under a lease
 * others may already think expired (see Lease in liveness.ts).
 *
 * A task written due at or behind the cursor (countdown 0, a retry due now, a reduce) would
 * otherwise wait for the next tick: pokeIfBehind() claims it at once.
 */
import type { Admission, Item } from './admission.js';
import type { Clock } from './clock.js';
import type { SchedulerEvents } from './events.js';
import type { Lease } from './liveness.js';
import type { Logger } from './logger.js';
import { secondOf } from './slot.js';
import type { Ticker } from './ticker.js';
import type { Wheel } from './wheel.js';
import type { WorkerPool } from './worker-pool.js';

export interface DispatchOptions {
  clock: Clock;
  logger: Logger;
  wheel: Wheel;
  pool: WorkerPool<Item>;
  admission: Admission;
  lease: Lease;
  /** The names this scheduler serves: the only ones it claims. */
  names: () => string[];
  /** Whether the scheduler is running: claims stop, and what comes in flight is not queued, once it is not. */
  running: () => boolean;
  /** Told of every claim's store error, and of null after one that succeeded. */
  onResult: (error: unknown) => void;
  onClaimed: (event: SchedulerEvents['claimed']) => void;
}

export class Dispatch {
  readonly #o: DispatchOptions;
  #ticker: Ticker | undefined = undefined;
  #backlog = false;
  #busy = false;
  #wanted: number | undefined = undefined;
  #done: Promise<void> = Promise.resolve();
  #wakeTimer: unknown = undefined;
  /** A claim's answer never came: it may have taken tasks we do not know of. */
  #strays = false;

  constructor(options: DispatchOptions) {
    this.#o = options;
  }

  /** The ticker whose seconds wake-ups claim up to (set once, after both exist). */
  set ticker(ticker: Ticker) {
    this.#ticker = ticker;
  }

  /** Settles once the claim loop has nothing more to claim. */
  get idle(): Promise<void> {
    return this.#done;
  }

  /** The pool has room again: claim what the last claim had to leave. */
  roomFreed(): void {
    if (this.#backlog) this.#wakeSoon();
  }

  /**
   * Asks for a claim up to `second`; resolves when the loop has nothing more to claim (the
   * claim asked for and any asked for while it was in flight).
   */
  claim(second: number): Promise<void> {
    if (!this.#o.running()) return this.#done;
    this.#wanted = this.#wanted === undefined ? second : Math.max(this.#wanted, second);
    if (!this.#busy) {
      this.#busy = true;
      this.#done = this.#loop();
    }
    return this.#done;
  }

  /** Claims at once when a task was written due at or behind the cursor; given the earliest due time. */
  pokeIfBehind(dueMs: number): void {
    const cursor = this.#o.wheel.cursor;
    if (!this.#o.running() || cursor === null) return;
    if (secondOf(dueMs) <= cursor) this.#wakeSoon();
  }

  cancelWake(): void {
    if (this.#wakeTimer !== undefined) this.#o.clock.clearTimeout(this.#wakeTimer);
    this.#wakeTimer = undefined;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#wanted !== undefined && this.#o.running()) {
        const second = this.#wanted;
        this.#wanted = undefined;
        await this.#claimOnce(second);
      }
    } finally {
      this.#wanted = undefined;
      this.#busy = false;
    }
  }

  async #claimOnce(second: number, adopt = true): Promise<void> {
    const { pool, lease } = this.#o;
    if (pool.room === 0) {
      this.#backlog = true;
      return;
    }
    if (!lease.freshNow() && !(await lease.fresh())) return;
    const room = pool.room;
    if (room === 0 || !this.#o.running()) {
      this.#backlog ||= room === 0;
      return;
    }
    pool.reserve(room);
    if (this.#strays && adopt) {
      try {
        await this.#adoptStrays(room);
      } finally {
        pool.unreserve(room);
      }
      // Once per claim: a look that failed (a shard still down) must not hold the claim back.
      return this.#claimOnce(second, false);
    }
    const sentMs = this.#o.clock.monotonic?.() ?? this.#o.clock.now();
    let advance;
    try {
      advance = await this.#o.wheel.advanceTo(second, room, this.#o.names());
      this.#o.onResult(null);
    } catch (error) {
      this.#o.onResult(error);
      this.#o.logger.error({ err: error, second }, 'claim failed; the next tick tries again');
      // A shared backend's claim spans shards (or its answer was lost): part of it may have
      // taken tasks under our name although the call failed. SQLite's rolls back whole.
      if (String((error as { code?: unknown }).code).startsWith('E_BACKEND_')) this.#strays = true;
      return;
    } finally {
      pool.unreserve(room);
    }
    const durationMs = (this.#o.clock.monotonic?.() ?? this.#o.clock.now()) - sentMs;
    this.#o.onClaimed({ second, count: advance.tasks.length, durationMs });
    this.#backlog = advance.backlog;
    // Stopping meanwhile: what was claimed stays running under our name until release() puts it back.
    if (!this.#o.running()) return;
    if (advance.tasks.length > 0) pool.push(this.#o.admission.accept(advance.tasks));
  }

  /**
   * Takes up the tasks a claim with no answer left running under our name: they run here (the
   * fence admits them: they are ours, with their attempts unchanged) instead of waiting for a
   * put-back that only comes when this owner stops or dies.
   */
  async #adoptStrays(room: number): Promise<void> {
    const { admission } = this.#o;
    let strays;
    try {
      strays = (await this.#o.wheel.strays(room)).filter((task) => !admission.holds(task.id));
    } catch (error) {
      this.#o.logger.error({ err: error }, 'could not look for tasks a lost claim took; trying again at the next tick');
      return;
    }
    const adopted = strays.slice(0, room);
    // More than the room: keep looking at the next claim.
    this.#strays = adopted.length < strays.length;
    if (adopted.length === 0 || !this.#o.running()) return;
    this.#o.logger.warn({ count: adopted.length }, 'took up tasks a claim with no answer had taken');
    this.#o.pool.push(admission.accept(adopted));
  }

  #wakeSoon(): void {
    if (this.#wakeTimer !== undefined || !this.#o.running()) return;
    this.#wakeTimer = this.#o.clock.setTimeout(() => {
      this.#wakeTimer = undefined;
      const now = this.#o.clock.now();
      void this.claim(this.#ticker ? this.#ticker.secondAt(now) : secondOf(now));
    }, 0);
  }
}
