/**
 * Group commit for the state changes of running attempts. Outcomes pushed during one turn of
 * the event loop are written in one transaction, which is what lets thousands of tasks a
 * second each have a durable start and finish. A failed write (locked past the busy timeout,
 * disk full) is logged and kept for the next try: an outcome is never dropped. Until it is
 * written the task stays `running` under its owner, so a crash in between runs it again.
 */
import type { Clock } from './clock.js';
import type { Logger } from './logger.js';
import type { Outcome, Store } from './store/types.js';

const RETRY_MS = 1000;

export class Journal {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #pending: Outcome[] = [];
  /** What to do once the pending outcomes are written (log and emit them), in order. */
  #onWritten: (() => void)[] = [];
  #timer: unknown = undefined;

  readonly #afterWrite: () => void;

  /** `afterWrite` runs after each successful write (the scheduler looks for new reduce tasks). */
  constructor(options: { store: Store; clock: Clock; logger: Logger; afterWrite?: () => void }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#afterWrite = options.afterWrite ?? (() => {});
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Queues an outcome; `onWritten` runs once it is committed (never if the write fails). */
  push(outcome: Outcome, onWritten?: () => void): void {
    this.#pending.push(outcome);
    if (onWritten) this.#onWritten.push(onWritten);
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(() => this.#flushLater(), 0);
  }

  /** Writes everything pending now; false (and kept for later) when the write failed. */
  flush(): boolean {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return true;
    const batch = this.#pending;
    const written = this.#onWritten;
    this.#pending = [];
    this.#onWritten = [];
    try {
      this.#store.record(batch);
    } catch (error) {
      this.#pending = batch.concat(this.#pending);
      this.#onWritten = written.concat(this.#onWritten);
      this.#logger.error({ err: error, pending: this.#pending.length }, 'could not record task outcomes; will retry');
      this.#timer = this.#clock.setTimeout(() => this.#flushLater(), RETRY_MS);
      return false;
    }
    // Outside the try: whatever it does, these outcomes are written and must not be queued again.
    for (const report of written) report();
    this.#afterWrite();
    return true;
  }

  #flushLater(): void {
    this.#timer = undefined;
    this.flush();
  }
}
