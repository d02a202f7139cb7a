/** Insert and get, keys, ids. */
import { expect, it } from 'vitest';
import { claim, DAY_MS, inState, T0, task, type StoreRef } from './fixtures.js';

export function tasksCases(s: StoreRef): void {
  it('inserts tasks and gets every field back, policy overrides exactly as given (0 is not null)', async () => {
    const inserted = await s().insert([
      task('a', T0 + 1500, { args: '[1,"x"]', retries: 0, backoffMs: 250, timeoutMs: 0, createdMs: T0 - 7 }),
      task('b', T0 + 2 * DAY_MS, { key: 'kb' }),
    ]);
    expect(inserted.map((i) => [i.dueMs, i.created])).toEqual([[T0 + 1500, true], [T0 + 2 * DAY_MS, true]]);
    const [a, b] = inserted.map((i) => i.id) as [number, number];
    expect(b).toBeGreaterThan(a);
    expect(await s().get(a)).toMatchObject({
      id: a, name: 'a', args: '[1,"x"]', dueMs: T0 + 1500, state: 'scheduled', attempts: 0, cutOffs: 0,
      retries: 0, backoffMs: 250, timeoutMs: 0, key: null, owner: null, createdMs: T0 - 7,
      startedMs: null, finishedMs: null, lastError: null, lastErrorCode: null, errors: [], result: null,
    });
    expect(await s().get(b)).toMatchObject({ name: 'b', key: 'kb', retries: null, backoffMs: null, timeoutMs: null });
    expect(await s().get(b + 1000)).toBeUndefined();
  });

  it('inserts one task alone, and many in one call, with distinct increasing ids in order', async () => {
    const [one] = await s().insert([task('a', T0)]);
    const many = await s().insert(Array.from({ length: 200 }, (_, i) => task('m', T0 + (i % 3) * DAY_MS)));
    const all = [one!.id, ...many.map((m) => m.id)];
    expect(new Set(all).size).toBe(201);
    expect(all).toEqual([...all].sort((x, y) => x - y));
    expect(many.every((m) => m.created)).toBe(true);
    expect((await s().get(many[199]!.id))?.dueMs).toBe(T0 + (199 % 3) * DAY_MS);
  });

  it('dedupes a key while its task is unfinished (scheduled or running): the same id, its own due time', async () => {
    const [first] = await s().insert([task('k', T0 + 1000, { key: 'K' })]);
    const [again, alsoNew] = await s().insert([task('k', T0 + 9000, { key: 'K' }), task('k', T0, { key: 'L' })]);
    expect(again).toEqual({ id: first!.id, dueMs: T0 + 1000, created: false });
    expect(alsoNew!.created).toBe(true);
    // Two tasks of one key in one call: the second is the first.
    const [m1, m2] = await s().insert([task('k', T0, { key: 'M' }), task('k', T0 + 5, { key: 'M' })]);
    expect(m2).toEqual({ id: m1!.id, dueMs: T0, created: false });
    const claimed = await claim(s(), 'o1', ['k']);
    expect(claimed.map((c) => c.id).sort()).toEqual([first!.id, alsoNew!.id, m1!.id].sort());
    expect(await s().insert([task('k', T0, { key: 'K' })])).toEqual([{ id: first!.id, dueMs: T0 + 1000, created: false }]);
    expect((await s().stats()).counts).toMatchObject({ scheduled: 0, running: 3 });
  });

  it('makes a key reusable once its task finished (succeeded, failed or cancelled)', async () => {
    for (const state of ['succeeded', 'failed', 'cancelled'] as const) {
      const id = await inState(s(), state, `reuse-${state}`);
      const [next] = await s().insert([task('x', T0 + 60_000, { key: `key-reuse-${state}` })]);
      expect(next!.created).toBe(true);
      expect(next!.id).not.toBe(id);
      expect((await s().get(next!.id))?.key).toBe(`key-reuse-${state}`);
      expect((await s().get(id))?.state).toBe(state);
    }
  });

  it('never reuses an id after a purge, neither for one task nor for many', async () => {
    const [a, b] = await s().insert([task('a', T0), task('b', T0)]);
    await s().cancel(b!.id, T0 + 1);
    expect(await s().purge(T0 + 2)).toBe(1);
    const [one] = await s().insert([task('c', T0)]);
    expect(one!.id).toBeGreaterThan(b!.id);
    await s().cancel(one!.id, T0 + 1);
    await s().cancel(a!.id, T0 + 1);
    expect(await s().purge(T0 + 2)).toBe(2);
    const many = await s().insert([task('d', T0), task('e', T0)]);
    expect(many[0]!.id).toBeGreaterThan(one!.id);
  });

  // Bug (src/store/batches.ts, insertTask at line 78): batch items and reduce tasks are inserted
  // without an id, so SQLite numbers them max(rowid) + 1 and ignores the floor a purge raised.
  it('never reuses an id after a purge for a batch item', async () => {
    const [a] = await s().insert([task('a', T0)]);
    await s().cancel(a!.id, T0 + 1);
    expect(await s().purge(T0 + 2)).toBe(1);
    const batch = await s().insertBatch({ name: 'item', key: null, createdMs: T0, dueMs: T0, reduce: null }, [task('item', T0)]);
    const [item] = await s().batchItems(batch.id, 0, 10);
    expect(item!.taskId).toBeGreaterThan(a!.id);
  });

  it('never reuses an id after a purge for a reduce task', async () => {
    const [a] = await s().insert([task('a', T0)]);
    await s().cancel(a!.id, T0 + 1);
    expect(await s().purge(T0 + 2)).toBe(1);
    const reduce = { name: 'r', retries: null, backoffMs: null, timeoutMs: null };
    const batch = await s().insertBatch({ name: 'e', key: null, createdMs: T0, dueMs: T0, reduce }, []);
    expect((await s().getBatch(batch.id))!.reduceTaskId).toBeGreaterThan(a!.id);
  });

  it('lists by state and name, up to a limit', async () => {
    await s().insert([task('a', T0), task('a', T0), task('b', T0)]);
    const done = await inState(s(), 'succeeded', 'c');
    expect((await s().list({ name: 'a' })).map((r) => r.name)).toEqual(['a', 'a']);
    expect((await s().list({ state: 'succeeded' })).map((r) => r.id)).toEqual([done]);
    expect((await s().list({ state: 'scheduled', name: 'a' })).length).toBe(2);
    expect(await s().list({ state: 'running' })).toEqual([]);
    expect((await s().list({ limit: 2 })).length).toBe(2);
    expect((await s().list({})).length).toBe(4);
  });
}
