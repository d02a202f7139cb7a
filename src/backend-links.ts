/**
 * What a shared backend adds to a scheduler's life, and SQLite does not need:
 * - its clock judges "never early" (BackendClock), sampled at start and before every heartbeat,
 *   and nothing is claimed before the first sample;
 * - it tells of tasks other processes wrote due now (store.onNudge), claimed at once, as our
 *   own writes are, rather than at the next tick.
 * With a local store (or a clock handed in, as in tests) both are off and cost nothing.
 */
import { BackendClock, judgesTime } from './backend-clock.js';
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Store } from './store/types.js';

export class BackendLinks {
  /** The clock the scheduler must read: the backend's, when it judges time; else the one given. */
  readonly clock: Clock;
  readonly #backendClock: BackendClock | undefined;
  readonly #store: Store;
  readonly #logger: Logger;
  #nudges: Promise<(() => Promise<void>) | undefined> | undefined = undefined;

  constructor(store: Store, clock: Clock, clockGiven: boolean, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
    this.#backendClock = !clockGiven && judgesTime(store) ? new BackendClock(clock, store) : undefined;
    this.clock = this.#backendClock ?? clock;
  }

  /** Whether the scheduler must wait for the first sample of the backend's clock before claiming. */
  get judged(): boolean {
    return this.#backendClock !== undefined;
  }

  /** Starts listening for nudges (each one calls `poke(dueMs)`); never rejects. */
  listen(poke: (dueMs: number) => void): void {
    this.#nudges = (async () => {
      try {
        return await this.#store.onNudge?.(poke);
      } catch (error) {
        this.#logger.warn({ err: error }, 'could not listen for tasks written due now; they wait for the next tick');
        return undefined;
      }
    })();
  }

  /** Stops listening; never rejects. */
  async unlisten(): Promise<void> {
    const nudges = this.#nudges;
    this.#nudges = undefined;
    try {
      await (await nudges)?.();
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not stop listening for nudges');
    }
  }

  /** Samples the backend's clock (when it judges time); a failure is logged and the last offset kept. */
  async syncClock(): Promise<void> {
    try {
      await this.#backendClock?.sync();
    } catch (error) {
      this.#logger.error({ err: error }, "could not read the backend's clock; keeping the last offset");
    }
  }
}
