/** purge(): only finished tasks older than the cutoff; batch items kept until their reduce ran. */
import { expect, it } from 'vitest';
import { claim, DAY_MS, failed, ids, inState, started, startOne, succeeded, T0, task, type StoreRef } from './fixtures.js';

export function purgeCases(s: StoreRef): void {
  it('deletes only finished tasks that finished before the cutoff', async () => {
    const tasks = await s().insert([task('ok', T0), task('bad', T0), task('gone', T0), task('wait', T0), task('run', T0)]);
    const [ok, bad, gone, wait, run] = ids(tasks) as [number, number, number, number, number];
    await claim(s(), 'A', ['ok', 'bad', 'run']);
    await s().record([started(ok, 'A', 1), started(bad, 'A', 1), started(run, 'A', 1)]);
    await s().record([succeeded(ok, 'A', 1, null, T0 + 1000), failed(bad, 'A', 1, undefined, T0 + 2000)]);
    await s().cancel(gone, T0 + 3000);
    expect(await s().purge(T0 + 1000)).toBe(0);
    expect(await s().purge(T0 + 2000)).toBe(1);
    expect(await s().get(ok)).toBeUndefined();
    expect((await s().get(bad))?.state).toBe('failed');
    expect(await s().purge(T0 + DAY_MS)).toBe(2);
    expect([await s().get(bad), await s().get(gone)]).toEqual([undefined, undefined]);
    expect((await s().get(wait))?.state).toBe('scheduled');
    expect((await s().get(run))?.state).toBe('running');
    expect(await s().purge(T0 + DAY_MS)).toBe(0);
  });

  it('keeps a finished batch\'s items until its reduce has run, then purges items, reduce and batch', async () => {
    const reduce = { name: 'sum', retries: null, backoffMs: null, timeoutMs: null };
    const batch = await s().insertBatch({ name: 'item', key: null, createdMs: T0, dueMs: T0, reduce }, [task('item', T0), task('item', T0)]);
    const items = ids(await claim(s(), 'A', ['item']));
    await s().record(items.flatMap((id) => [started(id, 'A', 1), succeeded(id, 'A', 1, '1', T0 + 10)]));
    const reduceId = (await s().getBatch(batch.id))!.reduceTaskId!;
    expect((await s().get(reduceId))?.state).toBe('scheduled');
    expect(await s().purge(T0 + DAY_MS)).toBe(0);
    await startOne(s(), 'A', 'sum');
    expect(await s().purge(T0 + DAY_MS)).toBe(0);
    expect((await s().batchItems(batch.id, 0, 10)).map((i) => i.state)).toEqual(['succeeded', 'succeeded']);
    await s().record([succeeded(reduceId, 'A', 1, '2', T0 + 20)]);
    expect(await s().purge(T0 + DAY_MS)).toBe(3);
    expect(await s().getBatch(batch.id)).toBeUndefined();
    expect(await s().batchItems(batch.id, 0, 10)).toEqual([]);
    expect(await s().batchChunks(batch.id)).toEqual([]);
  });

  it('purges a finished batch without reduce with its items; of an unfinished one, only finished items', async () => {
    const done = await s().insertBatch({ name: 'x', key: null, createdMs: T0, dueMs: T0, reduce: null }, [task('x', T0)]);
    const open = await s().insertBatch({ name: 'y', key: null, createdMs: T0, dueMs: T0, reduce: null }, [task('y', T0), task('y', T0)]);
    const [item] = await s().batchItems(done.id, 0, 1);
    await s().cancel(item!.taskId, T0 + 5);
    const [first] = await s().batchItems(open.id, 0, 1);
    await s().cancel(first!.taskId, T0 + 5);
    expect(await s().purge(T0 + DAY_MS)).toBe(2);
    expect(await s().getBatch(done.id)).toBeUndefined();
    expect(await s().batchChunks(done.id)).toEqual([]);
    // No reduce reads them: the batch keeps the outcome in its bitmaps, the row may go.
    expect(await s().getBatch(open.id)).toMatchObject({ total: 2, done: 1, ok: 0, finishedMs: null });
    expect((await s().batchItems(open.id, 0, 10)).map((i) => i.index)).toEqual([1]);
    await inState(s(), 'succeeded', 'plain');
    expect(await s().purge(T0 + DAY_MS)).toBe(1);
  });
}
