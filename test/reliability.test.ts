import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DelaydError, fromFakeClock, Scheduler } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import { toDelaydError } from '../src/store/sqlite/errors.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Outcome, Store } from '../src/store/types.js';
import { scenarios, T0 } from './helpers.js';
import { tempDb } from './tmpdb.js';

const { setup, defer } = scenarios();

describe('idempotency keys', () => {
  it('a key used by an unfinished task returns that task instead of adding a second one', async () => {
    const f = setup();
    const job = f.scheduler.task('job')((n: number) => n);
    f.scheduler.start();
    const first = await job.delay([1], { countdown: 60, key: 'invoice-7' });
    const again = await job.delay([2], { countdown: 5, key: 'invoice-7' });
    expect(again).toEqual({ id: first.id, eta: first.eta, created: false });
    expect((await f.scheduler.stats()).counts.scheduled).toBe(1);
    await f.advance(61_000);
    expect(await f.scheduler.get(first.id)).toMatchObject({ state: 'succeeded', result: '1' });
    // Once finished, the key is free again.
    const later = await job.delay([3], { countdown: 1, key: 'invoice-7' });
    expect(later.created).toBe(true);
    expect(later.id).not.toBe(first.id);
  });

  it('dedupes within one delayMany batch too', async () => {
    const f = setup();
    const job = f.scheduler.task('job')((n: number) => n);
    const out = await job.delayMany([
      { args: [1], when: { key: 'a' } },
      { args: [2], when: { key: 'a' } },
      { args: [3], when: { key: 'b' } },
    ]);
    expect(out.map((o) => o.created)).toEqual([true, false, true]);
    expect(out[1]!.id).toBe(out[0]!.id);
  });
});

describe('cancel and reschedule', () => {
  it('a cancelled task never runs; a rescheduled one runs at its new time', async () => {
    const f = setup();
    const at: [number, number][] = [];
    const job = f.scheduler.task('job')((n: number) => void at.push([n, f.clock.now]));
    f.scheduler.start();
    const a = await job.delay([1], 10);
    const b = await job.delay([2], 10);
    expect(await f.scheduler.cancel(a.id)).toMatchObject({ state: 'cancelled' });
    expect(await f.scheduler.reschedule(b.id, { countdown: 30 })).toMatchObject({ dueMs: T0 + 30_000, state: 'scheduled' });
    await f.advance(31_000);
    expect(at).toEqual([[2, T0 + 30_000]]);
    await expect(f.scheduler.cancel(b.id)).rejects.toThrow(/Cannot cancel task \d+: expected it to be scheduled, but it is succeeded/);
    await expect(f.scheduler.cancel(999)).rejects.toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }));
  });

  it('retry() sends a failed task back with one more attempt', async () => {
    const f = setup();
    let fail = true;
    const job = f.scheduler.task('job')(() => {
      if (fail) throw new Error('down');
      return 'up';
    });
    f.scheduler.start();
    const { id } = await job.delay([], 1);
    await f.advance(1_100);
    expect((await f.scheduler.get(id))!.state).toBe('failed');
    fail = false;
    await f.scheduler.retry(id);
    await f.advance(1_000);
    expect(await f.scheduler.get(id)).toMatchObject({ state: 'succeeded', attempts: 2, result: '"up"' });
  });
});

describe('wall clock jumps', () => {
  it('a clock that jumps back fires nothing twice and does not stall past the jump', async () => {
    const f = setup();
    const runs = new Map<number, number>();
    const job = f.scheduler.task('job')((n: number) => void runs.set(n, (runs.get(n) ?? 0) + 1));
    f.scheduler.start();
    for (let n = 0; n < 10; n++) await job.delay([n], n);
    await f.advance(10_000);
    f.clock.setSystemTime(T0 - 3_600_000); // an hour back
    await job.delay([100], 5); // due 5 s after the new "now", long before the cursor
    await f.advance(6_100);
    expect(runs.get(100)).toBe(1);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    expect(runs.size).toBe(11);
    expect((await f.scheduler.stats()).cursor).toBe(T0 / 1000 + 10);
  });

  it('a clock that jumps ahead catches up at the next tick, in due order', async () => {
    const f = setup();
    const order: number[] = [];
    const job = f.scheduler.task('job')((n: number) => void order.push(n));
    f.scheduler.start();
    for (let n = 0; n < 5; n++) await job.delay([n], 3_600 * (5 - n));
    f.clock.setSystemTime(T0 + 6 * 3_600_000);
    await f.advance(1_000);
    expect(order).toEqual([4, 3, 2, 1, 0]);
  });
});

describe('leases: two schedulers on one database', () => {
  function pair(dbPath: string, leaseMs = 6_000) {
    const f = setup({ db: dbPath, heartbeatMs: 1_000, leaseMs, owner: 'alpha' });
    const beta = new Scheduler({
      db: dbPath,
      clock: fromFakeClock(f.clock),
      logger: createLogger({ level: 'silent' }),
      heartbeatMs: 1_000,
      leaseMs,
      owner: 'beta',
    });
    defer(() => beta.close());
    return { f, alpha: f.scheduler, beta };
  }

  it('never run one attempt twice while both live, even when a handler outlasts the lease', async () => {
    const db = tempDb();
    defer(db.remove);
    const { f, alpha, beta } = pair(db.path);
    const runs: string[] = [];
    for (const app of [alpha, beta]) {
      app.task('slow')(async (n: number) => {
        runs.push(`${app.owner}:${n}`);
        await new Promise((resolve) => f.clock.setTimeout(resolve, 20_000)); // 20 s > 6 s lease
      });
    }
    alpha.start();
    beta.start();
    await alpha.enqueue('slow', Array.from({ length: 20 }, (_, n) => ({ args: [n], when: n % 3 })));
    await f.advance(60_000);
    expect(runs).toHaveLength(20);
    expect(new Set(runs.map((r) => r.split(':')[1])).size).toBe(20);
    expect((await alpha.stats()).counts.succeeded).toBe(20);
  });

  it('a long countdown never causes a second run', async () => {
    const db = tempDb();
    defer(db.remove);
    const { f, alpha, beta } = pair(db.path);
    const runs: string[] = [];
    for (const app of [alpha, beta]) app.task('later')(() => void runs.push(app.owner));
    alpha.start();
    beta.start();
    await alpha.enqueue('later', [{ args: [], when: 2 * 3_600 }, { args: [], when: 3 * 3_600 }]);
    await f.advance(3 * 3_600_000 + 1_000);
    expect(runs).toHaveLength(2);
    expect((await alpha.stats()).counts.succeeded).toBe(2);
  });

  it('takes over the running tasks of an owner whose heartbeat stopped', async () => {
    const db = tempDb();
    defer(db.remove);
    const { f, alpha } = pair(db.path);
    // A "ghost" owner claimed three tasks and then went silent (killed, frozen, machine gone).
    const ghost = new SqliteStore({ path: db.path });
    defer(() => ghost.close());
    const ran: number[] = [];
    const job = alpha.task('job')((n: number) => void ran.push(n));
    await job.delayMany([[1], [2], [3]], 0);
    await ghost.heartbeat({ owner: 'ghost', host: 'elsewhere', pid: 1, names: ['job'], policies: {}, startedMs: T0 }, T0, false);
    expect((await ghost.claim({ owner: 'ghost', uptoSecond: T0 / 1000, limit: 10, names: ['job'] })).tasks).toHaveLength(3);
    alpha.start();
    await f.advance(5_000);
    expect(ran).toEqual([]); // within the lease: still the ghost's
    await f.advance(3_000);
    expect(ran.sort()).toEqual([1, 2, 3]);
    expect((await alpha.stats()).counts.succeeded).toBe(3);
    expect((await ghost.workers()).map((w) => w.owner)).toEqual(['alpha']);
  });
});

describe('database failures are errors, never silent losses', () => {
  it('delay() on a database locked past the busy timeout rejects with E_DB_LOCKED and writes nothing', async () => {
    const db = tempDb();
    defer(db.remove);
    const store = new SqliteStore({ path: db.path, busyTimeoutMs: 50 });
    const f = setup({ store });
    defer(() => store.close());
    const job = f.scheduler.task('job')(() => 1);
    const locker = new Database(db.path);
    locker.exec('BEGIN EXCLUSIVE');
    const error = await job.delay([], 1).catch((e: unknown) => e);
    locker.exec('ROLLBACK');
    locker.close();
    expect(error).toMatchObject({ code: 'E_DB_LOCKED' });
    expect((await store.stats()).counts.scheduled).toBe(0);
  });

  it.each([
    ['SQLITE_FULL', 'E_DB_FULL'],
    ['SQLITE_READONLY', 'E_DB_READONLY'],
    ['SQLITE_READONLY_DBMOVED', 'E_DB_READONLY'],
    ['SQLITE_CORRUPT', 'E_DB_CORRUPT'],
    ['SQLITE_NOTADB', 'E_DB_NOT_SQLITE'],
    ['SQLITE_BUSY', 'E_DB_LOCKED'],
    ['SQLITE_IOERR', 'E_DB'],
  ])('maps %s to %s, keeping the SqliteError as cause', (sqliteCode, code) => {
    const cause = Object.assign(new Error('boom'), { code: sqliteCode });
    const error = toDelaydError(cause, '/tmp/x.db') as DelaydError;
    expect(error).toBeInstanceOf(DelaydError);
    expect(error.code).toBe(code);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('/tmp/x.db');
  });

  it('an outcome that cannot be written is kept and retried, and the task is not reported done meanwhile', async () => {
    const real = new SqliteStore({ path: ':memory:' });
    defer(() => real.close());
    let failures = 2;
    const record = async (outcomes: readonly Outcome[]) => {
      if (failures > 0) {
        failures--;
        throw new DelaydError('E_DB_FULL', 'the disk or database is full');
      }
      return await real.record(outcomes);
    };
    const flaky = new Proxy(real, {
      get(target, prop) {
        if (prop === 'record') return record;
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Store;
    const f = setup({ store: flaky });
    const job = f.scheduler.task('job')(() => 'done');
    f.scheduler.start();
    const { id } = await job.delay([], 1);
    await f.advance(1_010);
    expect((await real.get(id))!.state).toBe('running');
    expect(f.of('succeeded')).toEqual([]);
    await f.advance(2_100);
    expect(await real.get(id)).toMatchObject({ state: 'succeeded', attempts: 1, result: '"done"' });
    expect(f.of('succeeded').map((e) => e.payload.taskId)).toEqual([id]);
  });
});
