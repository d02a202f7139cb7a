/**
 * Leases by heartbeat (the reliable-queue design of seed 003: in-flight work is recorded with
 * its owner, and work whose owner went silent is put back). A running task's lease is its
 * owner's heartbeat: it starts with the attempt and is renewed while the owner lives, however
 * long the task waited or runs, so a slow handler is never taken over from a live owner.
 *
 * An owner is judged dead when its beat counter has not moved for `leaseMs` as measured by the
 * observer's own timers (not by comparing wall clocks, which may jump or disagree between
 * machines), or at once when it ran on this host and its pid is gone. Its running tasks go back
 * to `scheduled` with their due time unchanged, so the next tick runs them again.
 */
import { hostname } from 'node:os';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Store, WorkerRow } from './store/types.js';

export interface LivenessOptions {
  store: Store;
  clock: Clock;
  owner: string;
  names: () => string[];
  heartbeatMs: number;
  leaseMs: number;
  logger: Logger;
  startedMs: number;
}

export class Liveness {
  readonly #o: LivenessOptions;
  readonly #host = hostname();
  readonly #silence = new Map<string, { beat: number; quietMs: number }>();
  #timer: unknown = undefined;

  constructor(options: LivenessOptions) {
    this.#o = options;
  }

  start(): void {
    this.beat();
    this.#schedule();
  }

  stop(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Records our own heartbeat, then puts back the tasks of owners that went silent. */
  beat(): void {
    const { store, owner, logger } = this.#o;
    try {
      store.heartbeat(
        { owner, host: this.#host, pid: process.pid, names: this.#o.names(), startedMs: this.#o.startedMs },
        this.#o.clock.now(),
      );
      for (const worker of store.workers()) if (worker.owner !== owner) this.#observe(worker);
      for (const orphan of store.orphanOwners()) this.#putBack(orphan, 'no heartbeat record');
    } catch (error) {
      logger.error({ err: error }, 'heartbeat failed; will try again');
    }
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      this.beat();
      this.#schedule();
    }, this.#o.heartbeatMs);
  }

  #observe(worker: WorkerRow): void {
    if (worker.host === this.#host && worker.pid !== process.pid && !pidAlive(worker.pid)) {
      return this.#bury(worker.owner, `process ${worker.pid} is gone`);
    }
    const seen = this.#silence.get(worker.owner);
    if (!seen || seen.beat !== worker.beat) {
      this.#silence.set(worker.owner, { beat: worker.beat, quietMs: 0 });
      return;
    }
    seen.quietMs += this.#o.heartbeatMs;
    if (seen.quietMs >= this.#o.leaseMs) this.#bury(worker.owner, `no heartbeat for ${seen.quietMs} ms`);
  }

  #bury(owner: string, why: string): void {
    this.#putBack(owner, why);
    this.#o.store.forgetWorker(owner);
    this.#silence.delete(owner);
  }

  #putBack(owner: string, why: string): void {
    const count = this.#o.store.release(owner);
    this.#o.logger.warn({ owner, count, why }, 'put back the running tasks of a dead owner');
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
