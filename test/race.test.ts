import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { scenarios, T0 } from './helpers.js';
import { tempDb } from './tmpdb.js';

const { setup, defer } = scenarios();

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe('inserts racing the ticks', () => {
  it('a task written by another connection at any moment, due at any time around the cursor, runs by the next tick and never early', async () => {
    const db = tempDb();
    defer(db.remove);
    const f = setup({ db: db.path });
    const other = new SqliteStore({ path: db.path });
    defer(() => other.close());
    const started = new Map<number, number>();
    f.scheduler.task('job')(function (this: { id: number }) {
      started.set(this.id, f.clock.now);
    });
    f.scheduler.start();
    const random = lcg(42);
    const due = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      // Step to a random moment, often just around a tick boundary (lookahead is 20 ms).
      await f.advance(random() < 0.5 ? Math.floor(random() * 1000) : 975 + Math.floor(random() * 10));
      const now = f.clock.now;
      const dueMs = now + Math.floor((random() - 0.5) * 4000);
      const [row] = await other.insert([
        { name: 'job', args: '[]', dueMs, createdMs: now, key: null, retries: 0, backoffMs: 1000, timeoutMs: null },
      ]);
      due.set(row!.id, dueMs);
    }
    await f.advance(3_000);
    expect(started.size).toBe(300);
    for (const [id, dueMs] of due) {
      const at = started.get(id)!;
      expect(at).toBeGreaterThanOrEqual(dueMs);
      // Written behind the cursor, it waits at most for the next tick (1 s) plus the lookahead.
      const written = (await f.scheduler.get(id))!.createdMs;
      expect(at - Math.max(dueMs, written)).toBeLessThanOrEqual(1_000);
    }
  });

  it('delay() in the same process, due behind the cursor, runs at once instead of at the next tick', async () => {
    const f = setup();
    const at: number[] = [];
    const job = f.scheduler.task('job')(() => void at.push(f.clock.now));
    f.scheduler.start();
    await f.advance(2_990); // the tick at 2.980 s has claimed second 3 already
    await job.delay([], 0.005);
    await f.advance(10);
    expect(at).toEqual([T0 + 2_995]);
  });
});

describe('durability of delay()', () => {
  it('resolves only once the task is committed: another connection sees it at once', async () => {
    const db = tempDb();
    defer(db.remove);
    const f = setup({ db: db.path });
    const job = f.scheduler.task('job')((n: number) => n);
    const { id } = await job.delay([7], 60);
    const other = new SqliteStore({ path: db.path });
    defer(() => other.close());
    expect(await other.get(id)).toMatchObject({ state: 'scheduled', args: '[7]', dueMs: T0 + 60_000, name: 'job' });
  });
});
