/**
 * A read shared by every client for a while: one store call however many dashboards and
 * scrapers ask, and the callers of a read in flight share its promise. A read that took long
 * is kept longer (`factor` times its duration), so a read that scans (SQLite's stats() at
 * 100k tasks: 128 ms) takes at most 1/factor of a core, however often it is asked for.
 */
import type { Clock } from '../clock.js';

export class Cached<T> {
  readonly #read: () => Promise<T>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #factor: number;
  #value: Promise<T> | undefined;
  #until = Number.NEGATIVE_INFINITY;

  constructor(read: () => Promise<T>, clock: Clock, ttlMs: number, factor = 20) {
    this.#read = read;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#factor = factor;
  }

  get(): Promise<T> {
    const now = elapsed(this.#clock);
    if (this.#value !== undefined && now < this.#until) return this.#value;
    const started = now;
    const value = this.#read();
    this.#value = value;
    this.#until = Number.POSITIVE_INFINITY; // shared while in flight
    value.then(
      () => {
        if (this.#value !== value) return;
        const took = elapsed(this.#clock) - started;
        this.#until = elapsed(this.#clock) + Math.max(this.#ttlMs, this.#factor * took);
      },
      () => {
        if (this.#value === value) this.#value = undefined; // an error is not kept
      },
    );
    return value;
  }
}

export function elapsed(clock: Clock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}
