/**
 * Replies that never come. node-redis bounds a command only until it is written (its
 * `timeout` is dropped once the command is on the socket), so on a frozen connection (a peer
 * that went silent without closing: a NAT or load balancer that forgot the flow, a paused
 * Redis) a sent command would wait forever, and with it the delay() that sent it. Deadlines
 * rejects every command still without a reply `ms` after it was sent (a WAIT: plus its own
 * timeout) with ReplyTimeoutError
 * (no reply: a write may have run, errors.ts), and tells its owner, which opens a new
 * connection (link.ts). One timer per link checks them, not one per command: a command only
 * costs an entry in a map.
 */

/** No reply within the deadline: the command may or may not have run. */
export class ReplyTimeoutError extends Error {
  override name = 'ReplyTimeoutError';
}

interface Waiting {
  dueMs: number;
  boundMs: number;
  reject: (error: Error) => void;
}

export class Deadlines {
  readonly #waiting = new Map<number, Waiting>();
  readonly #now: () => number;
  readonly #onExpired: () => void;
  #next = 0;

  /** `onExpired`: told once per check that rejected something. */
  constructor(
    readonly ms: number,
    now: () => number,
    onExpired: () => void,
  ) {
    this.#now = now;
    this.#onExpired = onExpired;
  }

  /**
   * The reply of `send()`, or ReplyTimeoutError once `ms` (plus `extraMs`, for a command that
   * waits by design, as WAIT does) have passed without it.
   */
  bound<T>(send: () => Promise<T>, extraMs = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.#next++;
      const boundMs = this.ms + extraMs;
      this.#waiting.set(id, { dueMs: this.#now() + boundMs, boundMs, reject });
      send().then(
        (value) => this.#waiting.delete(id) && resolve(value),
        (error: unknown) => this.#waiting.delete(id) && reject(error),
      );
    });
  }

  get pending(): number {
    return this.#waiting.size;
  }

  /** Rejects what waited its bound or more (all are looked at: bounds differ; a few dozen wait at most). */
  check(): void {
    const now = this.#now();
    let expired = 0;
    for (const [id, w] of this.#waiting) {
      if (now < w.dueMs) continue;
      this.#waiting.delete(id);
      w.reject(new ReplyTimeoutError(`No reply from Redis within ${w.boundMs} ms (the connection may be frozen)`));
      expired++;
    }
    if (expired > 0) this.#onExpired();
  }
}

/** `promise`, or a rejection once `ms` have passed without it (`what`: named in the error). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ReplyTimeoutError(`No answer to ${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
