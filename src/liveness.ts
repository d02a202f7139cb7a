/**
 * Leases by heartbeat (the reliable-queue design of seed 003: in-flight work is recorded with
 * its owner, and work whose owner went silent is put back). A running task's lease is its
 * owner's heartbeat: it starts with the attempt and is renewed while the owner lives, however
 * long the task waited or runs, so a slow handler is never taken over from a live owner.
 *
 * Others: an owner is judged dead when its beat counter has not moved for `leaseMs` of elapsed
 * time on this process's monotonic clock (wall clocks jump and disagree between machines), or
 * at once when it ran on this host and its pid is gone. Then `store.bury(owner, beat)` puts its
 * running tasks back, only if the beat is still the one observed (it re-checks in the same
 * transaction, so an owner that beat meanwhile, or that only looked silent because this process
 * was frozen, is left alone).
 *
 * Ourselves: `ackAgeMs()` is the elapsed time since our last acknowledged heartbeat was sent. The
 * scheduler claims and starts nothing unless it is well below `leaseMs` (the Lease: freshNow(),
 * fresh()): a scheduler whose last acknowledged heartbeat is older than `leaseMs` minus a margin
 * may already be judged dead by others. A
 * heartbeat answered "your row is gone" means another scheduler buried us: `onLost` drops what
 * we hold, and the next beat joins afresh.
 */
import { hostname } from 'node:os';
import type { Clock } from './clock.js';
import type { PutBackReason, SchedulerEvents } from './events.js';
import type { Logger } from './logger.js';
import type { Store, TaskPolicy, WorkerRow } from './store/types.js';
import { timerMs } from './ticker.js';

export interface LivenessOptions {
  store: Store;
  clock: Clock;
  owner: string;
  names: () => string[];
  policies: () => Record<string, TaskPolicy>;
  heartbeatMs: number;
  leaseMs: number;
  logger: Logger;
  startedMs: number;
  /** Another scheduler buried us (our worker row was gone): drop what we hold. */
  onLost: () => void;
  /** Every failed heartbeat, and null after one that succeeded (the scheduler counts failures). */
  onResult?: (error: unknown) => void;
  /** Run before each heartbeat is sent (a backend clock's sample); never rejects. */
  beforeBeat?: (() => Promise<void>) | undefined;
  /** A dead owner's running tasks were put back. */
  onPutBack?: (event: SchedulerEvents['putBack']) => void;
}

/** Whether our lease is fresh enough to claim or start work under it. */
export interface Lease {
  /** The last acknowledged heartbeat is younger than leaseMs minus a margin. */
  freshNow(): boolean;
  /** The same, or a heartbeat sent now is acknowledged and then it is. */
  fresh(): Promise<boolean>;
}

export class Liveness implements Lease {
  readonly #o: LivenessOptions;
  readonly #host = hostname();
  /** Per other owner: the beat last seen and when (monotonic) it was first seen. */
  readonly #silence = new Map<string, { beat: number; sinceMs: number }>();
  #timer: unknown = undefined;
  /** Whether our worker row should exist (we have beaten, and were not buried since). */
  #joined = false;
  #ackMs: number | undefined = undefined;
  #inFlight: Promise<boolean> | undefined = undefined;
  #stopped = true;

  constructor(options: LivenessOptions) {
    this.#o = options;
  }

  /** Beats at once, then every heartbeatMs; resolves with the first beat's answer. */
  start(): Promise<boolean> {
    this.#stopped = false;
    this.#joined = false;
    const first = this.beat();
    this.#schedule();
    return first;
  }

  /**
   * Stops the heartbeat timer at once (so nothing keeps the process alive, whatever fails
   * around it), then waits for a beat in flight; never rejects.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    this.#joined = false;
    this.#ackMs = undefined;
  }

  freshNow(): boolean {
    const { leaseMs, heartbeatMs } = this.#o;
    return this.ackAgeMs() < leaseMs - Math.max(heartbeatMs, leaseMs / 5);
  }

  async fresh(): Promise<boolean> {
    if (this.freshNow()) return true;
    return (await this.beat()) && this.freshNow();
  }

  /** Elapsed ms since our last acknowledged heartbeat; Infinity before the first. */
  ackAgeMs(): number {
    return this.#ackMs === undefined ? Number.POSITIVE_INFINITY : this.#monotonic() - this.#ackMs;
  }

  /**
   * Renews our own lease (true when acknowledged), then puts back the tasks of owners that went
   * silent. False when the write failed or we had been buried (then `onLost` has run). One beat
   * is in flight at a time: a caller that asks meanwhile gets the answer of that one.
   */
  beat(): Promise<boolean> {
    this.#inFlight ??= this.#beat().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #beat(): Promise<boolean> {
    const { store, owner, logger } = this.#o;
    await this.#o.beforeBeat?.();
    try {
      const worker = { owner, host: this.#host, pid: process.pid, names: this.#o.names(), policies: this.#o.policies(), startedMs: this.#o.startedMs };
      const continuing = this.#joined;
      // The lease runs from when the beat was sent, not from when its answer came: the conservative end.
      const sentMs = this.#monotonic();
      if (!(await store.heartbeat(worker, this.#o.clock.now(), continuing))) {
        this.#joined = false;
        this.#ackMs = undefined;
        logger.warn({ owner }, 'lease lost: another scheduler put our tasks back; dropping what we hold and joining again');
        this.#o.onLost();
        // What was claimed under our name since the burial (claims made before we noticed)
        // goes back too, since we just dropped it; then we join again, and what we claim from
        // here on is ours. (The heartbeat that said "buried" wrote a fresh row: release() drops it.)
        await store.release(owner);
        await store.heartbeat(worker, this.#o.clock.now(), false);
      }
      this.#joined = true;
      this.#ackMs = sentMs;
      this.#o.onResult?.(null);
    } catch (error) {
      logger.error({ err: error }, 'heartbeat failed; will try again');
      this.#o.onResult?.(error);
      return false;
    }
    await this.#lookAround();
    return true;
  }

  async #lookAround(): Promise<void> {
    try {
      for (const worker of await this.#o.store.workers()) if (worker.owner !== this.#o.owner) await this.#observe(worker);
      for (const orphan of await this.#o.store.orphanOwners()) await this.#bury(orphan, null, 'orphaned', 'no heartbeat record');
    } catch (error) {
      this.#o.logger.error({ err: error }, 'could not look for dead owners; will try again');
    }
  }

  /** A beat due while one is in flight is skipped: the one in flight renews the same lease. */
  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#inFlight === undefined) void this.beat();
      this.#schedule();
    }, timerMs(this.#o.heartbeatMs));
  }

  async #observe(worker: WorkerRow): Promise<void> {
    if (worker.host === this.#host && worker.pid !== process.pid && !pidAlive(worker.pid)) {
      return this.#bury(worker.owner, worker.beat, 'process_gone', `process ${worker.pid} is gone`);
    }
    const now = this.#monotonic();
    const seen = this.#silence.get(worker.owner);
    if (!seen || seen.beat !== worker.beat) {
      this.#silence.set(worker.owner, { beat: worker.beat, sinceMs: now });
      return;
    }
    const quietMs = now - seen.sinceMs;
    if (quietMs >= this.#o.leaseMs) await this.#bury(worker.owner, worker.beat, 'lease_expired', `no heartbeat for ${Math.round(quietMs)} ms`);
  }

  async #bury(owner: string, beat: number | null, reason: PutBackReason, why: string): Promise<void> {
    const count = await this.#o.store.bury(owner, beat);
    this.#silence.delete(owner);
    if (count === null) return; // it beat meanwhile: alive
    this.#o.logger.warn({ owner, count, why }, 'put back the running tasks of a dead owner');
    this.#o.onPutBack?.({ owner, count, reason, why });
  }

  #monotonic(): number {
    return this.#o.clock.monotonic?.() ?? this.#o.clock.now();
  }
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
