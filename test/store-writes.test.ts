/**
 * The store's hot write paths (writes.ts): multi-row inserts that number their own ids, keys
 * deduplicated in the middle of a bulk insert, and a group commit of mixed outcomes.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDb } from './tmpdb.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome } from '../src/store/types.js';

const T = Date.parse('2030-01-01T09:00:00Z');
let store: SqliteStore;
afterEach(async () => store?.close());

function task(i: number, extra: Partial<NewTask> = {}): NewTask {
  return { name: 'send', args: JSON.stringify([i]), dueMs: T + i * 1001, createdMs: T, key: null, retries: 0, backoffMs: 1000, timeoutMs: null, ...extra };
}

describe('a bulk insert', () => {
  it('numbers ids in order across multi-row statements and keyed rows, and places each on the wheel', async () => {
    const db = tempDb();
    store = new SqliteStore({ path: db.path });
    await store.insert([task(0)]);
    const tasks = Array.from({ length: 203 }, (_, i) => task(i + 1, i === 100 ? { key: 'k' } : {}));
    tasks.push(task(999, { key: 'k' })); // same key as item 100, in the same call: deduplicated
    const inserted = await store.insert(tasks);
    expect(inserted.slice(0, 203).map((r) => r.id)).toEqual(Array.from({ length: 203 }, (_, i) => i + 2));
    expect(inserted[203]).toEqual({ id: 102, dueMs: T + 101 * 1001, created: false });
    // The wheel's columns are SQLite's own (not in TaskRow): read them raw.
    const raw = new Database(db.path, { readonly: true });
    const place = raw.prepare('SELECT slot, cycle FROM tasks WHERE id = ?');
    for (const r of inserted.slice(0, 203)) {
      const row = (await store.get(r.id))!;
      const second = Math.floor(row.dueMs / 1000);
      expect(row).toMatchObject({ state: 'scheduled', args: JSON.stringify([r.id - 1]) });
      expect(place.get(r.id)).toEqual({ slot: second % 3600, cycle: Math.floor(second / 3600) });
    }
    raw.close();
    expect((await store.stats()).counts.scheduled).toBe(204);
    store.close();
    db.remove();
  });
});

const err = (message: string, code: string | null = null) => ({ code, message, stack: `Error: ${message}\n    at here` });

describe('recording outcomes', () => {
  it('applies starts, ends and retries behind their fences in one batch, and says which applied', async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.insert([task(0), task(1), task(2), task(3)]);
    const { tasks } = await store.claim({ owner: 'me', uptoSecond: Math.floor(T / 1000) + 10, limit: 10, names: ['send'] });
    expect(tasks.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    expect(tasks[0]).toMatchObject({ attempts: 0, cutOffs: 0, retries: 0, backoffMs: 1000, timeoutMs: null });
    const at = (ms: number) => T + ms;
    const o = { owner: 'me', attempt: 1 };
    const batch: Outcome[] = [
      { kind: 'started', id: 1, ...o, atMs: at(1) },
      { kind: 'started', id: 2, ...o, atMs: at(2) },
      { kind: 'started', id: 3, ...o, atMs: at(3) },
      { kind: 'succeeded', id: 1, ...o, atMs: at(4), result: '"ok"' },
      { kind: 'failed', id: 2, ...o, atMs: at(5), error: err('boom', 'E_TIMEOUT') },
      { kind: 'retry', id: 3, ...o, atMs: at(6), error: err('again'), dueMs: at(60_000) },
      { kind: 'started', id: 4, ...o, atMs: at(7) },
      { kind: 'succeeded', id: 4, owner: 'someone else', attempt: 1, atMs: at(8), result: null },
      { kind: 'started', id: 4, ...o, atMs: at(9) }, // the same start again (a lost answer): applied, changes nothing
    ];
    expect(await store.record(batch)).toEqual({ applied: [true, true, true, true, true, true, true, false, true], earliestDueMs: at(60_000) });
    expect(await store.get(1)).toMatchObject({ state: 'succeeded', attempts: 1, startedMs: at(1), finishedMs: at(4), result: '"ok"' });
    expect(await store.get(2)).toMatchObject({ state: 'failed', attempts: 1, startedMs: at(2), finishedMs: at(5), lastErrorCode: 'E_TIMEOUT' });
    expect((await store.get(2))!.lastError).toBe('Error: boom\n    at here');
    expect((await store.get(2))!.errors).toEqual([
      { attempt: 1, atMs: at(5), code: 'E_TIMEOUT', message: 'boom', stack: 'Error: boom\n    at here', error: 'Error: boom\n    at here' },
    ]);
    expect(await store.get(3)).toMatchObject({ state: 'scheduled', attempts: 1, startedMs: at(3), dueMs: at(60_000), owner: null, lastErrorCode: null });
    expect(await store.get(4)).toMatchObject({ state: 'running', attempts: 1, startedMs: at(7), owner: 'me' });
    // The end of an attempt started in an earlier batch; ending it twice writes once (the second,
    // as after a lost answer, counts as applied and changes nothing).
    const end: Outcome = { kind: 'succeeded', id: 4, ...o, atMs: at(10), result: null };
    expect(await store.record([end, { ...end, atMs: at(11), result: '"later"' }])).toEqual({ applied: [true, true], earliestDueMs: null });
    expect(await store.get(4)).toMatchObject({ state: 'succeeded', attempts: 1, finishedMs: at(10), result: null });
  });

  it('refuses a retry due at a time SQLite cannot store or no Date can show, applying nothing', async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.insert([task(0), task(1)]);
    await store.claim({ owner: 'me', uptoSecond: Math.floor(T / 1000) + 10, limit: 10, names: ['send'] });
    const start = (id: number): Outcome => ({ kind: 'started', id, owner: 'me', attempt: 1, atMs: T });
    for (const dueMs of [Infinity, NaN, 8.64e15 + 1, -1]) {
      const bad: Outcome = { kind: 'retry', id: 2, owner: 'me', attempt: 1, atMs: T, error: err('x'), dueMs };
      await expect(store.record([start(1), start(2), bad])).rejects.toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
      expect(await store.get(1)).toMatchObject({ state: 'running', attempts: 0, startedMs: null });
    }
    // One by one, the good ones apply.
    expect((await store.record([start(1)])).applied).toEqual([true]);
  });
});
