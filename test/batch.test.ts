/**
 * Batches on a fake clock: the seed-000 scenario (1,024 tasks that each succeed with 70%
 * chance), results read by the reduce, the reduce scheduled exactly once, answers that outlive
 * purged task rows, and put-backs that change no bit.
 */
import { describe, expect, it } from 'vitest';
import { DelaydError, type TaskContext } from '../src/index.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { collect, scenarios, T0 } from './helpers.js';

const { setup, defer } = scenarios();

/** A small seeded PRNG (mulberry32), so the 70% draw is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('the origin scenario (seed 000): 1,024 tasks that each succeed with 70% chance', () => {
  it('counts, membership answers and lists agree with the handlers’ own record', async () => {
    const f = setup({ concurrency: 64 });
    const random = seeded(2024);
    const record = new Map<number, boolean>();
    const run = f.scheduler.task('run_task')((taskId: number) => {
      const ok = random() < 0.7;
      record.set(taskId, ok);
      if (!ok) throw new Error(`task ${taskId} failed`);
      return taskId;
    });
    const reduced: number[] = [];
    const summarise = f.scheduler.task('summarise')((batchId: number) => void reduced.push(batchId));
    f.scheduler.start();
    const N = 1_024;
    const batch = await run.map(Array.from({ length: N }, (_, i) => [i] as [number]), { countdown: 1, reduce: summarise });
    expect(await batch.progress()).toEqual({ total: N, succeeded: 0, failed: 0, pending: N, complete: false, reduceTaskId: null });
    await f.advance(10_000);

    expect(record.size).toBe(N);
    const successes = [...record].filter(([, ok]) => ok).map(([i]) => i).sort((a, b) => a - b);
    const failures = [...record].filter(([, ok]) => !ok).map(([i]) => i).sort((a, b) => a - b);
    // The draw is seeded, but the numbers must still look like the origin's ~70%.
    expect(successes.length / N).toBeGreaterThan(0.65);
    expect(successes.length / N).toBeLessThan(0.75);
    const progress = await batch.progress();
    expect(progress).toMatchObject({ total: N, succeeded: successes.length, failed: failures.length, pending: 0, complete: true });
    expect(await batch.succeeded()).toEqual(successes);
    expect(await batch.failed()).toEqual(failures);
    expect(await batch.pending()).toEqual([]);
    for (let i = 0; i < N; i++) expect(await batch.status(i)).toBe(record.get(i) ? 'succeeded' : 'failed');
    expect(reduced).toEqual([batch.id]);
    expect(await f.scheduler.get(progress.reduceTaskId!)).toMatchObject({ name: 'summarise', state: 'succeeded', args: `[${batch.id}]` });
  });
});

describe('done means a final outcome', () => {
  it('an item that will be retried stays pending; only its last attempt sets its bits', async () => {
    const f = setup();
    const attempts = new Map<number, number>();
    const flaky = f.scheduler.task('flaky', { retries: 2, backoff: 10 })((n: number) => {
      const attempt = (attempts.get(n) ?? 0) + 1;
      attempts.set(n, attempt);
      if (n === 1 && attempt < 3) throw new Error('not yet');
      if (n === 2) throw new Error('never');
    });
    f.scheduler.start();
    const batch = await flaky.map([[0], [1], [2]], 1);
    await f.advance(1_500);
    expect(await batch.progress()).toMatchObject({ succeeded: 1, failed: 0, pending: 2 });
    expect([await batch.status(0), await batch.status(1), await batch.status(2)]).toEqual(['succeeded', 'pending', 'pending']);
    await f.advance(60_000);
    expect(await batch.progress()).toMatchObject({ succeeded: 2, failed: 1, pending: 0, complete: true });
    expect([await batch.status(0), await batch.status(1), await batch.status(2)]).toEqual(['succeeded', 'succeeded', 'failed']);
    expect([...attempts.values()]).toEqual([1, 3, 3]);
  });
});

describe('the reduce step', () => {
  it('runs once with the batch id and reads every item’s result through the handle', async () => {
    const f = setup();
    const square = f.scheduler.task('square')((n: number) => {
      if (n === 3) throw new Error('three is unlucky');
      return n * n;
    });
    const seen: unknown[] = [];
    const total = f.scheduler.task('total')(async function (this: TaskContext, batchId: number) {
      const batch = await f.scheduler.batch(batchId);
      const results = await collect(batch.results({ pageSize: 2 }));
      seen.push({ batchId, attempt: this.attempt, results: results.map((r) => [r.index, r.state, r.value]) });
      return results.reduce((sum, r) => sum + (typeof r.value === 'number' ? r.value : 0), 0);
    });
    f.scheduler.start();
    const batch = await square.map([[1], [2], [3], [4], [5]], { countdown: 2, reduce: total });
    await f.advance(5_000);
    expect(seen).toEqual([
      {
        batchId: batch.id,
        attempt: 1,
        results: [
          [0, 'succeeded', 1],
          [1, 'succeeded', 4],
          [2, 'failed', undefined],
          [3, 'succeeded', 16],
          [4, 'succeeded', 25],
        ],
      },
    ]);
    const { reduceTaskId } = await batch.progress();
    expect(await f.scheduler.get(reduceTaskId!)).toMatchObject({ state: 'succeeded', result: '46' });
    const failed = (await collect(batch.results())).find((r) => r.index === 2)!;
    expect(failed.error).toContain('three is unlucky');
  });

  it('is due when the last item finishes, and runs then, without waiting for the next tick', async () => {
    const f = setup();
    const job = f.scheduler.task('job')(async (ms: number) => {
      await new Promise((resolve) => f.clock.setTimeout(resolve, ms));
    });
    const at: number[] = [];
    const after = f.scheduler.task('after')(() => void at.push(f.clock.now));
    f.scheduler.start();
    const batch = await job.map([[100], [2_500], [700]], { countdown: 1, reduce: after });
    await f.advance(5_000);
    const reduceRow = (await f.scheduler.get((await batch.progress()).reduceTaskId!))!;
    expect(reduceRow.dueMs).toBe(T0 + 3_500);
    expect(at).toHaveLength(1);
    expect(at[0]).toBeGreaterThanOrEqual(T0 + 3_500);
    expect(at[0]).toBeLessThan(T0 + 3_510);
    expect((await batch.info()).finishedMs).toBe(T0 + 3_500);
  });

  it('is scheduled exactly once: a retried failed item later succeeding flips its bit but reduces nothing again', async () => {
    const f = setup();
    let allow = false;
    const item = f.scheduler.task('item')((n: number) => {
      if (n === 0 && !allow) throw new Error('closed');
      return n;
    });
    let reduces = 0;
    const reduce = f.scheduler.task('reduce')(() => void reduces++);
    f.scheduler.start();
    const batch = await item.map([[0], [1]], { countdown: 1, reduce });
    await f.advance(3_000);
    expect(await batch.progress()).toMatchObject({ succeeded: 1, failed: 1, complete: true });
    expect(reduces).toBe(1);
    allow = true;
    const [row] = await collect(batch.results());
    await f.scheduler.retry(row!.taskId);
    await f.advance(3_000);
    expect(await batch.progress()).toMatchObject({ succeeded: 2, failed: 0, pending: 0, complete: true });
    expect(await batch.status(0)).toBe('succeeded');
    expect(reduces).toBe(1);
    expect(await f.scheduler.list({ name: 'reduce' })).toHaveLength(1);
  });

  it('a cancelled item counts as failed, so the batch still completes', async () => {
    const f = setup();
    const item = f.scheduler.task('item')((n: number) => n);
    let reduced = 0;
    const reduce = f.scheduler.task('reduce')(() => void reduced++);
    f.scheduler.start();
    const batch = await item.map([[0], [1], [2]], { countdown: 60, reduce });
    const [, second] = await collect(batch.results());
    await f.scheduler.cancel(second!.taskId);
    expect(await batch.progress()).toMatchObject({ succeeded: 0, failed: 1, pending: 2 });
    await f.advance(62_000);
    expect(await batch.failed()).toEqual([1]);
    expect(await batch.succeeded()).toEqual([0, 2]);
    expect(reduced).toBe(1);
  });

  it('of an empty batch runs at once', async () => {
    const f = setup();
    const item = f.scheduler.task('item')(() => 1);
    const ran: number[] = [];
    const reduce = f.scheduler.task('reduce')((id: number) => void ran.push(id));
    f.scheduler.start();
    const batch = await item.map([], { reduce });
    await f.advance(1_000);
    expect(await batch.progress()).toMatchObject({ total: 0, complete: true });
    expect(ran).toEqual([batch.id]);
  });
});

describe('answers from the bitmaps', () => {
  it('keep items while the reduce has not run, and the batch goes with its items once all is finished', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    const f = setup({ store });
    const item = f.scheduler.task('item')((n: number) => {
      if (n % 3 === 0) throw new Error('no');
      return n;
    });
    const reduce = f.scheduler.task('reduce')(async () => {
      await new Promise((resolve) => f.clock.setTimeout(resolve, 5_000));
      return 'reduced';
    });
    f.scheduler.start();
    const batch = await item.map(Array.from({ length: 30 }, (_, i) => [i] as [number]), { countdown: 1, reduce });
    await f.advance(1_100);
    // Every item is done and the reduce is running, not finished: purge keeps the items.
    expect(await batch.progress()).toMatchObject({ complete: true, pending: 0 });
    expect((await f.scheduler.get((await batch.progress()).reduceTaskId!))!.state).toBe('running');
    expect(await store.purge(T0 + 3_600_000)).toBe(0);
    expect(await collect(batch.results())).toHaveLength(30);
    await f.advance(6_000);
    expect((await f.scheduler.get((await batch.progress()).reduceTaskId!))!.state).toBe('succeeded');

    // A purge before the batch finished keeps it: its answers still come from the bitmaps.
    expect(await batch.progress()).toMatchObject({ total: 30, succeeded: 20, failed: 10, complete: true });
    expect(await store.purge((await batch.info()).finishedMs! - 1)).toBe(0);
    expect(await batch.status(3)).toBe('failed');
    expect(await batch.status(4)).toBe('succeeded');
    // Once everything in it is finished and older than the cutoff, the batch goes with its items.
    expect(await store.purge(T0 + 3_600_000)).toBe(31);
    expect(await collect(batch.results())).toEqual([]);
    expect(await store.getBatch(batch.id)).toBeUndefined();
    await expect(batch.progress()).rejects.toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
    await expect(f.scheduler.batch(batch.id)).rejects.toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
  });

  it('a put-back of a stopped scheduler’s running items changes no bit', async () => {
    const f = setup({ drainMs: 100 });
    let hang = true;
    const item = f.scheduler.task('item')(async function (this: TaskContext, n: number) {
      if (n === 0 && hang) await new Promise((resolve) => this.signal.addEventListener('abort', resolve));
      if (this.signal.aborted) throw new Error('aborted');
      return n;
    });
    let reduced = 0;
    const reduce = f.scheduler.task('reduce')(() => void reduced++);
    f.scheduler.start();
    const batch = await item.map([[0], [1], [2]], { countdown: 1, reduce });
    await f.advance(1_050);
    expect(await batch.progress()).toMatchObject({ succeeded: 2, pending: 1 });
    const stopping = f.scheduler.stop();
    await f.advance(200);
    await stopping;
    expect((await f.scheduler.stats()).counts.scheduled).toBe(1);
    expect(await batch.progress()).toMatchObject({ succeeded: 2, failed: 0, pending: 1, reduceTaskId: null });
    hang = false;
    f.scheduler.start();
    await f.advance(2_000);
    expect(await batch.progress()).toMatchObject({ succeeded: 3, pending: 0, complete: true });
    expect(reduced).toBe(1);
  });
});

describe('map() input', () => {
  it('a key returns the unfinished batch with that key instead of a new one', async () => {
    const f = setup();
    const item = f.scheduler.task('item')((n: number) => n);
    const a = await item.map([[1], [2]], { countdown: 5, key: 'nightly' });
    const b = await item.map([[3]], { countdown: 5, key: 'nightly' });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ id: a.id, created: false });
    expect((await b.progress()).total).toBe(2);
    expect((await f.scheduler.stats()).counts.scheduled).toBe(2);
  });

  it('refuses bad input before writing anything, with codes', async () => {
    const f = setup();
    const item = f.scheduler.task('item')((n: number) => n);
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'none', (e: DelaydError) => e.code);
    expect(await codeOf(item.map([[1], 'two' as never]))).toBe('E_BAD_ARGS');
    expect(await codeOf(item.map('nope' as never))).toBe('E_BAD_ARGS');
    expect(await codeOf(item.map([[1]], { countdown: -1 }))).toBe('E_BAD_COUNTDOWN');
    expect(await codeOf(item.map([[1]], { reduce: (() => 1) as never }))).toBe('E_BAD_OPTION');
    expect(await codeOf(item.map([[1]], { cowntdown: 1 } as never))).toBe('E_UNKNOWN_OPTION');
    expect((await f.scheduler.stats()).counts.scheduled).toBe(0);
    await expect(f.scheduler.batch(999)).rejects.toThrow(/No batch with id 999/);
    const batch = await item.map([[1]]);
    await expect(batch.status(1)).rejects.toThrow(/from 0 to 0/);
  });
});

describe('map() types', () => {
  it('takes argument lists typed from the handler and a reduce that takes the batch id', async () => {
    const f = setup();
    const item = f.scheduler.task('item')((url: string, width: number) => `${url}@${width}`);
    const reduce = f.scheduler.task('reduce')((batchId: number) => batchId);
    const wrongReduce = f.scheduler.task('wrong')((name: string) => name);
    const calls = () => {
      void item.map([['a.png', 100], ['b.png', 200]], { countdown: 1, reduce });
      // @ts-expect-error: a width that is not a number
      void item.map([['a.png', '100']]);
      // @ts-expect-error: a reduce whose argument is not the batch id
      void item.map([['a.png', 100]], { reduce: wrongReduce });
    };
    expect(typeof calls).toBe('function');
  });
});
