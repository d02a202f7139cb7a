/**
 * The worker pool's admits, on a fake clock at a fixed time: one in flight by default, and with
 * `admitsInFlight` more than one, each round taking a share of the workers, so that over a
 * network one share runs while the next share's starts are written (issue 12: no-op handlers
 * otherwise waited for one write all together, in lock-step). An `alone` item still starts
 * with nothing else admitted or running, a round put back ('later') goes back in due order,
 * and workers held by admits arm no timer to spin on. Last, through a scheduler: a store whose
 * `startsInFlight` is 2 (as Redis's) gets two start writes at once.
 */
import { createClock } from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Outcome, RecordResult, Store } from '../src/store/types.js';
import { WorkerPool, type PoolItem, type Verdict } from '../src/worker-pool.js';
import { scenarios, T0 } from './helpers.js';

const { setup, defer } = scenarios();

interface Job extends PoolItem {
  readonly name: string;
}

/** A pool whose admits the test answers, one by one, and whose jobs end when the test says. */
function fixture(o: { concurrency: number; admitsInFlight?: number }) {
  const fake = createClock(T0);
  const clock: Clock = { now: () => fake.now, setTimeout: (fn, ms) => fake.setTimeout(fn, ms), clearTimeout: (h) => fake.clearTimeout(h as never) };
  const admits: { names: string[]; answer: (verdict: Verdict) => void }[] = [];
  const running: string[] = [];
  const ends = new Map<string, () => void>();
  const pool = new WorkerPool<Job>({
    clock,
    concurrency: o.concurrency,
    queueSize: 100,
    admitsInFlight: o.admitsInFlight,
    retryMs: 250,
    admit: (items) => new Promise<Verdict>((answer) => admits.push({ names: items.map((i) => i.name), answer })),
  });
  const job = (name: string, dueMs = T0, alone = false): Job => ({
    name,
    dueMs,
    alone,
    start: () =>
      new Promise<void>((resolve) => {
        running.push(name);
        ends.set(name, resolve);
      }),
  });
  const settle = () => fake.tickAsync(0);
  return { fake, pool, admits, running, ends, job, settle };
}

const yes = (n: number) => Array.from({ length: n }, () => true);

describe('worker pool admits', () => {
  it('by default one admit at a time, taking every free worker', async () => {
    const f = fixture({ concurrency: 4 });
    f.pool.push(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => f.job(n)));
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b', 'c', 'd']]);
    f.admits[0]!.answer(yes(4));
    await f.settle();
    expect(f.running).toEqual(['a', 'b', 'c', 'd']);
    f.ends.get('a')!();
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b', 'c', 'd'], ['e']]);
  });

  it('with two in flight, each round takes half the workers; an answer starts its own share at once', async () => {
    const f = fixture({ concurrency: 4, admitsInFlight: 2 });
    f.pool.push(['a', 'b', 'c', 'd', 'e', 'f'].map((n, i) => f.job(n, T0 - 10 + i)));
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b'], ['c', 'd']]);
    // The second share answers first: it runs, while the first is still being written.
    f.admits[1]!.answer(yes(2));
    await f.settle();
    expect(f.running).toEqual(['c', 'd']);
    expect(f.admits).toHaveLength(2);
    f.admits[0]!.answer(yes(2));
    await f.settle();
    expect(f.running).toEqual(['c', 'd', 'a', 'b']);
    // Two ending together free two workers: one share for the next round, the next share's write meanwhile.
    f.ends.get('c')!();
    f.ends.get('d')!();
    await f.settle();
    expect(f.admits.slice(2).map((a) => a.names)).toEqual([['e', 'f']]);
    expect(f.pool.room).toBe(100 - 2);
  });

  it('never admits more than the free workers, nor more rounds than allowed', async () => {
    const f = fixture({ concurrency: 3, admitsInFlight: 2 });
    f.pool.push(['a', 'b', 'c', 'd', 'e'].map((n) => f.job(n)));
    await f.settle();
    // ceil(3 / 2) = 2 a round: 2, then the 1 worker left.
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b'], ['c']]);
    await f.fake.tickAsync(5_000);
    expect(f.admits).toHaveLength(2);
    // Workers held by admits in flight arm no timer: nothing would spin on one.
    expect(f.fake.countTimers()).toBe(0);
  });

  it('an alone item is admitted with nothing else in flight, and nothing is admitted beside it', async () => {
    const f = fixture({ concurrency: 4, admitsInFlight: 2 });
    f.pool.push([f.job('alone', T0 - 5, true), f.job('x', T0 - 4), f.job('y', T0 - 3)]);
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['alone']]);
    await f.fake.tickAsync(1_000);
    expect(f.admits).toHaveLength(1);
    f.admits[0]!.answer([true]);
    await f.settle();
    expect(f.running).toEqual(['alone']);
    expect(f.admits).toHaveLength(1);
    f.ends.get('alone')!();
    await f.settle();
    expect(f.admits.slice(1).map((a) => a.names)).toEqual([['x', 'y']]);
  });

  it('an alone item waits for the admits in flight before it', async () => {
    const f = fixture({ concurrency: 4, admitsInFlight: 2 });
    f.pool.push([f.job('a', T0 - 9), f.job('b', T0 - 8)]);
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b']]);
    f.pool.push([f.job('alone', T0 - 5, true)]);
    await f.settle();
    expect(f.admits).toHaveLength(1);
    f.admits[0]!.answer(yes(2));
    await f.settle();
    f.ends.get('a')!();
    f.ends.get('b')!();
    await f.settle();
    expect(f.admits.slice(1).map((a) => a.names)).toEqual([['alone']]);
  });

  it('rounds put back by their admits go back in due order, whichever answered first', async () => {
    const f = fixture({ concurrency: 4, admitsInFlight: 2 });
    f.pool.push(['a', 'b', 'c', 'd'].map((n, i) => f.job(n, T0 - 10 + i)));
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['a', 'b'], ['c', 'd']]);
    f.admits[0]!.answer('later');
    await f.settle();
    f.admits[1]!.answer('later');
    await f.settle();
    expect(f.running).toEqual([]);
    await f.fake.tickAsync(249);
    expect(f.admits).toHaveLength(2);
    await f.fake.tickAsync(1);
    expect(f.admits.slice(2).map((a) => a.names)).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('a task due later waits for its millisecond, with an admit in flight or not', async () => {
    const f = fixture({ concurrency: 4, admitsInFlight: 2 });
    f.pool.push([f.job('now'), f.job('soon', T0 + 1_500)]);
    await f.settle();
    expect(f.admits.map((a) => a.names)).toEqual([['now']]);
    await f.fake.tickAsync(1_499);
    expect(f.admits).toHaveLength(1);
    await f.fake.tickAsync(1);
    expect(f.admits.map((a) => a.names)).toEqual([['now'], ['soon']]);
  });
});

describe('a store that asks for two start writes in flight', () => {
  it('gets them from the scheduler: two rounds of starts at once, each of half the workers', async () => {
    const inner = new SqliteStore({ path: ':memory:' });
    defer(() => inner.close());
    /** Start writes held until the test lets them through. */
    const held: { count: number; go: () => void }[] = [];
    const record = async (outcomes: readonly Outcome[]): Promise<RecordResult> => {
      const starts = outcomes.filter((o) => o.kind === 'started').length;
      if (starts > 0) await new Promise<void>((go) => held.push({ count: starts, go }));
      return inner.record(outcomes);
    };
    const store = new Proxy(inner, {
      get: (target, key) => {
        if (key === 'startsInFlight') return 2;
        if (key === 'record') return record;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const f = setup({ store, concurrency: 4 });
    // Cleanups run last first: whatever a failing assertion left held goes before the scheduler closes.
    defer(() => held.forEach((h) => h.go()));
    const ran: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void ran.push(n));
    f.scheduler.start();
    await job.delayMany([[1], [2], [3], [4]], 1);
    // The fake clock itself: f.advance() waits for every store call to settle, and these are held.
    await f.clock.tickAsync(1_500);
    expect(held.map((h) => h.count)).toEqual([2, 2]);
    expect(ran).toEqual([]);
    held[1]!.go();
    await f.clock.tickAsync(10);
    expect(ran).toHaveLength(2);
    held[0]!.go();
    await f.clock.tickAsync(10);
    expect(ran.sort()).toEqual([1, 2, 3, 4]);
  });
});
