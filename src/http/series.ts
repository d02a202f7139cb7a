/**
 * The last minutes of this daemon's lateness and throughput, one bucket per second, for the
 * dashboard's charts: a ring of `seconds` buckets, each with the attempts started, how late
 * (max, and counts in fixed lateness bins for a p99), and the attempts that ended. Memory is
 * fixed (seconds x bins), each event is O(1), and reading it is O(seconds x bins).
 */
import type { Clock } from '../clock.js';

/** Upper edges of the lateness bins, in ms; the last bin is everything beyond. */
export const LATENESS_BINS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 60_000];

interface Bucket {
  second: number;
  started: number;
  succeeded: number;
  failed: number;
  retried: number;
  maxLateMs: number;
  bins: Uint32Array;
}

export interface SeriesPoint {
  /** Unix second. */
  t: number;
  started: number;
  succeeded: number;
  failed: number;
  retried: number;
  /** Upper edge of the bin holding the 99th percentile of that second's lateness (ms), or null with no start. */
  p99Ms: number | null;
  maxLateMs: number | null;
}

export class Series {
  readonly #clock: Clock;
  readonly #ring: Bucket[];

  constructor(clock: Clock, seconds = 600) {
    this.#clock = clock;
    this.#ring = Array.from({ length: seconds }, () => ({ second: -1, started: 0, succeeded: 0, failed: 0, retried: 0, maxLateMs: 0, bins: new Uint32Array(LATENESS_BINS_MS.length + 1) }));
  }

  started(lateMs: number): void {
    const b = this.#bucket();
    b.started++;
    if (lateMs > b.maxLateMs) b.maxLateMs = lateMs;
    let i = 0;
    while (i < LATENESS_BINS_MS.length && lateMs > LATENESS_BINS_MS[i]!) i++;
    b.bins[i]!++;
  }

  ended(outcome: 'succeeded' | 'failed' | 'retried'): void {
    this.#bucket()[outcome]++;
  }

  /** The last `seconds` seconds up to now, oldest first; the current second included. */
  points(seconds: number): SeriesPoint[] {
    const now = Math.floor(this.#clock.now() / 1000);
    const n = Math.min(seconds, this.#ring.length);
    const out: SeriesPoint[] = [];
    for (let t = now - n + 1; t <= now; t++) {
      const b = this.#ring[mod(t, this.#ring.length)]!;
      const fresh = b.second === t;
      out.push({
        t,
        started: fresh ? b.started : 0,
        succeeded: fresh ? b.succeeded : 0,
        failed: fresh ? b.failed : 0,
        retried: fresh ? b.retried : 0,
        p99Ms: fresh && b.started > 0 ? p99(b) : null,
        maxLateMs: fresh && b.started > 0 ? b.maxLateMs : null,
      });
    }
    return out;
  }

  #bucket(): Bucket {
    const second = Math.floor(this.#clock.now() / 1000);
    const b = this.#ring[mod(second, this.#ring.length)]!;
    if (b.second !== second) {
      b.second = second;
      b.started = b.succeeded = b.failed = b.retried = b.maxLateMs = 0;
      b.bins.fill(0);
    }
    return b;
  }
}

function p99(b: Bucket): number {
  const rank = Math.ceil(b.started * 0.99);
  let seen = 0;
  for (let i = 0; i < b.bins.length; i++) {
    seen += b.bins[i]!;
    if (seen >= rank) return i < LATENESS_BINS_MS.length ? LATENESS_BINS_MS[i]! : b.maxLateMs;
  }
  return b.maxLateMs;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
