/**
 * The ticker's aim: the next wake-up is aimed from the second just ticked, not from the time
 * after the tick's work. Node's timers may fire a millisecond early by Date.now(); such a tick
 * still sees the previous second, and when its claim then runs past the boundary, aiming from
 * "now" skipped a whole second (its tasks ran up to 1 s late, found by bench/lateness.js).
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { Ticker } from '../src/ticker.js';

/** A clock whose timers fire `earlyMs` before they are due, as Node's may by Date.now(). */
function earlyClock(startMs: number, earlyMs: number) {
  let now = startMs;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const timer = { at: now + ms - earlyMs, fn };
      timers.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t !== handle);
    },
  };
  return {
    clock,
    spend: (ms: number) => (now += ms),
    runUntil(endMs: number) {
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > endMs) break;
        timers.shift();
        now = Math.max(now, next.at);
        next.fn();
      }
    },
  };
}

describe('the ticker', () => {
  it('claims each second before it begins when timers fire early and each tick takes 15 ms', async () => {
    const start = Date.parse('2030-01-01T09:00:00.500Z');
    const c = earlyClock(start, 1);
    const ticks: { second: number; atMs: number }[] = [];
    const ticker = new Ticker({
      clock: c.clock,
      lookaheadMs: 20,
      onTick: (second) => {
        ticks.push({ second, atMs: c.clock.now() });
        c.spend(15);
      },
    });
    ticker.start();
    c.runUntil(start + 10_000);
    ticker.stop();
    const first = Math.floor(start / 1000);
    for (let second = first + 1; second <= first + 10; second++) {
      const tick = ticks.find((t) => t.second >= second);
      expect({ second, tickedBy: tick && tick.atMs <= second * 1000 }).toEqual({ second, tickedBy: true });
    }
  });
});
