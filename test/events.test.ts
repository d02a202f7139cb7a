/**
 * The operational events (events.ts) that metrics are built on: 'claimed' per claim, 'putBack'
 * when running tasks go back to scheduled (ours at stop, a dead owner's), 'storeError' per
 * failed store call. On a fake clock at a fixed time.
 */
import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/errors.js';
import type { SchedulerEvents } from '../src/events.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { scenarios, T0 } from './helpers.js';

const { setup, defer } = scenarios();

function record<E extends keyof SchedulerEvents>(f: ReturnType<typeof setup>, event: E): SchedulerEvents[E][] {
  const seen: SchedulerEvents[E][] = [];
  f.scheduler.on(event, (payload: SchedulerEvents[E]) => seen.push(payload));
  return seen;
}

function openStore(): SqliteStore {
  const store = new SqliteStore({ path: ':memory:' });
  defer(() => store.close());
  return store;
}

describe("the 'claimed' event", () => {
  it('tells each claim its second and how many it brought, empty ones too', async () => {
    const f = setup();
    const claimed = record(f, 'claimed');
    const job = f.scheduler.task('job')(() => undefined);
    f.scheduler.start();
    await Promise.all([job.delay([], 2), job.delay([], 2.5), job.delay([], 2.9)]);
    await f.advance(3_000);
    const second = Math.floor(T0 / 1000) + 2;
    expect(claimed.filter((c) => c.count > 0)).toEqual([{ second, count: 3, durationMs: expect.any(Number) }]);
    expect(claimed.filter((c) => c.count === 0).length).toBeGreaterThanOrEqual(2);
    for (const c of claimed) expect(c.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("the 'putBack' event", () => {
  it('tells how many of our running tasks a stop put back', async () => {
    const f = setup({ drainMs: 0 });
    const putBack = record(f, 'putBack');
    const slow = f.scheduler.task('slow')(() => new Promise(() => undefined));
    f.scheduler.start();
    await slow.delay([], 1);
    await f.advance(1_000);
    expect(f.scheduler.runningTasks()).toHaveLength(1);
    const stopping = f.scheduler.stop(); // the drain's 0 ms timer runs on the fake clock
    await f.advance(1);
    await stopping;
    expect(putBack).toEqual([{ owner: f.scheduler.owner, count: 1, reason: 'stopped', why: 'stopped' }]);
  });

  it("tells whose tasks were put back when an owner without a heartbeat holds some", async () => {
    const store = openStore();
    const f = setup({ store });
    const putBack = record(f, 'putBack');
    f.scheduler.task('job')(() => undefined);
    const [inserted] = await store.insert([{ name: 'job', args: '[]', dueMs: T0, createdMs: T0, key: null, retries: null, backoffMs: null, timeoutMs: null }]);
    await store.claim({ owner: 'ghost', uptoSecond: Math.floor(T0 / 1000), limit: 10, names: ['job'] });
    expect((await store.get(inserted!.id))?.state).toBe('running');
    await f.scheduler.start();
    expect(putBack).toEqual([{ owner: 'ghost', count: 1, reason: 'orphaned', why: 'no heartbeat record' }]);
  });
});

describe("the 'storeError' event", () => {
  it('tells the kind of call and the code of each failed store call, and nothing for those that pass', async () => {
    const store = openStore();
    let failClaims = 2;
    const claim: Store['claim'] = (request) =>
      failClaims-- > 0 ? Promise.reject(new DelaydError('E_DB_LOCKED', 'the database is locked')) : store.claim(request);
    const flaky = new Proxy(store, {
      get: (target, key) => {
        if (key === 'claim') return claim;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const f = setup({ store: flaky });
    const errors = record(f, 'storeError');
    f.scheduler.task('job')(() => undefined);
    f.scheduler.start();
    await f.advance(3_000);
    expect(errors).toEqual([
      { kind: 'claim', code: 'E_DB_LOCKED' },
      { kind: 'claim', code: 'E_DB_LOCKED' },
    ]);
  });
});
