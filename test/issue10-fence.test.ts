/**
 * Issue 10, on a fake clock: the handler's policy runs whoever enqueued; a scheduler claims
 * only the names it serves; starts are durable and fenced, so a task cancelled, rescheduled,
 * put back or taken by another scheduler while it waits in memory is never started; a
 * scheduler whose lease lapsed (frozen) starts nothing it lost; a task cut off maxCutOffs
 * times fails with E_CUT_OFF; one outcome the store refuses does not hold back the others.
 */
import { createClock } from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import { DelaydError } from '../src/errors.js';
import { Journal } from '../src/journal.js';
import type { TaskContext } from '../src/runner.js';
import { createLogger } from '../src/logger.js';
import { Scheduler } from '../src/scheduler.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome, Store } from '../src/store/types.js';
import { scenarios, T0 } from './helpers.js';

const { setup, defer } = scenarios();
const silent = createLogger({ level: (process.env.DBG as 'info') ?? 'silent' });

function row(name: string, dueMs: number, over: Partial<NewTask> = {}): NewTask {
  return { name, args: '[]', dueMs, createdMs: T0, key: null, retries: null, backoffMs: null, timeoutMs: null, ...over };
}

/** A scheduler on a store the test also holds, with a monotonic clock the test can jump (a freeze). */
function onSharedStore(options: { concurrency?: number; queueSize?: number } = {}) {
  const fake = createClock(T0);
  const store = new SqliteStore({ path: ':memory:' });
  let frozenMs = 0;
  const clock: Clock = {
    now: () => fake.now,
    monotonic: () => fake.now + frozenMs,
    setTimeout: (fn, ms) => fake.setTimeout(fn, ms),
    clearTimeout: (handle) => fake.clearTimeout(handle as never),
  };
  const scheduler = new Scheduler({ store, clock, logger: silent, owner: 'me', concurrency: 1, queueSize: 10, heartbeatMs: 1000, leaseMs: 5000, ...options });
  defer(async () => {
    const closing = scheduler.close();
    await fake.runToLastAsync();
    await closing;
    store.close();
  });
  const ran: { id: number; at: number }[] = [];
  const release = new Set<number>();
  // `hold`: runs until the test lets it go, so the others wait in memory behind it.
  scheduler.task('hold')(async function (this: TaskContext) {
    ran.push({ id: this.id, at: fake.now });
    await new Promise<void>((resolve) => {
      const poll = () => (release.has(this.id) ? resolve() : fake.setTimeout(poll, 10));
      poll();
    });
  });
  scheduler.task('job')(function (this: TaskContext) {
    ran.push({ id: this.id, at: fake.now });
  });
  return { fake, store, scheduler, ran, release, freeze: (ms: number) => (frozenMs += ms) };
}

describe("the handler's policy", () => {
  it('applies to a task enqueued without options by anyone, and get() says where each value came from', async () => {
    const f = setup();
    let runs = 0;
    f.scheduler.task('val', { retries: 3, backoff: 1 })(() => {
      if (++runs < 3) throw new Error('not yet');
      return 'ok';
    });
    f.scheduler.start();
    // As the CLI or another process does: a row with no policy of its own.
    const [task] = await f.scheduler.enqueue('val', [{ args: [], when: 0 }]);
    await f.advance(10_000);
    const got = (await f.scheduler.get(task!.id))!;
    expect(got).toMatchObject({ state: 'succeeded', attempts: 3, retries: null });
    expect(got.policy).toEqual({
      retries: { value: 3, from: 'handler' },
      backoffMs: { value: 1000, from: 'handler' },
      timeoutMs: { value: null, from: 'default' },
      maxCutOffs: { value: 3, from: 'default' },
    });
  });
});

describe('served names', () => {
  it('a task no handler here serves stays scheduled instead of failing', async () => {
    const f = setup();
    f.scheduler.task('mine')(() => 1);
    f.scheduler.start();
    const [theirs] = await f.scheduler.enqueue('theirs', [{ args: [], when: 0 }]);
    const [mine] = await f.scheduler.enqueue('mine', [{ args: [], when: 0 }]);
    await f.advance(5_000);
    expect((await f.scheduler.get(theirs!.id))!.state).toBe('scheduled');
    expect((await f.scheduler.get(mine!.id))!.state).toBe('succeeded');
  });
});

describe('the fence: tasks waiting in memory', () => {
  async function waitingBehindHold() {
    const f = onSharedStore();
    const [hold, a, b, c] = await f.store.insert([row('hold', T0), row('job', T0 + 100), row('job', T0 + 100), row('job', T0 + 100)]);
    // Another live scheduler, beating every 500 ms (so it is not buried as dead while the test runs).
    const beatOther = async (continuing: boolean) =>
      await f.store.heartbeat({ owner: 'other', host: 'elsewhere', pid: 1, names: ['job'], policies: {}, startedMs: T0 }, f.fake.now, continuing);
    beatOther(false);
    f.fake.setInterval(() => beatOther(true), 500);
    f.scheduler.start();
    await f.fake.tickAsync(200);
    // hold runs; a, b and c were claimed and wait in memory behind it (concurrency 1).
    expect(f.ran.map((r) => r.id)).toEqual([hold!.id]);
    expect((await f.store.get(a!.id))!.state).toBe('running');
    return { f, hold: hold!, a: a!, b: b!, c: c!, beatOther };
  }

  it('a task put back, then cancelled, rescheduled or claimed by another scheduler is never started here', async () => {
    const { f, hold, a, b, c } = await waitingBehindHold();
    // Another scheduler judged us dead and put our tasks back; then a user changed them.
    expect(await f.store.release('me')).toBeGreaterThanOrEqual(3);
    await f.store.cancel(a.id, f.fake.now);
    await f.store.reschedule(b.id, T0 + 3_600_000);
    const taken = await f.store.claim({ owner: 'other', uptoSecond: Math.floor(T0 / 1000) + 1, limit: 10, names: ['job'] });
    expect(taken.tasks.map((t) => t.id)).toContain(c.id);
    f.release.add(hold.id);
    await f.fake.tickAsync(3_000);
    expect(f.ran.map((r) => r.id)).not.toContain(a.id);
    expect(f.ran.map((r) => r.id)).not.toContain(b.id);
    expect(f.ran.map((r) => r.id)).not.toContain(c.id);
    expect((await f.store.get(a.id))!.state).toBe('cancelled');
    expect(await f.store.get(b.id)).toMatchObject({ state: 'scheduled', dueMs: T0 + 3_600_000 });
    expect(await f.store.get(c.id)).toMatchObject({ state: 'running', owner: 'other' });
  });

  it('the others run once the one ahead ends, each with a durable start before its handler', async () => {
    const { f, hold, a, b, c } = await waitingBehindHold();
    f.release.add(hold.id);
    await f.fake.tickAsync(1_000);
    expect(f.ran.map((r) => r.id)).toEqual([hold.id, a.id, b.id, c.id]);
    for (const t of [a, b, c]) expect(await f.store.get(t.id)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('a frozen scheduler that was buried starts none of what it held, and joins again', async () => {
    const { f, hold, a, b, c, beatOther } = await waitingBehindHold();
    // While we were frozen, another scheduler buried us and took the tasks.
    const me = (await f.store.workers()).find((w) => w.owner === 'me')!;
    expect(await f.store.bury('me', me.beat)).toBeGreaterThanOrEqual(3);
    await f.store.claim({ owner: 'other', uptoSecond: Math.floor(T0 / 1000) + 1, limit: 10, names: ['job'] });
    f.freeze(60_000);
    beatOther(true); // the other one went on beating while we were frozen
    f.release.add(hold.id);
    await f.fake.tickAsync(3_000);
    // (hold itself was cut off by the burial: it is claimed again and may run again.)
    expect(f.ran.map((r) => r.id).filter((id) => id !== hold.id)).toEqual([]);
    for (const t of [a, b, c]) expect((await f.store.get(t.id))!.owner).toBe('other');
    // Joined again: new work runs here.
    const [later] = await f.store.insert([row('job', f.fake.now + 1_000)]);
    await f.fake.tickAsync(3_000);
    expect(f.ran.map((r) => r.id)).toContain(later!.id);
  });

  it('a frozen scheduler that was not buried goes on once a heartbeat is acknowledged', async () => {
    const { f, hold, a, b, c } = await waitingBehindHold();
    f.freeze(60_000);
    f.release.add(hold.id);
    await f.fake.tickAsync(1_000);
    expect(f.ran.map((r) => r.id)).toEqual([hold.id, a.id, b.id, c.id]);
  });

  it('a task running here and claimed again (put back meanwhile) is not run twice at once', async () => {
    const f = onSharedStore({ concurrency: 4 });
    const [hold] = await f.store.insert([row('hold', T0)]);
    f.scheduler.start();
    await f.fake.tickAsync(100);
    expect(f.ran).toHaveLength(1);
    await f.store.release('me'); // cut off: the running attempt no longer holds its row
    await f.fake.tickAsync(2_000); // our ticks claim it again while the first attempt still runs
    expect(f.ran).toHaveLength(1);
    f.release.add(hold!.id);
    await f.fake.tickAsync(3_000);
    if (process.env.DBG) console.log(await f.store.get(hold!.id));
    expect(f.ran).toHaveLength(2);
    expect(f.ran[1]!.at).toBeGreaterThanOrEqual(T0 + 2_100);
    expect(await f.store.get(hold!.id)).toMatchObject({ state: 'succeeded', cutOffs: 1, attempts: 2 });
  });
});

describe('the poison cap', () => {
  it('a task cut off maxCutOffs times fails with E_CUT_OFF unrun; an innocent one runs', async () => {
    const f = onSharedStore({ concurrency: 4 });
    const [poison] = await f.store.insert([row('job', T0)]);
    const second = Math.floor(T0 / 1000);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { tasks } = await f.store.claim({ owner: `crashed-${attempt}`, uptoSecond: second, limit: 10, names: ['job'] });
      expect(tasks.map((t) => t.id)).toEqual([poison!.id]);
      await f.store.record([{ kind: 'started', id: poison!.id, owner: `crashed-${attempt}`, attempt, atMs: T0 }]);
      await f.store.bury(`crashed-${attempt}`, null);
    }
    expect(await f.store.get(poison!.id)).toMatchObject({ state: 'scheduled', attempts: 3, cutOffs: 3 });
    const [innocent] = await f.store.insert([row('job', T0)]);
    const failed: unknown[] = [];
    f.scheduler.on('failed', (event) => failed.push(event));
    f.scheduler.start();
    await f.fake.tickAsync(1_000);
    expect(f.ran.map((r) => r.id)).toEqual([innocent!.id]);
    const got = (await f.store.get(poison!.id))!;
    expect(got).toMatchObject({ state: 'failed', lastErrorCode: 'E_CUT_OFF' });
    expect(got.lastError).toContain(
      `Task ${poison!.id} (job) was cut off 3 times: its daemon died or stopped during each of those attempts; not run again (maxCutOffs 3)`,
    );
    expect(failed).toMatchObject([{ taskId: poison!.id, error: { code: 'E_CUT_OFF' } }]);
    expect((await f.store.get(innocent!.id))!.state).toBe('succeeded');
  });
});

describe('the journal', () => {
  /** A store whose record refuses a non-finite due time, as a backend may. */
  function refusing(inner: Store, transientOnce = false): Store {
    let transient = transientOnce;
    return new Proxy(inner, {
      get(target, key, receiver) {
        if (key !== 'record') {
          const value = Reflect.get(target, key, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (outcomes: readonly Outcome[]) => {
          if (transient) {
            transient = false;
            throw new DelaydError('E_DB_LOCKED', 'locked');
          }
          if (outcomes.some((o) => o.kind === 'retry' && !Number.isFinite(o.dueMs))) throw new DelaydError('E_BAD_OPTION', 'Expected a finite due time, got Infinity');
          return target.record(outcomes);
        };
      },
    });
  }

  async function started(store: SqliteStore, count: number) {
    const ids = (await store.insert(Array.from({ length: count }, () => row('job', T0)))).map((r) => r.id);
    await store.claim({ owner: 'me', uptoSecond: Math.floor(T0 / 1000), limit: 10, names: ['job'] });
    await store.record(ids.map((id): Outcome => ({ kind: 'started', id, owner: 'me', attempt: 1, atMs: T0 })));
    return ids;
  }

  it('a retry at Infinity does not block the other outcomes: it fails its own task, clearly', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    const fake = createClock(T0);
    const journal = new Journal({ store: refusing(store), clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout }, logger: silent });
    const [bad, good, other] = await started(store, 3) as [number, number, number];
    const error = { code: null, message: 'x', stack: 'Error: x' };
    journal.push({ kind: 'retry', id: bad, owner: 'me', attempt: 1, atMs: T0, error, dueMs: Number.POSITIVE_INFINITY });
    journal.push({ kind: 'succeeded', id: good, owner: 'me', attempt: 1, atMs: T0, result: '1' });
    journal.push({ kind: 'failed', id: other, owner: 'me', attempt: 1, atMs: T0, error });
    expect(await journal.flush()).toBe(true);
    expect(journal.pending).toBe(0);
    expect(await store.get(good)).toMatchObject({ state: 'succeeded', result: '1' });
    expect((await store.get(other))!.state).toBe('failed');
    const failed = (await store.get(bad))!;
    expect(failed).toMatchObject({ state: 'failed', lastErrorCode: 'E_BAD_OPTION' });
    expect(failed.errors.at(-1)!.message).toBe('could not record the outcome of attempt 1: Expected a finite due time, got Infinity');
  });

  it('a passing error (locked) keeps everything for the next try', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    const fake = createClock(T0);
    const journal = new Journal({ store: refusing(store, true), clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout }, logger: silent });
    const [a, b] = await started(store, 2) as [number, number];
    journal.push({ kind: 'succeeded', id: a, owner: 'me', attempt: 1, atMs: T0, result: null });
    journal.push({ kind: 'succeeded', id: b, owner: 'me', attempt: 1, atMs: T0, result: null });
    expect(await journal.flush()).toBe(false);
    expect(journal.pending).toBe(2);
    expect((await store.get(a))!.state).toBe('running');
    await fake.tickAsync(1_000);
    expect(journal.pending).toBe(0);
    expect([(await store.get(a))!.state, (await store.get(b))!.state]).toEqual(['succeeded', 'succeeded']);
  });
});

describe('stop', () => {
  it('stops the heartbeat even when releasing fails, and rethrows', async () => {
    const f = onSharedStore();
    f.scheduler.start();
    await f.fake.tickAsync(10);
    const release = f.store.release.bind(f.store);
    f.store.release = () => {
      throw new DelaydError('E_DB_LOCKED', 'locked');
    };
    const stopping = f.scheduler.stop({ drainMs: 0 }).catch((error: unknown) => error);
    await f.fake.tickAsync(10);
    expect(await stopping).toMatchObject({ code: 'E_DB_LOCKED' });
    f.store.release = release;
    expect(f.scheduler.running).toBe(false);
    const beat = (await f.store.workers()).find((w) => w.owner === 'me')!.beat;
    await f.fake.tickAsync(10_000);
    expect((await f.store.workers()).find((w) => w.owner === 'me')?.beat ?? beat).toBe(beat);
  });
});
