/**
 * The hour buckets of the two-level wheel (store/buckets.ts): a bulk insert keeps tasks due
 * beyond the next cycle out of the wheel index, and every claim still gets each task exactly
 * at its time, in due order, whatever was cancelled or rescheduled while it waited.
 * A scenario at fixed times: T is 09:00:00, so cycle C is 09:00-10:00 and C + 2 starts at 11:00.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/store/sqlite/schema.js';
import { PAGE_SIZE, SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const S = T / 1000;
const HOUR = 3_600_000;
let store: SqliteStore;
let db: ReturnType<typeof tempDb>;
beforeEach(async () => {
  db = tempDb();
});
afterEach(async () => {
  store?.close();
  db.remove();
});

function task(dueMs: number, i = 0): NewTask {
  return { name: 'send', args: `[${i}]`, dueMs, createdMs: T, key: null, retries: 0, backoffMs: 1000, timeoutMs: null };
}

async function claimUpTo(ms: number) {
  return (await store.claim({ owner: 'me', uptoSecond: Math.floor(ms / 1000), limit: 1000, names: ['send'] })).tasks;
}

function pragma(path: string, name: string): unknown {
  const conn = new Database(path, { readonly: true });
  try {
    return conn.pragma(name, { simple: true });
  } finally {
    conn.close();
  }
}

/** Tasks per bucket row, read behind the store's back: the layout is what these tests check. */
function buckets(path: string): { cycle: number; n: number }[] {
  const conn = new Database(path, { readonly: true });
  try {
    return conn.prepare('SELECT cycle, n FROM cycle_buckets ORDER BY cycle, id').all() as { cycle: number; n: number }[];
  } finally {
    conn.close();
  }
}

describe('a bulk insert of tasks due in later hours', () => {
  it('buckets those beyond the next cycle, by cycle, and claims every task at its own second in due order', async () => {
    store = new SqliteStore({ path: db.path });
    // Inserted out of due order: 12:30, 09:10, 11:00:00.500, 10:59, 13:00, 11:00:00.200.
    const dues = [T + 3.5 * HOUR, T + 600_000, T + 2 * HOUR + 500, T + 2 * HOUR - 60_000, T + 4 * HOUR, T + 2 * HOUR + 200];
    const ids = (await store.insert(dues.map((d, i) => task(d, i)))).map((r) => r.id);
    const cycle = Math.floor(S / 3600);
    expect(pragma(db.path, 'page_size')).toBe(PAGE_SIZE);
    expect(buckets(db.path)).toEqual([
      { cycle: cycle + 2, n: 2 },
      { cycle: cycle + 3, n: 1 },
      { cycle: cycle + 4, n: 1 },
    ]);
    expect(await store.stats()).toMatchObject({ counts: { scheduled: 6 }, nextDueMs: T + 600_000, backend: { kind: 'sqlite', inBuckets: 4 } });

    expect(await claimUpTo(T + 600_000 - 1)).toEqual([]);
    expect((await claimUpTo(T + 600_000)).map((t) => t.id)).toEqual([ids[1]]);
    expect((await claimUpTo(T + 2 * HOUR - 1)).map((t) => t.id)).toEqual([ids[3]]);
    expect((await claimUpTo(T + 2 * HOUR)).map((t) => t.id)).toEqual([ids[5], ids[2]]);

    // While they wait in their buckets: one is cancelled, one moved an hour earlier.
    await store.cancel(ids[0]!, T + 2 * HOUR);
    await store.reschedule(ids[4]!, T + 3 * HOUR);
    expect(await store.stats()).toMatchObject({ nextDueMs: T + 3 * HOUR, backend: { kind: 'sqlite', inBuckets: 0 } });
    expect(await claimUpTo(T + 3 * HOUR - 1)).toEqual([]);
    expect((await claimUpTo(T + 3 * HOUR)).map((t) => t.id)).toEqual([ids[4]]);
    expect(await claimUpTo(T + 5 * HOUR)).toEqual([]);
    expect(await store.stats()).toMatchObject({ counts: { scheduled: 0, running: 5, cancelled: 1 }, nextDueMs: null });
  });

  it('writes at most 1000 ids per bucket row, and puts a single task straight into the wheel', async () => {
    store = new SqliteStore({ path: db.path });
    await store.insert(Array.from({ length: 2500 }, (_, i) => task(T + 5 * HOUR + i, i)));
    await store.insert([task(T + 6 * HOUR)]);
    const cycle = Math.floor(S / 3600);
    expect(buckets(db.path)).toEqual([
      { cycle: cycle + 5, n: 1000 },
      { cycle: cycle + 5, n: 1000 },
      { cycle: cycle + 5, n: 500 },
    ]);
    expect((await store.stats()).counts.scheduled).toBe(2501);
  });

  it('is claimed in due order across buckets and the wheel by a claim that catches up on many hours', async () => {
    store = new SqliteStore({ path: ':memory:' });
    const dues = [T + 9 * HOUR, T + 30 * 60_000, T + 3 * HOUR, T + 5 * HOUR + 1, T + 5 * HOUR];
    const ids = (await store.insert(dues.map((d, i) => task(d, i)))).map((r) => r.id);
    const claimed = await claimUpTo(T + 10 * HOUR);
    expect(claimed.map((t) => t.id)).toEqual([ids[1], ids[2], ids[4], ids[3], ids[0]]);
  });
});

describe('the upkeep thread', () => {
  it("joins the next cycle's buckets to the wheel ahead of the claims", async () => {
    store = new SqliteStore({ path: db.path });
    await store.insert([task(T + 2 * HOUR + 5000), task(T + 3 * HOUR + 5000)]);
    expect(buckets(db.path)).toHaveLength(2);
    await claimUpTo(T + HOUR); // the cursor enters cycle C + 1: the thread may join C + 2, not C + 3
    const deadline = Date.now() + 5000;
    while (buckets(db.path).length === 2 && Date.now() < deadline) await sleep(50);
    expect(buckets(db.path)).toEqual([{ cycle: Math.floor(S / 3600) + 3, n: 1 }]);
    expect(await claimUpTo(T + 2 * HOUR)).toEqual([]);
    expect(await claimUpTo(T + 2 * HOUR + 5000)).toHaveLength(1);
  });
});

describe('a database of schema version 3', () => {
  it('is migrated with its scheduled tasks in the wheel, claimed at their time', async () => {
    const old = new Database(db.path);
    for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql);
    old.pragma('user_version = 3');
    const second = S + 5 * 3600;
    old.prepare(`INSERT INTO tasks (name, args, state, due_ms, slot, cycle, created_ms) VALUES ('send', '[]', 'scheduled', ?, ?, ?, ?)`)
      .run(second * 1000, second % 3600, Math.floor(second / 3600), T);
    old.close();
    store = new SqliteStore({ path: db.path });
    expect(pragma(db.path, 'page_size')).toBe(4096); // a file keeps the page size it was made with
    expect(await store.stats()).toMatchObject({ counts: { scheduled: 1 }, nextDueMs: second * 1000 });
    expect(await claimUpTo(second * 1000 - 1)).toEqual([]);
    expect(await claimUpTo(second * 1000)).toHaveLength(1);
    // The table was rebuilt (migration 4): its state check still refuses a state of no one's.
    const conn = new Database(db.path);
    try {
      expect(() => conn.prepare(`UPDATE tasks SET state = 'lost'`).run()).toThrow(/CHECK constraint failed/);
    } finally {
      conn.close();
    }
  });
});
