import { describe, expect, it } from 'vitest';
import { scenarios, T0 } from './helpers.js';

const { setup } = scenarios();

describe('a task delayed by a countdown', () => {
  it('runs at its due millisecond, never before', async () => {
    const f = setup();
    const ran: { at: number; args: unknown[] }[] = [];
    const send = f.scheduler.task()(async function send_msg(to: string, body: string) {
      ran.push({ at: f.clock.now, args: [to, body] });
    });
    f.scheduler.start();
    const { id, eta } = await send.delay(['ann', 'hi'], 10.25);
    expect(eta.getTime()).toBe(T0 + 10_250);
    await f.advance(10_249);
    expect(ran).toEqual([]);
    await f.advance(1);
    expect(ran).toEqual([{ at: T0 + 10_250, args: ['ann', 'hi'] }]);
    await f.advance(10);
    const row = (await f.scheduler.get(id))!;
    expect(row).toMatchObject({ state: 'succeeded', attempts: 1, startedMs: T0 + 10_250, name: 'send_msg' });
    expect(row.finishedMs).toBeGreaterThanOrEqual(T0 + 10_250);
  });

  it('records the handler result as JSON and keeps the function callable directly', async () => {
    const f = setup();
    const add = f.scheduler.task('add')(function (a: number, b: number) {
      return { sum: a + b };
    });
    expect(add(2, 3)).toEqual({ sum: 5 });
    f.scheduler.start();
    const { id } = await add.delay([2, 3], 1);
    await f.advance(1_100);
    expect(await f.scheduler.get(id)).toMatchObject({ state: 'succeeded', result: '{"sum":5}' });
  });

  it('gives the handler its context as `this`', async () => {
    const f = setup();
    const seen: unknown[] = [];
    const probe = f.scheduler.task('probe')(function (this: import('../src/index.js').TaskContext) {
      seen.push({ id: this.id, name: this.name, attempt: this.attempt, eta: this.eta.getTime(), aborted: this.signal.aborted });
    });
    f.scheduler.start();
    const { id } = await probe.delay([], 2);
    await f.advance(2_000);
    expect(seen).toEqual([{ id, name: 'probe', attempt: 1, eta: T0 + 2_000, aborted: false }]);
  });
});

describe('an eta', () => {
  it('fires at its own millisecond', async () => {
    const f = setup();
    const at: number[] = [];
    const job = f.scheduler.task('job')(() => void at.push(f.clock.now));
    f.scheduler.start();
    await job.delay([], { eta: new Date(T0 + 90_000 + 123) });
    await job.delay([], { eta: '2030-01-01T09:01:30.500Z' });
    await job.delay([], { eta: T0 + 90_999 });
    await f.advance(91_000);
    expect(at).toEqual([T0 + 90_123, T0 + 90_500, T0 + 90_999]);
  });

  it('in the past, or a countdown of 0, runs at the next tick rather than a turn of the ring later', async () => {
    const f = setup();
    const at: number[] = [];
    const job = f.scheduler.task('job')(() => void at.push(f.clock.now));
    f.scheduler.start();
    await f.advance(5_500);
    await job.delay([], { eta: T0 - 3_600_000 });
    await job.delay([], 0);
    await f.advance(1_000);
    expect(at).toHaveLength(2);
    for (const t of at) expect(t).toBeLessThanOrEqual(T0 + 6_000);
  });
});

describe('cycles of the ring', () => {
  it.each([
    ['2 hours', 7_200],
    ['exactly one turn', 3_600],
    ['exactly three turns', 3 * 3_600],
  ])('a task %s ahead fires in its own cycle, not an earlier turn', async (_label, seconds) => {
    const f = setup();
    const at: number[] = [];
    const job = f.scheduler.task('job')(() => void at.push(f.clock.now));
    f.scheduler.start();
    await job.delay([], seconds);
    await f.advance(seconds * 1000 - 1);
    expect(at).toEqual([]);
    await f.advance(1);
    expect(at).toEqual([T0 + seconds * 1000]);
  });

  it.each([
    ['3 days', 3 * 86_400],
    ['a year', 365 * 86_400],
  ])('a task %s ahead passes every earlier turn of its slot', async (_label, seconds) => {
    const f = setup();
    const at: number[] = [];
    const job = f.scheduler.task('job')(() => void at.push(f.clock.now));
    const { id } = await job.delay([], seconds);
    const due = T0 / 1000 + seconds;
    // Tick the task's own slot on every earlier turn of the ring: it must stay put.
    for (let second = due - 3_600; second > T0 / 1000; second -= 3_600) await f.scheduler.tick(second);
    await f.scheduler.tick(due - 1);
    expect((await f.scheduler.get(id))!.state).toBe('scheduled');
    f.clock.setSystemTime(due * 1000 - 500);
    f.scheduler.start();
    await f.advance(500);
    expect(at).toEqual([due * 1000]);
  });
});

describe('failures', () => {
  it('a handler that throws or rejects marks the task failed and the ticker goes on', async () => {
    const f = setup();
    const boom = f.scheduler.task('boom')(() => {
      throw new Error('kaput');
    });
    const reject = f.scheduler.task('reject')(async () => Promise.reject(new TypeError('nope')));
    const ok = f.scheduler.task('ok')(() => 'fine');
    f.scheduler.start();
    const a = await boom.delay([], 1);
    const b = await reject.delay([], 1);
    const c = await ok.delay([], 2);
    await f.advance(2_100);
    expect(await f.scheduler.get(a.id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect((await f.scheduler.get(a.id))!.lastError).toContain('Error: kaput');
    expect((await f.scheduler.get(b.id))!.lastError).toContain('TypeError: nope');
    expect(await f.scheduler.get(c.id)).toMatchObject({ state: 'succeeded' });
    expect(f.of('failed').map((e) => e.payload.name)).toEqual(['boom', 'reject']);
  });

  it('a task name this scheduler has no handler for is not claimed: it waits, scheduled', async () => {
    const f = setup();
    f.scheduler.task('known')(() => 1);
    f.scheduler.start();
    const [task] = await f.scheduler.enqueue('nobody_knows_me', [{ args: [1], when: 1 }]);
    await f.advance(5_000);
    expect(await f.scheduler.get(task!.id)).toMatchObject({ state: 'scheduled', attempts: 0, owner: null });
  });

  it('a listener that throws is contained', async () => {
    const f = setup();
    const job = f.scheduler.task('job')(() => 1);
    f.scheduler.on('succeeded', () => {
      throw new Error('listener bug');
    });
    f.scheduler.start();
    const first = await job.delay([], 1);
    const second = await job.delay([], 2);
    await f.advance(2_100);
    expect((await f.scheduler.get(first.id))!.state).toBe('succeeded');
    expect((await f.scheduler.get(second.id))!.state).toBe('succeeded');
  });
});

describe('catch-up', () => {
  it.each([
    ['minutes', 10 * 60_000],
    ['hours', 5 * 3_600_000],
    ['days', 4 * 86_400_000],
  ])('after being stopped for %s, every overdue task runs at start, in due order', async (_label, downMs) => {
    const f = setup();
    const order: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void order.push(n));
    // Due times scattered over the downtime, inserted out of order.
    const offsets = Array.from({ length: 40 }, (_, i) => Math.floor(((i * 7919) % 40) / 40 * downMs) + i);
    for (const [n, offset] of offsets.entries()) await job.delay([n], offset / 1000);
    f.clock.setSystemTime(T0 + downMs + 1);
    f.scheduler.start();
    await f.advance(50);
    const expected = [...offsets.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n);
    expect(order).toEqual(expected);
  });
});

describe('backpressure', () => {
  it('holds at most queueSize claimed tasks in memory and leaves the rest in the database', async () => {
    const f = setup({ concurrency: 2, queueSize: 5 });
    let running = 0;
    let peak = 0;
    const slow = f.scheduler.task('slow')(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => f.clock.setTimeout(resolve, 100));
      running--;
    });
    f.scheduler.start();
    await slow.delayMany(Array.from({ length: 50 }, () => [] as []), 1);
    await f.advance(1_050);
    // The claim takes what the queue has room for (5): 2 of them run, 3 wait; the other 45
    // are still scheduled rows (room comes back only once waiting items start).
    const claimed = (await f.scheduler.list({ state: 'running', limit: 1000 })).length;
    expect(claimed).toBe(5);
    expect((await f.scheduler.stats()).counts.scheduled).toBe(45);
    await f.advance(3_000);
    expect((await f.scheduler.stats()).counts.succeeded).toBe(50);
    expect(peak).toBe(2);
  });
});
