/**
 * The store's side of issue 10 (types.ts header): claims of served names only, fenced starts
 * and ends, put-backs that count open attempts as cut off, burial only of an owner that has not
 * beaten since, heartbeats that notice a burial, retry of a task whose key is taken.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome } from '../src/store/types.js';
import { tempDb } from './tmpdb.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const S = T / 1000;
let store: SqliteStore;
let db: ReturnType<typeof tempDb>;
beforeEach(async () => {
  db = tempDb();
  store = new SqliteStore({ path: db.path });
});
afterEach(async () => {
  store.close();
  db.remove();
});

function task(name: string, dueMs: number, extra: Partial<NewTask> = {}): NewTask {
  return { name, args: '[]', dueMs, createdMs: T, key: null, retries: null, backoffMs: null, timeoutMs: null, ...extra };
}
const claim = async (owner: string, names: string[], limit = 100, upto = S + 100) => (await store.claim({ owner, uptoSecond: upto, limit, names })).tasks;
const at = (kind: 'started', id: number, owner: string, attempt: number): Outcome => ({ kind, id, owner, attempt, atMs: T + 1 });
const ok = (id: number, owner: string, attempt: number): Outcome => ({ kind: 'succeeded', id, owner, attempt, atMs: T + 2, result: null });
const worker = (owner: string) => ({ owner, host: 'h', pid: 1, names: ['a'], policies: { a: { retries: 3, maxCutOffs: 2 } }, startedMs: T });

describe('a claim', () => {
  it('takes only the served names, merged in due order up to the limit; no names, no tasks', async () => {
    // Interleaved due times across three names, inserted in bulk and one by one.
    await store.insert([task('a', T + 3000), task('b', T + 1000), task('c', T + 500), task('a', T + 2000)]);
    await store.insert([task('b', T + 2500)]);
    expect(await claim('x', [])).toEqual([]);
    const got = await claim('x', ['a', 'b'], 3);
    expect(got.map((t) => [t.name, t.dueMs])).toEqual([['b', T + 1000], ['a', T + 2000], ['b', T + 2500]]);
    expect(got[0]).toMatchObject({ attempts: 0, cutOffs: 0, retries: null, backoffMs: null, timeoutMs: null });
    expect((await claim('x', ['a', 'b'])).map((t) => t.dueMs)).toEqual([T + 3000]);
    expect((await store.stats()).scheduledByName).toEqual({ c: 1 });
    expect((await claim('y', ['c'])).map((t) => t.name)).toEqual(['c']);
    expect(await store.stats()).toMatchObject({ scheduledByName: {}, counts: { running: 5 } });
  });

  it('leaves tasks not yet due, and stats still find the next due one across names', async () => {
    await store.insert([task('a', T + 50_000), task('b', T + 20_000), task('c', T + 90_000)]);
    expect(await store.stats()).toMatchObject({ nextDueMs: T + 20_000, scheduledByName: { a: 1, b: 1, c: 1 } });
    expect(await claim('x', ['a', 'b', 'c'], 10, S + 30)).toHaveLength(1);
    expect((await store.stats()).nextDueMs).toBe(T + 50_000);
  });
});

describe('the fences of an attempt', () => {
  it('start only the claimed attempt under its owner, end only an open one', async () => {
    const id = (await store.insert([task('a', T)]))[0]!.id;
    await claim('x', ['a']);
    expect((await store.record([at('started', id, 'y', 1), at('started', id, 'x', 2), ok(id, 'x', 1)])).applied).toEqual([false, false, false]);
    expect((await store.record([at('started', id, 'x', 1)])).applied).toEqual([true]);
    expect(await store.get(id)).toMatchObject({ attempts: 1, startedMs: T + 1 });
    expect((await store.record([ok(id, 'x', 2), ok(id, 'y', 1), ok(id, 'x', 1)])).applied).toEqual([false, false, true]);
  });

  it('refuse the start of a task cancelled, rescheduled or put back and re-claimed meanwhile', async () => {
    const ids = (await store.insert([task('a', T), task('a', T), task('a', T)])).map((r) => r.id);
    await claim('x', ['a']);
    await store.release('x'); // the owner was declared dead; its tasks are back
    await store.cancel(ids[0]!, T);
    await store.reschedule(ids[1]!, T + 3_600_000);
    await claim('y', ['a']); // another owner takes the third
    const late = ids.map((id) => at('started', id, 'x', 1));
    expect((await store.record(late)).applied).toEqual([false, false, false]);
    expect(await store.get(ids[2]!)).toMatchObject({ state: 'running', owner: 'y', attempts: 0 });
  });
});

describe('putting back', () => {
  it('release: an open attempt counts as cut off, a claimed unstarted one not; the worker row goes', async () => {
    const ids = (await store.insert([task('a', T), task('a', T + 1)])).map((r) => r.id);
    await store.heartbeat(worker('x'), T, false);
    await claim('x', ['a']);
    await store.record([at('started', ids[0]!, 'x', 1)]);
    expect(await store.release('x')).toBe(2);
    expect(await store.get(ids[0]!)).toMatchObject({ state: 'scheduled', owner: null, dueMs: T, attempts: 1, cutOffs: 1 });
    expect(await store.get(ids[1]!)).toMatchObject({ state: 'scheduled', attempts: 0, cutOffs: 0 });
    expect(await store.workers()).toEqual([]);
    // The next attempt is number 2 and sees the cut-off.
    const [again] = await claim('y', ['a'], 1);
    expect(again).toMatchObject({ id: ids[0], attempts: 1, cutOffs: 1 });
    expect((await store.record([at('started', ids[0]!, 'y', 2)])).applied).toEqual([true]);
  });

  it('bury: only while the beat is the one observed (null: only an owner without a worker row)', async () => {
    await store.insert([task('a', T)]);
    expect(await store.heartbeat(worker('x'), T, false)).toBe(true);
    await claim('x', ['a']);
    expect(await store.bury('x', null)).toBeNull(); // it has a row
    expect(await store.bury('x', 2)).toBeNull(); // it is at beat 1
    expect(await store.heartbeat(worker('x'), T + 1000, true)).toBe(true);
    expect(await store.bury('x', 1)).toBeNull(); // it beat since: alive
    expect(await store.get(1)).toMatchObject({ state: 'running', owner: 'x' });
    expect(await store.bury('x', 2)).toBe(1);
    expect(await store.workers()).toEqual([]);
    expect(await store.get(1)).toMatchObject({ state: 'scheduled', owner: null });
    // The buried owner beats again: told so, and visible again.
    expect(await store.heartbeat(worker('x'), T + 2000, true)).toBe(false);
    expect(await store.workers()).toMatchObject([{ owner: 'x', beat: 1, policies: { a: { retries: 3, maxCutOffs: 2 } } }]);
    // An orphan (no worker row) with running tasks is buried with null.
    await claim('z', ['a']);
    expect(await store.orphanOwners()).toEqual(['z']);
    expect(await store.bury('z', null)).toBe(1);
  });
});

describe('retry()', () => {
  async function failedWithKey(): Promise<number> {
    const id = (await store.insert([task('a', T, { key: 'K1', retries: 0 })]))[0]!.id;
    await claim('x', ['a']);
    await store.record([at('started', id, 'x', 1)]);
    await store.release('x'); // one cut-off attempt
    await claim('x', ['a']);
    await store.record([at('started', id, 'x', 2)]);
    const error = { code: 'E_X', message: 'no', stack: 'no' };
    await store.record([{ kind: 'failed', id, owner: 'x', attempt: 2, atMs: T + 5, error }]);
    return id;
  }

  it('refuses a task whose key an unfinished task holds now, changing nothing', async () => {
    const id = await failedWithKey();
    const [holder] = await store.insert([task('a', T + 3_600_000, { key: 'K1' })]);
    const before = await store.get(id);
    await expect(store.retry(id, T + 10)).rejects.toThrow(
      expect.objectContaining({ code: 'E_BAD_STATE', message: `Cannot retry task ${id}: its key "K1" is held by unfinished task ${holder!.id}` }),
    );
    expect(await store.get(id)).toEqual(before);
  });

  it('schedules one more attempt: cut-offs cleared, retries = attempts', async () => {
    const id = await failedWithKey();
    expect(await store.get(id)).toMatchObject({ state: 'failed', attempts: 2, cutOffs: 1 });
    expect(await store.retry(id, T + 10)).toMatchObject({ state: 'scheduled', dueMs: T + 10, attempts: 2, cutOffs: 0, retries: 2, finishedMs: null });
    await expect(store.retry(id, T + 10)).rejects.toThrow(expect.objectContaining({ code: 'E_BAD_STATE' }));
    await expect(store.reschedule(id, Infinity)).rejects.toThrow(expect.objectContaining({ code: 'E_BAD_OPTION' }));
  });
});
