/**
 * One clock for every host sharing a backend. A backend whose store says `clock: 'backend'`
 * (Redis: its TIME) is the judge of "never early": this host's clock may run ahead or behind
 * it. The scheduler then reads the time through a BackendClock, this host's clock plus an
 * offset sampled from the store at start and at every heartbeat.
 *
 * The offset is the lowest one the sample allows: the backend read its time at some moment
 * between sending the request (t0) and receiving the answer (t1), so at t1 the backend's clock
 * reads at least `backendMs`; taking `backendMs - t1` keeps our corrected time at or behind the
 * backend's. A task may start late by up to one round trip, never early. Timers are this host's
 * (they measure durations, which skew does not change).
 */
import type { Clock } from './clock.js';

export interface TimeSource {
  now(): Promise<number>;
}

export class BackendClock implements Clock {
  readonly #base: Clock;
  readonly #source: TimeSource;
  #offsetMs = 0;

  constructor(base: Clock, source: TimeSource) {
    this.#base = base;
    this.#source = source;
  }

  /** How far the backend's clock is ahead of this host's (negative: behind), as last sampled. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  now = (): number => this.#base.now() + this.#offsetMs;
  monotonic = (): number => this.#base.monotonic?.() ?? this.#base.now();
  setTimeout = (fn: () => void, ms: number): unknown => this.#base.setTimeout(fn, ms);
  clearTimeout = (handle: unknown): void => this.#base.clearTimeout(handle);

  /** Samples the backend's time; a failed sample keeps the last offset (the caller logs it). */
  async sync(): Promise<void> {
    const backendMs = await this.#source.now();
    this.#offsetMs = backendMs - this.#base.now();
  }
}

/** Whether a store asks to be judged by its own clock (a shared backend) rather than this host's. */
export function judgesTime(store: object): store is TimeSource & { clock: 'backend' } {
  return (store as { clock?: unknown }).clock === 'backend';
}
