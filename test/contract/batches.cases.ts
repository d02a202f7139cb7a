/** Batches: items, bitmaps, paging, the reduce inserted exactly once, keys. */
import { expect, it } from 'vitest';
import { CHUNK_BITS, statusIn, type Chunk } from '../../src/bits.js';
import type { NewBatch, Store } from '../../src/store/types.js';
import { claim, DAY_MS, failed, ids, started, succeeded, T0, task, type StoreRef } from './fixtures.js';

const REDUCE = { name: 'sum', retries: 2, backoffMs: 50, timeoutMs: null };
const batchOf = (name: string, extra: Partial<NewBatch> = {}): NewBatch => ({ name, key: null, createdMs: T0, dueMs: T0, reduce: REDUCE, ...extra });

async function statuses(store: Store, id: number, total: number): Promise<string[]> {
  const chunks = await store.batchChunks(id);
  const byNumber = new Map<number, Chunk>(chunks.map((c) => [c.chunk, c]));
  return Array.from({ length: total }, (_, i) => statusIn(byNumber.get(Math.floor(i / CHUNK_BITS)), i));
}

export function batchCases(s: StoreRef): void {
  it('inserts a batch with its items, in order, under the batch\'s name', async () => {
    const items = [task('ignored', T0, { args: '[0]' }), task('ignored', T0 + 1000, { args: '[1]', retries: 4 }), task('x', T0, { args: '[2]' })];
    const batch = await s().insertBatch(batchOf('item', { createdMs: T0 - 1 }), items);
    expect(batch).toMatchObject({ total: 3, created: true });
    expect(await s().getBatch(batch.id)).toEqual({
      id: batch.id, name: 'item', total: 3, done: 0, ok: 0, key: null, reduceName: 'sum', reduceTaskId: null, createdMs: T0 - 1, finishedMs: null,
    });
    const rows = await s().batchItems(batch.id, 0, 10);
    expect(rows.map((r) => [r.index, r.state, r.result, r.lastError, r.lastErrorCode])).toEqual([0, 1, 2].map((i) => [i, 'scheduled', null, null, null]));
    const tasks = await Promise.all(rows.map(async (r) => s().get(r.taskId)));
    expect(tasks.map((t) => [t?.name, t?.args, t?.dueMs, t?.retries])).toEqual([['item', '[0]', T0, null], ['item', '[1]', T0 + 1000, 4], ['item', '[2]', T0, null]]);
    expect(await statuses(s(), batch.id, 3)).toEqual(['pending', 'pending', 'pending']);
    expect(await s().getBatch(batch.id + 100)).toBeUndefined();
  });

  it('keeps each item\'s final outcome in the bitmaps, and inserts the reduce once the last is done', async () => {
    const batch = await s().insertBatch(batchOf('item'), [task('item', T0), task('item', T0), task('item', T0), task('item', T0)]);
    const [a, b, c, d] = (await s().batchItems(batch.id, 0, 4)).map((r) => r.taskId) as [number, number, number, number];
    await s().cancel(c, T0 + 1);
    expect(ids(await claim(s(), 'A', ['item']))).toEqual([a, b, d]);
    const first = await s().record([started(a, 'A', 1), started(b, 'A', 1), succeeded(a, 'A', 1, '"A"', T0 + 10), failed(b, 'A', 1, undefined, T0 + 20)]);
    expect(first).toEqual({ applied: [true, true, true, true], earliestDueMs: null });
    expect(await statuses(s(), batch.id, 4)).toEqual(['succeeded', 'failed', 'failed', 'pending']);
    expect(await s().getBatch(batch.id)).toMatchObject({ done: 3, ok: 1, reduceTaskId: null, finishedMs: null });
    // The last item's success, recorded twice in one call and once more later (as after a lost
    // answer): each counts as applied, the first alone changes anything: one reduce.
    const last = await s().record([started(d, 'A', 1), succeeded(d, 'A', 1, '"D"', T0 + 30), succeeded(d, 'A', 1, '"D"', T0 + 31)]);
    expect(last).toEqual({ applied: [true, true, true], earliestDueMs: T0 + 30 });
    expect((await s().record([succeeded(d, 'A', 1, '"D"', T0 + 40)]))).toEqual({ applied: [true], earliestDueMs: null });
    const row = await s().getBatch(batch.id);
    expect(row).toMatchObject({ done: 4, ok: 2, finishedMs: T0 + 30 });
    const reduces = await s().list({ name: 'sum' });
    expect(reduces.map((r) => r.id)).toEqual([row!.reduceTaskId]);
    expect(reduces[0]).toMatchObject({ state: 'scheduled', args: JSON.stringify([batch.id]), dueMs: T0 + 30, retries: 2, backoffMs: 50, timeoutMs: null });
    expect((await s().batchItems(batch.id, 0, 4)).map((r) => [r.state, r.result])).toEqual([
      ['succeeded', '"A"'], ['failed', null], ['cancelled', null], ['succeeded', '"D"'],
    ]);
  });

  it('inserts no second reduce when a failed item is retried after the batch finished', async () => {
    const batch = await s().insertBatch(batchOf('item'), [task('item', T0)]);
    const taskId = (await s().batchItems(batch.id, 0, 1))[0]!.taskId;
    await claim(s(), 'A', ['item']);
    await s().record([started(taskId, 'A', 1), failed(taskId, 'A', 1, undefined, T0 + 5)]);
    const reduceId = (await s().getBatch(batch.id))!.reduceTaskId;
    expect(reduceId).not.toBeNull();
    await s().retry(taskId, T0 + 100);
    expect(await statuses(s(), batch.id, 1)).toEqual(['failed']);
    await claim(s(), 'A', ['item']);
    const again = await s().record([started(taskId, 'A', 2), succeeded(taskId, 'A', 2, '1', T0 + 200)]);
    expect(again).toEqual({ applied: [true, true], earliestDueMs: null });
    expect(await statuses(s(), batch.id, 1)).toEqual(['succeeded']);
    expect(await s().getBatch(batch.id)).toMatchObject({ done: 1, ok: 1, reduceTaskId: reduceId, finishedMs: T0 + 5 });
    expect((await s().list({ name: 'sum' })).length).toBe(1);
  });

  it('schedules the reduce of an empty batch at the batch\'s due time', async () => {
    const batch = await s().insertBatch(batchOf('none', { dueMs: T0 + DAY_MS }), []);
    expect(batch).toMatchObject({ total: 0, created: true });
    const row = await s().getBatch(batch.id);
    expect(row).toMatchObject({ total: 0, done: 0, ok: 0 });
    expect(await s().get(row!.reduceTaskId!)).toMatchObject({ name: 'sum', args: `[${batch.id}]`, dueMs: T0 + DAY_MS, state: 'scheduled' });
  });

  it('pages items by index, and reads one bitmap chunk of a batch past the first chunk', async () => {
    const total = CHUNK_BITS + 5;
    const batch = await s().insertBatch(batchOf('many', { reduce: null }), Array.from({ length: total }, () => task('many', T0)));
    expect((await s().batchItems(batch.id, 3, 4)).map((r) => r.index)).toEqual([3, 4, 5, 6]);
    expect((await s().batchItems(batch.id, total - 2, 10)).map((r) => r.index)).toEqual([total - 2, total - 1]);
    expect(await s().batchItems(batch.id, total, 10)).toEqual([]);
    const [item] = await s().batchItems(batch.id, CHUNK_BITS + 1, 1);
    await s().cancel(item!.taskId, T0 + 1);
    const [one] = await s().batchChunks(batch.id, 1);
    expect(one!.chunk).toBe(1);
    expect([0, 1, 2].map((i) => statusIn(one, CHUNK_BITS + i))).toEqual(['pending', 'failed', 'pending']);
    const zero = await s().batchChunks(batch.id, 0);
    expect(Array.from({ length: 16 }, (_, i) => statusIn(zero[0], i)).every((x) => x === 'pending')).toBe(true);
    expect(await s().getBatch(batch.id)).toMatchObject({ total, done: 1, ok: 0 });
  });

  it('dedupes a batch by key while it is unfinished, and makes the key reusable after', async () => {
    const first = await s().insertBatch(batchOf('k', { key: 'B', reduce: null }), [task('k', T0)]);
    const again = await s().insertBatch(batchOf('k', { key: 'B', reduce: null }), [task('k', T0), task('k', T0)]);
    expect(again).toEqual({ id: first.id, total: 1, created: false });
    expect((await s().list({ name: 'k' })).length).toBe(1);
    const [item] = await s().batchItems(first.id, 0, 1);
    await s().cancel(item!.taskId, T0 + 1);
    const next = await s().insertBatch(batchOf('k', { key: 'B', reduce: null }), [task('k', T0), task('k', T0)]);
    expect(next.created).toBe(true);
    expect(next.id).toBeGreaterThan(first.id);
    expect(next.total).toBe(2);
  });
}
