/**
 * Handlers in worker threads (isolation: 'thread'): real threads on the real clock, over the
 * built dist/ (a worker thread cannot run TypeScript sources). The handlers are in
 * procs/threads-handlers.mjs, which the pool's threads import by URL.
 */
import { threadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type * as Delayd from '../src/index.js';
import { collect, scenarios } from './helpers.js';
import { tempDb } from './tmpdb.js';

const { defer } = scenarios();
const HANDLERS = new URL('./procs/threads-handlers.mjs', import.meta.url).href;
// Imported by URL at run time: the types are the sources', the code is the build's.
const delayd = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof Delayd;
const { createLogger } = (await import(new URL('../dist/logger.js', import.meta.url).href)) as typeof import('../src/logger.js');
const { setDefaultScheduler } = (await import(new URL('../dist/default.js', import.meta.url).href)) as typeof import('../src/default.js');
const handlers = (await import(HANDLERS)) as Record<string, Delayd.Delayable<(...args: never[]) => unknown>>;

function start(options: Delayd.SchedulerOptions = {}) {
  const db = tempDb();
  const app = new delayd.Scheduler({
    db: db.path,
    registry: delayd.defaultRegistry,
    threadModules: [HANDLERS],
    threads: 2,
    logger: createLogger({ level: 'silent' }),
    ...options,
  });
  defer(db.remove);
  defer(() => app.close());
  // The handlers use bare task(): their delay() and map() must reach this scheduler.
  setDefaultScheduler(app as never);
  defer(() => setDefaultScheduler(undefined));
  app.start();
  return app;
}

async function settled(app: Delayd.Scheduler, id: number, timeoutMs = 10_000): Promise<Delayd.TaskRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await app.flush();
    const row = (await app.get(id))!;
    if (row.state === 'succeeded' || row.state === 'failed') return row;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${row.state} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const enqueue = async (app: Delayd.Scheduler, name: string, args: unknown[] = []) =>
  (await app.enqueue(name, [{ args }], delayd.defaultRegistry.get(name)!.options))[0]!.id;

describe('a handler with isolation: thread', () => {
  it('runs in a worker thread of the pool, and others stay in the main thread', async () => {
    const app = start();
    const [a, b] = [await enqueue(app, 'where_am_i', [1]), await enqueue(app, 'in_process')];
    const threaded = JSON.parse((await settled(app, a)).result!);
    expect(threaded).toMatchObject({ n: 1, isMainThread: false, attempt: 1, id: a });
    expect(threaded.threadId).not.toBe(threadId);
    expect(JSON.parse((await settled(app, b)).result!)).toEqual({ threadId, isMainThread: true });
  });

  it('is terminated at its timeout: the attempt fails and the thread is free at once', async () => {
    const app = start({ threads: 1 });
    const began = Date.now();
    const spinning = await enqueue(app, 'spin', [10_000]);
    const row = await settled(app, spinning);
    expect(row.state).toBe('failed');
    expect(row.lastError).toContain('timed out after 500 ms');
    // One thread: had the spin gone on, this would wait ~10 s for it.
    const next = await settled(app, await enqueue(app, 'where_am_i', [2]));
    expect(next.state).toBe('succeeded');
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('waiting for a free thread does not count against the timeout', async () => {
    // One thread, five attempts of 300 ms each with a 500 ms timeout: 1.5 s in all.
    const app = start({ threads: 1, concurrency: 10 });
    // The first attempt on a thread also waits for the thread to start and import the modules.
    await settled(app, await enqueue(app, 'where_am_i', [0]));
    const ids = await Promise.all(Array.from({ length: 5 }, () => enqueue(app, 'spin', [300])));
    const rows = await Promise.all(ids.map((id) => settled(app, id)));
    expect(rows.map((r) => r.state)).toEqual(Array(5).fill('succeeded'));
  });

  it('a thread that exits or throws outside the handler fails only its own attempt', async () => {
    const app = start();
    const exited = await settled(app, await enqueue(app, 'exit_thread'));
    expect(exited.state).toBe('failed');
    expect(exited.lastErrorCode).toBe('E_THREAD_CRASHED');
    expect(exited.lastError).toContain('died');
    const timer = await settled(app, await enqueue(app, 'throw_in_timer'));
    expect(timer.state).toBe('failed');
    expect(timer.lastError).toContain('boom in a timer');
    // The scheduler and the pool go on.
    expect((await settled(app, await enqueue(app, 'where_am_i', [3]))).state).toBe('succeeded');
    expect(app.running).toBe(true);
  });

  it('a thrown error is recorded with its stack, and this.retry() crosses the thread boundary', async () => {
    const app = start();
    const thrown = await settled(app, await enqueue(app, 'throws'));
    expect(thrown.state).toBe('failed');
    expect(thrown.lastError).toContain('TypeError: bad input');
    expect(thrown.lastError).toContain('threads-handlers.mjs');
    const retried = await settled(app, await enqueue(app, 'retry_once'));
    expect(retried).toMatchObject({ state: 'succeeded', attempts: 2, result: '2' });
    expect(retried.lastError).toContain('not yet');
  });

  it('finds a plain function exported under the task’s name, registered in the main thread with app.task()', async () => {
    const plain = new URL('./procs/threads-plain.mjs', import.meta.url).href;
    const { plain_square } = (await import(plain)) as { plain_square: (n: number) => unknown };
    const app = new delayd.Scheduler({ db: ':memory:', threadModules: [plain], logger: createLogger({ level: 'silent' }) });
    defer(() => app.close());
    const square = app.task('plain_square', { isolation: 'thread' })(plain_square);
    app.start();
    const row = await settled(app, (await square.delay([7])).id);
    expect(JSON.parse(row.result!)).toMatchObject({ square: 49 });
    expect(JSON.parse(row.result!).threadId).not.toBe(threadId);
  });

  it('a thread module that enqueues at import time fails its tasks instead of enqueueing from every thread', async () => {
    const module = new URL('./procs/threads-enqueuing.mjs', import.meta.url).href;
    const app = new delayd.Scheduler({ db: ':memory:', threadModules: [module], logger: createLogger({ level: 'silent' }) });
    defer(() => app.close());
    const crunch = app.task('enqueuing_crunch', { isolation: 'thread' })(() => 2);
    app.start();
    const row = await settled(app, (await crunch.delay([])).id);
    expect(row.state).toBe('failed');
    expect(row.lastError).toContain('Could not import the thread modules');
    expect(row.lastError).toContain('Cannot enqueue from a worker thread');
  });

  it('an unknown handler in the threads fails with a message naming the modules', async () => {
    const app = start({ threadModules: [] });
    const row = await settled(app, await enqueue(app, 'where_am_i', [4]));
    expect(row.state).toBe('failed');
    expect(row.lastError).toContain('no threadModules were given');
  });

  it('a CPU-bound batch spreads over the threads while in-process tasks start on time', async () => {
    // Thread tasks waiting for a thread hold a concurrency slot: leave room for the others.
    const app = start({ concurrency: 16 });
    const late: number[] = [];
    app.on('accepted', (e: { name: string; lateMs: number }) => {
      if (e.name === 'in_process') late.push(e.lateMs);
    });
    const reduce = handlers.inProcess as Delayd.Delayable<() => unknown>;
    const crunch = handlers.crunch as unknown as Delayd.Delayable<(ms: number) => unknown>;
    // Each item computes for 600 ms: had one run in this thread, a task due meanwhile would
    // start up to 600 ms late. In threads, only the machine's own load can delay it.
    const batch = await crunch.map(Array.from({ length: 8 }, () => [600] as [number]), { reduce });
    for (let i = 1; i <= 5; i++) await reduce.delay([], i * 0.2);
    const deadline = Date.now() + 15_000;
    while (!(await batch.progress()).complete && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await batch.progress()).toMatchObject({ succeeded: 8, failed: 0 });
    const threads = new Set((await collect(batch.results())).map((r) => (r.value as { threadId: number }).threadId));
    expect(threads.size).toBe(2);
    expect(threads.has(threadId)).toBe(false);
    expect(late.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...late.slice(0, 5))).toBeLessThan(300);
  });
});

describe('thread options', () => {
  it('refuses an unknown isolation and a pool of no threads, with codes', async () => {
    const app = new delayd.Scheduler({ db: ':memory:', logger: createLogger({ level: 'silent' }) });
    defer(() => app.close());
    expect(() => app.task('x', { isolation: 'process' as never })).toThrow(/Expected `isolation` to be one of 'none', 'thread'/);
    expect(() => new delayd.Scheduler({ db: ':memory:', threads: 0 })).toThrow(/`threads` to be an integer >= 1/);
    expect(() => new delayd.Scheduler({ db: ':memory:', threadModules: 'a.js' as never })).toThrow(/`threadModules`/);
  });
});
