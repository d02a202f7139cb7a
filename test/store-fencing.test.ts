/**
 * The store's side of issue 10 (types.ts header): claims of served names only, fenced starts
 * and ends, put-backs that count open attempts as cut off, burial only of an owner that has not
 * beaten since, heartbeats that notice a burial, retry of a task whose key is taken.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import type { NewTask, Outcome } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const S = T / 1000;
let store: SqliteStore;
let db: ReturnType<typeof tempDb>;
beforeEach(() => {
  db = tempDb();
  store = new SqliteStore({ path: db.path });
});
afterEach(() => {
  store.close();
  db.remove();
});

function task(name: string, dueMs: number, extra: Partial<NewTask> = {}): NewTask {
  return { name, args: '[]', dueMs, createdMs: T, key: null, retries: null, backoffMs: null, timeoutMs: null, ...extra };
}
const claim = (owner: string, names: string[], limit = 100, upto = S + 100) => store.claim({ owner, uptoSecond: upto, limit, names }).tasks;
const at = (kind: 'started', id: number, owner: string, attempt: number): Outcome => ({ kind, id, owner, attempt, atMs: T + 1 });
const ok = (id: number, owner: string, attempt: number): Outcome => ({ kind: 'succeeded', id, owner, attempt, atMs: T + 2, result: null });
const worker = (owner: string) => ({ owner, host: 'h', pid: 1, names: ['a'], policies: { a: { retries: 3, maxCutOffs: 2 } }, startedMs: T });

describe('a claim', () => {
  it('takes only the served names, merged in due order up to the limit; no names, no tasks', () => {
    // Interleaved due times across three names, inserted in bulk and one by one.
    store.insert([task('a', T + 3000), task('b', T + 1000), task('c', T + 500), task('a', T + 2000)]);
    store.insert([task('b', T + 2500)]);
    expect(claim('x', [])).toEqual([]);
    const got = claim('x', ['a', 'b'], 3);
    expect(got.map((t) => [t.name, t.dueMs])).toEqual([['b', T + 1000], ['a', T + 2000], ['b', T + 2500]]);
    expect(got[0]).toMatchObject({ attempts: 0, cutOffs: 0, retries: null, backoffMs: null, timeoutMs: null });
    expect(claim('x', ['a', 'b']).map((t) => t.dueMs)).toEqual([T + 3000]);
    expect(store.stats().scheduledByName).toEqual({ c: 1 });
    expect(claim('y', ['c']).map((t) => t.name)).toEqual(['c']);
    expect(store.stats()).toMatchObject({ scheduledByName: {}, counts: { running: 5 } });
  });

  it('leaves tasks not yet due, and stats still find the next due one across names', () => {
    store.insert([task('a', T + 50_000), task('b', T + 20_000), task('c', T + 90_000)]);
    expect(store.stats()).toMatchObject({ nextDueMs: T + 20_000, scheduledByName: { a: 1, b: 1, c: 1 } });
    expect(claim('x', ['a', 'b', 'c'], 10, S + 30)).toHaveLength(1);
    expect(store.stats().nextDueMs).toBe(T + 50_000);
  });
});

describe('the fences of an attempt', () => {
  it('start only the claimed attempt under its owner, end only an open one', () => {
    const id = store.insert([task('a', T)])[0]!.id;
    claim('x', ['a']);
    expect(store.record([at('started', id, 'y', 1), at('started', id, 'x', 2), ok(id, 'x', 1)]).applied).toEqual([false, false, false]);
    expect(store.record([at('started', id, 'x', 1)]).applied).toEqual([true]);
    expect(store.get(id)).toMatchObject({ attempts: 1, startedMs: T + 1 });
    expect(store.record([ok(id, 'x', 2), ok(id, 'y', 1), ok(id, 'x', 1)]).applied).toEqual([false, false, true]);
  });

  it('refuse the start of a task cancelled, rescheduled or put back and re-claimed meanwhile', () => {
    const ids = store.insert([task('a', T), task('a', T), task('a', T)]).map((r) => r.id);
    claim('x', ['a']);
    store.release('x'); // the owner was declared dead; its tasks are back
    store.cancel(ids[0]!, T);
    store.reschedule(ids[1]!, T + 3_600_000);
    claim('y', ['a']); // another owner takes the third
    const late = ids.map((id) => at('started', id, 'x', 1));
    expect(store.record(late).applied).toEqual([false, false, false]);
    expect(store.get(ids[2]!)).toMatchObject({ state: 'running', owner: 'y', attempts: 0 });
  });
});

describe('putting back', () => {
  it('release: an open attempt counts as cut off, a claimed unstarted one not; the worker row goes', () => {
    const ids = store.insert([task('a', T), task('a', T + 1)]).map((r) => r.id);
    store.heartbeat(worker('x'), T, false);
    claim('x', ['a']);
    store.record([at('started', ids[0]!, 'x', 1)]);
    expect(store.release('x')).toBe(2);
    expect(store.get(ids[0]!)).toMatchObject({ state: 'scheduled', owner: null, dueMs: T, attempts: 1, cutOffs: 1 });
    expect(store.get(ids[1]!)).toMatchObject({ state: 'scheduled', attempts: 0, cutOffs: 0 });
    expect(store.workers()).toEqual([]);
    // The next attempt is number 2 and sees the cut-off.
    const [again] = claim('y', ['a'], 1);
    expect(again).toMatchObject({ id: ids[0], attempts: 1, cutOffs: 1 });
    expect(store.record([at('started', ids[0]!, 'y', 2)]).applied).toEqual([true]);
  });

  it('bury: only while the beat is the one observed (null: only an owner without a worker row)', () => {
    store.insert([task('a', T)]);
    expect(store.heartbeat(worker('x'), T, false)).toBe(true);
    claim('x', ['a']);
    expect(store.bury('x', null)).toBeNull(); // it has a row
    expect(store.bury('x', 2)).toBeNull(); // it is at beat 1
    expect(store.heartbeat(worker('x'), T + 1000, true)).toBe(true);
    expect(store.bury('x', 1)).toBeNull(); // it beat since: alive
    expect(store.get(1)).toMatchObject({ state: 'running', owner: 'x' });
    expect(store.bury('x', 2)).toBe(1);
    expect(store.workers()).toEqual([]);
    expect(store.get(1)).toMatchObject({ state: 'scheduled', owner: null });
    // The buried owner beats again: told so, and visible again.
    expect(store.heartbeat(worker('x'), T + 2000, true)).toBe(false);
    expect(store.workers()).toMatchObject([{ owner: 'x', beat: 1, policies: { a: { retries: 3, maxCutOffs: 2 } } }]);
    // An orphan (no worker row) with running tasks is buried with null.
    claim('z', ['a']);
    expect(store.orphanOwners()).toEqual(['z']);
    expect(store.bury('z', null)).toBe(1);
  });
});

describe('retry()', () => {
  function failedWithKey(): number {
    const id = store.insert([task('a', T, { key: 'K1', retries: 0 })])[0]!.id;
    claim('x', ['a']);
    store.record([at('started', id, 'x', 1)]);
    store.release('x'); // one cut-off attempt
    claim('x', ['a']);
    store.record([at('started', id, 'x', 2)]);
    const error = { code: 'E_X', message: 'no', stack: 'no' };
    store.record([{ kind: 'failed', id, owner: 'x', attempt: 2, atMs: T + 5, error }]);
    return id;
  }

  it('refuses a task whose key an unfinished task holds now, changing nothing', () => {
    const id = failedWithKey();
    const [holder] = store.insert([task('a', T + 3_600_000, { key: 'K1' })]);
    const before = store.get(id);
    expect(() => store.retry(id, T + 10)).toThrow(
      expect.objectContaining({ code: 'E_BAD_STATE', message: `Cannot retry task ${id}: its key "K1" is held by unfinished task ${holder!.id}` }),
    );
    expect(store.get(id)).toEqual(before);
  });

  it('schedules one more attempt: cut-offs cleared, retries = attempts', () => {
    const id = failedWithKey();
    expect(store.get(id)).toMatchObject({ state: 'failed', attempts: 2, cutOffs: 1 });
    expect(store.retry(id, T + 10)).toMatchObject({ state: 'scheduled', dueMs: T + 10, attempts: 2, cutOffs: 0, retries: 2, finishedMs: null });
    expect(() => store.retry(id, T + 10)).toThrow(expect.objectContaining({ code: 'E_BAD_STATE' }));
    expect(() => store.reschedule(id, Infinity)).toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
  });
});
