import { describe, expect, it } from 'vitest';
import { DelaydError, type TaskContext } from '../src/index.js';
import { scenarios, T0 } from './helpers.js';

const { setup } = scenarios();

describe('retries with backoff', () => {
  it('retries after `backoff` seconds, doubling each time with jitter, then stays failed', async () => {
    const f = setup();
    const attempts: number[] = [];
    const flaky = f.scheduler.task('flaky', { retries: 3, backoff: 10 })(function (this: TaskContext) {
      attempts.push(f.clock.now);
      throw new Error(`attempt ${this.attempt} failed`);
    });
    f.scheduler.start();
    const { id } = await flaky.delay([], 1);
    await f.advance(200_000);
    expect(attempts).toHaveLength(4);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // 10 s, 20 s, 40 s, each scaled by a jitter in [0.8, 1.2) and rounded up to a tick.
    for (const [i, gap] of gaps.entries()) {
      const base = 10_000 * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(base * 0.8);
      expect(gap).toBeLessThan(base * 1.2 + 1);
    }
    const row = (await f.scheduler.get(id))!;
    expect(row).toMatchObject({ state: 'failed', attempts: 4 });
    expect(row.lastError).toContain('attempt 4 failed');
    // Every attempt is recorded: its number, when it failed, and its error.
    expect(row.errors.map((e) => [e.attempt, e.atMs, e.error.split('\n')[0]])).toEqual(
      attempts.map((at, i) => [i + 1, at, `Error: attempt ${i + 1} failed`]),
    );
    expect(f.of('retrying')).toHaveLength(3);
    expect(f.of('failed')).toHaveLength(1);
  });

  it('per-call options override the handler\'s policy (issue 10)', async () => {
    const f = setup();
    let runs = 0;
    const flaky = f.scheduler.task('flaky', { retries: 5 })(() => {
      runs++;
      throw new Error('no');
    });
    f.scheduler.start();
    const { id } = await flaky.delay([], { countdown: 1, retries: 1, backoff: 2 });
    await f.advance(10_000);
    expect(runs).toBe(2);
    const row = (await f.scheduler.get(id))!;
    expect(row.state).toBe('failed');
    // The override given at enqueue wins over the handler's declared retries.
    expect(row.policy.retries).toEqual({ value: 1, from: 'task' });
    expect(row.policy.backoffMs).toEqual({ value: 2000, from: 'task' });
  });

  it('a handler can ask for a retry at a given delay, which counts against retries', async () => {
    const f = setup();
    const at: number[] = [];
    const poll = f.scheduler.task('poll', { retries: 2 })(function (this: TaskContext) {
      at.push(f.clock.now);
      if (this.attempt < 3) this.retry(30, 'not ready yet');
      return 'ready';
    });
    f.scheduler.start();
    const { id } = await poll.delay([], 1);
    await f.advance(70_000);
    expect(at).toEqual([T0 + 1_000, T0 + 31_000, T0 + 61_000]);
    expect(await f.scheduler.get(id)).toMatchObject({ state: 'succeeded', attempts: 3, result: '"ready"' });
  });
});

describe('timeouts', () => {
  it('aborts a handler that runs past its timeout through its signal and counts a failed attempt', async () => {
    const f = setup();
    let abortedWith: unknown;
    const slow = f.scheduler.task('slow', { timeout: 5 })(function (this: TaskContext) {
      return new Promise((resolve) => {
        const timer = f.clock.setTimeout(() => resolve('late'), 60_000);
        this.signal.addEventListener('abort', () => {
          abortedWith = this.signal.reason;
          f.clock.clearTimeout(timer as never);
        });
      });
    });
    f.scheduler.start();
    const { id } = await slow.delay([], 1);
    await f.advance(6_100);
    expect(abortedWith).toBeInstanceOf(DelaydError);
    expect((abortedWith as DelaydError).code).toBe('E_TIMEOUT');
    const row = (await f.scheduler.get(id))!;
    expect(row.state).toBe('failed');
    expect(row.lastError).toContain('timed out after 5000 ms');
  });

  it('a timed-out attempt is retried when retries are left', async () => {
    const f = setup();
    let runs = 0;
    const slow = f.scheduler.task('slow', { timeout: 1, retries: 1, backoff: 1 })(async function () {
      runs++;
      if (runs === 1) await new Promise((resolve) => f.clock.setTimeout(resolve, 10_000));
      return runs;
    });
    f.scheduler.start();
    const { id } = await slow.delay([], 0);
    await f.advance(5_000);
    expect(await f.scheduler.get(id)).toMatchObject({ state: 'succeeded', attempts: 2, result: '2' });
  });
});

describe('the origin validation (seed 003)', () => {
  it('with every other first attempt failing, the successes are exactly 0..N-1', async () => {
    const f = setup({ concurrency: 20 });
    const N = 500;
    const successes: number[] = [];
    const seen = new Set<number>();
    const consume = f.scheduler.task('consume', { retries: 1, backoff: 1 })((value: number) => {
      const first = !seen.has(value);
      seen.add(value);
      if (first && value % 2 === 1) throw new Error(`dropped ${value} on its first attempt`);
      successes.push(value);
    });
    f.scheduler.start();
    await consume.delayMany(Array.from({ length: N }, (_, i) => [i] as [number]), { countdown: 1 });
    await f.advance(10_000);
    expect(successes.sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect((await f.scheduler.stats()).counts).toMatchObject({ succeeded: N, failed: 0, scheduled: 0, running: 0 });
  });
});
