/**
 * A drift-free one-second loop over a Clock. Each wake-up is aimed at an absolute boundary,
 * `lookaheadMs` before the start of the next second, and calls `onTick(second)` with the second
 * about to begin, so its tasks can be claimed ahead of time and started at their own
 * millisecond. A late wake-up (a busy loop, a suspended laptop) reports the latest second only:
 * the wheel's claim covers every second up to it, so nothing is skipped.
 */
import type { Clock } from './clock.js';

export interface TickerOptions {
  clock: Clock;
  lookaheadMs: number;
  onTick: (second: number) => void;
}

export class Ticker {
  readonly #clock: Clock;
  readonly #lookaheadMs: number;
  readonly #onTick: (second: number) => void;
  #timer: unknown = undefined;
  #running = false;

  constructor(options: TickerOptions) {
    this.#clock = options.clock;
    this.#lookaheadMs = options.lookaheadMs;
    this.#onTick = options.onTick;
  }

  /** Ticks at once (to catch up), then on every boundary. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#fire();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The second whose tasks a tick at `nowMs` claims. */
  secondAt(nowMs: number): number {
    return Math.floor((nowMs + this.#lookaheadMs) / 1000);
  }

  #fire(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const second = this.secondAt(this.#clock.now());
    this.#onTick(second);
    if (this.#running) this.#aim(second);
  }

  /**
   * Aims at the boundary after the one of the second just ticked, not at the one after "now":
   * a timer may fire a millisecond early (Node's do, by Date.now()) and tick the previous
   * second again; if that tick's claim then ran past the boundary, aiming from now skipped a
   * whole second, whose tasks ran up to 1 s late. Past that boundary already, it fires at once.
   */
  #aim(ticked: number): void {
    const nextBoundary = (ticked + 1) * 1000 - this.#lookaheadMs;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), timerMs(nextBoundary - this.#clock.now()));
  }
}

/** Node's timers take at most 2^31 - 1 ms; a longer delay fires after 1 ms with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay for one Node timer: within 0 .. MAX_TIMER_MS (a caller that needs more re-arms). */
export function timerMs(ms: number): number {
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_TIMER_MS) : MAX_TIMER_MS;
}

/** A timeout of any length: re-armed in steps of at most MAX_TIMER_MS. Returns its cancel. */
export function setLongTimeout(clock: Clock, fn: () => void, ms: number): () => void {
  let handle: unknown;
  let cancelled = false;
  const arm = (left: number) => {
    handle = clock.setTimeout(() => {
      if (cancelled) return;
      if (left > MAX_TIMER_MS) arm(left - MAX_TIMER_MS);
      else fn();
    }, timerMs(left));
  };
  arm(ms);
  return () => {
    cancelled = true;
    clock.clearTimeout(handle);
  };
}
