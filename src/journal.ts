/**
 * Group commit for the outcomes of finished attempts. Outcomes pushed during one turn of the
 * event loop are written in one transaction, which is what lets thousands of tasks a second
 * each have a durable finish. (Starts are not journaled: the scheduler writes them before the
 * handler runs, as the fence; see scheduler.ts.)
 *
 * A write that fails for a passing reason (locked past the busy timeout, disk full, read-only
 * for now) is logged and everything is kept for the next try: an outcome is never dropped.
 * Any other failure may be one outcome the backend refuses (a due time it cannot store): the
 * outcomes are then written one by one, and one that is still refused is replaced by a
 * `failed` outcome of its task that says why, so it never holds the others back. Until an
 * outcome is written its task stays `running` under its owner, so a crash in between runs it
 * again.
 *
 * One group commit is in flight at a time; outcomes pushed meanwhile wait for it and go in the
 * next, first in first out (a batch kept after a passing failure goes back to the front), at
 * most MAX_BATCH per transaction. The journal never holds an attempt's `started`: that is
 * committed by admission.ts before the handler runs, so a `succeeded` can only ever follow it.
 */
import { errorInfo } from './attempt-error.js';
import type { Clock } from './clock.js';
import { DelaydError } from './errors.js';
import type { Logger } from './logger.js';
import type { Outcome, RecordResult, Store } from './store/types.js';

const RETRY_MS = 1000;
/** At most this many outcomes per transaction: one commit stays short whatever piled up behind it. */
const MAX_BATCH = 5000;

/** Errors that say "not now" rather than "not this value": retry the whole batch later. */
const TRANSIENT = new Set(['E_DB_LOCKED', 'E_DB_FULL', 'E_DB_READONLY', 'E_BACKEND_UNAVAILABLE', 'E_BACKEND_READONLY', 'E_BACKEND_FULL']);

export function isTransient(error: unknown): boolean {
  return error instanceof DelaydError && TRANSIENT.has(error.code);
}

/** Runs once the outcome is committed; `applied` false: the fence refused it (the attempt is no longer ours). */
export type OnWritten = (applied: boolean) => void;

export interface JournalOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** After each successful write, with what the store answered (the scheduler wakes for new due tasks). */
  afterWrite?: (result: RecordResult) => void;
  /** Every failed write, so the scheduler can count failures that will not pass (a corrupt file). */
  onError?: (error: unknown) => void;
}

export class Journal {
  readonly #o: JournalOptions;
  #pending: Outcome[] = [];
  /** Parallel to #pending: what to do once each outcome is written (log and emit it), or undefined. */
  #onWritten: (OnWritten | undefined)[] = [];
  #timer: unknown = undefined;
  /** The group commit in flight: at most one at a time. */
  #inFlight: Promise<boolean> | undefined = undefined;
  #closed = false;

  constructor(options: JournalOptions) {
    this.#o = options;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Queues an outcome; `onWritten` runs once it is committed (never if the write fails). */
  push(outcome: Outcome, onWritten?: OnWritten): void {
    this.#pending.push(outcome);
    this.#onWritten.push(onWritten);
    // While a commit is in flight, what comes meanwhile waits for it and goes in the next one.
    if (this.#timer === undefined && this.#inFlight === undefined) this.#timer = this.#o.clock.setTimeout(() => this.#flushLater(), 0);
  }

  /**
   * Writes everything pending, after the commit in flight (if any); false (and kept for later)
   * when a write failed for a passing reason.
   */
  flush(): Promise<boolean> {
    return this.#flush(true);
  }

  /** `all`: until nothing is pending; otherwise one transaction, the timer taking the rest. */
  #flush(all: boolean): Promise<boolean> {
    this.#cancelTimer();
    if (this.#inFlight !== undefined) return this.#inFlight.then(() => this.#flush(all), () => this.#flush(all));
    if (this.#pending.length === 0) return Promise.resolve(true);
    const commit = this.#commitAll(all).finally(() => {
      this.#inFlight = undefined;
      if (this.#pending.length > 0 && this.#timer === undefined && !this.#closed) {
        this.#timer = this.#o.clock.setTimeout(() => this.#flushLater(), 0);
      }
    });
    this.#inFlight = commit;
    return commit;
  }

  /** Starts taking outcomes again after close() (a scheduler started again). */
  open(): void {
    this.#closed = false;
  }

  /** Stops the retry timer; what is still pending stays pending (stop() has released its tasks). */
  close(): void {
    this.#closed = true;
    this.#cancelTimer();
  }

  /**
   * Commits in FIFO order, at most MAX_BATCH outcomes per transaction, until nothing is
   * pending (`all`) or once. Once, from the timer: what came in meanwhile goes in the timer's
   * next turn, not in this answer's, whose other callbacks (the starts of the next attempts,
   * admission.ts) then reach the backend first. A shared backend runs one call at a time: a
   * group commit sent first holds up the starts behind it, and the handlers behind those.
   */
  async #commitAll(all: boolean): Promise<boolean> {
    for (let first = true; this.#pending.length > 0 && (all || first); first = false) {
      const whole = this.#pending.length <= MAX_BATCH;
      const batch = whole ? this.#pending : this.#pending.slice(0, MAX_BATCH);
      const callbacks = whole ? this.#onWritten : this.#onWritten.slice(0, MAX_BATCH);
      this.#pending = whole ? [] : this.#pending.slice(MAX_BATCH);
      this.#onWritten = whole ? [] : this.#onWritten.slice(MAX_BATCH);
      let result: RecordResult;
      try {
        result = await this.#o.store.record(batch);
      } catch (error) {
        this.#o.onError?.(error);
        if (isTransient(error)) return this.#keep(batch, callbacks, error);
        if (!(await this.#oneByOne(batch, callbacks, error))) return false;
        continue;
      }
      // Outside the try: whatever they do, these outcomes are written and must not be queued again.
      this.#report(callbacks, result);
    }
    return true;
  }

  async #oneByOne(batch: Outcome[], callbacks: (OnWritten | undefined)[], groupError: unknown): Promise<boolean> {
    this.#o.logger.warn({ err: groupError, count: batch.length }, 'could not record task outcomes together; recording them one by one');
    for (let i = 0; i < batch.length; i++) {
      const outcome = batch[i] as Outcome;
      let result: RecordResult;
      try {
        result = await this.#o.store.record([outcome]);
      } catch (error) {
        if (isTransient(error)) return this.#keep(batch.slice(i), callbacks.slice(i), error);
        await this.#replaceWithFailure(outcome, error);
        continue;
      }
      this.#report([callbacks[i]], result);
    }
    return true;
  }

  /** The task fails with why its outcome could not be written, rather than staying running forever. */
  async #replaceWithFailure(outcome: Outcome, error: unknown): Promise<void> {
    const info = errorInfo(error);
    const failed: Outcome = {
      kind: 'failed',
      id: outcome.id,
      owner: outcome.owner,
      attempt: outcome.attempt,
      atMs: outcome.atMs,
      error: {
        code: info.code,
        message: `could not record the outcome of attempt ${outcome.attempt}: ${info.message}`,
        stack: `could not record the outcome (${outcome.kind}) of attempt ${outcome.attempt}: ${info.stack}`,
      },
    };
    const fields = { taskId: outcome.id, attempt: outcome.attempt, kind: outcome.kind, err: error };
    let result: RecordResult;
    try {
      result = await this.#o.store.record([failed]);
    } catch (again) {
      // Nothing more to try: keeping it would block every later outcome of this scheduler.
      this.#o.logger.error({ ...fields, again }, 'could not record the outcome of an attempt, nor its failure; the task stays running until it is put back');
      return;
    }
    this.#o.logger.error(fields, 'could not record the outcome of an attempt; recorded the task as failed instead');
    this.#o.afterWrite?.(result);
  }

  #keep(batch: Outcome[], callbacks: (OnWritten | undefined)[], error: unknown): false {
    // Back at the front: first in, first out, whatever came meanwhile.
    this.#pending = batch.concat(this.#pending);
    this.#onWritten = callbacks.concat(this.#onWritten);
    this.#o.logger.error({ err: error, pending: this.#pending.length }, 'could not record task outcomes; will retry');
    this.#cancelTimer();
    if (!this.#closed) this.#timer = this.#o.clock.setTimeout(() => this.#flushLater(), RETRY_MS);
    return false;
  }

  #report(callbacks: readonly (OnWritten | undefined)[], result: RecordResult): void {
    for (let i = 0; i < callbacks.length; i++) callbacks[i]?.(result.applied[i] ?? false);
    this.#o.afterWrite?.(result);
  }

  #flushLater(): void {
    this.#timer = undefined;
    void this.#flush(false);
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
