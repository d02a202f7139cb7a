/**
 * The store's hot write paths (writes.ts): multi-row inserts that number their own ids, keys
 * deduplicated in the middle of a bulk insert, and a group commit of mixed outcomes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import type { NewTask, Outcome } from '../src/store/types.js';

const T = Date.parse('2030-01-01T09:00:00Z');
let store: SqliteStore;
afterEach(() => store?.close());

function task(i: number, extra: Partial<NewTask> = {}): NewTask {
  return { name: 'send', args: JSON.stringify([i]), dueMs: T + i * 1001, createdMs: T, key: null, retries: 0, backoffMs: 1000, timeoutMs: null, ...extra };
}

describe('a bulk insert', () => {
  it('numbers ids in order across multi-row statements and keyed rows, and places each on the wheel', () => {
    store = new SqliteStore({ path: ':memory:' });
    store.insert([task(0)]);
    const tasks = Array.from({ length: 203 }, (_, i) => task(i + 1, i === 100 ? { key: 'k' } : {}));
    tasks.push(task(999, { key: 'k' })); // same key as item 100, in the same call: deduplicated
    const inserted = store.insert(tasks);
    expect(inserted.slice(0, 203).map((r) => r.id)).toEqual(Array.from({ length: 203 }, (_, i) => i + 2));
    expect(inserted[203]).toEqual({ id: 102, dueMs: T + 101 * 1001, created: false });
    for (const r of inserted.slice(0, 203)) {
      const row = store.get(r.id)!;
      const second = Math.floor(row.dueMs / 1000);
      expect(row).toMatchObject({ state: 'scheduled', args: JSON.stringify([r.id - 1]), slot: second % 3600, cycle: Math.floor(second / 3600) });
    }
    expect(store.stats().counts.scheduled).toBe(204);
  });
});

describe('recording outcomes', () => {
  it('applies starts, ends, retries and a foreign owner\'s outcome in one batch', () => {
    store = new SqliteStore({ path: ':memory:' });
    store.insert([task(0), task(1), task(2), task(3)]);
    const { tasks } = store.claim({ owner: 'me', uptoSecond: Math.floor(T / 1000) + 10, limit: 10 });
    expect(tasks.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    const at = (ms: number) => T + ms;
    const batch: Outcome[] = [
      { kind: 'started', id: 1, owner: 'me', atMs: at(1) },
      { kind: 'started', id: 2, owner: 'me', atMs: at(2) },
      { kind: 'started', id: 3, owner: 'me', atMs: at(3) },
      { kind: 'succeeded', id: 1, owner: 'me', atMs: at(4), result: '"ok"' },
      { kind: 'failed', id: 2, owner: 'me', atMs: at(5), error: 'boom' },
      { kind: 'retry', id: 3, owner: 'me', atMs: at(6), error: 'again', dueMs: at(60_000) },
      { kind: 'started', id: 4, owner: 'me', atMs: at(7) },
      { kind: 'succeeded', id: 4, owner: 'someone else', atMs: at(8), result: null },
    ];
    expect(store.record(batch)).toBe(7);
    expect(store.get(1)).toMatchObject({ state: 'succeeded', attempts: 1, startedMs: at(1), finishedMs: at(4), result: '"ok"' });
    expect(store.get(2)).toMatchObject({ state: 'failed', attempts: 1, startedMs: at(2), finishedMs: at(5), lastError: 'boom' });
    expect(store.get(3)).toMatchObject({ state: 'scheduled', attempts: 1, startedMs: at(3), dueMs: at(60_000), owner: null });
    expect(store.get(4)).toMatchObject({ state: 'running', attempts: 1, startedMs: at(7), owner: 'me' });
    // The end of an attempt started in an earlier batch.
    expect(store.record([{ kind: 'succeeded', id: 4, owner: 'me', atMs: at(9), result: null }])).toBe(1);
    expect(store.get(4)).toMatchObject({ state: 'succeeded', attempts: 1, finishedMs: at(9) });
  });
});
