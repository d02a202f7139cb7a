/**
 * purge() and batches (issue 10, point 6): a batch row and its bitmaps go with the batch once
 * every item and the reduce have finished before the cutoff; not while anything of it runs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome } from '../src/store/types.js';

const T = Date.parse('2030-01-01T09:00:00Z');
const DAY = 86_400_000;
let store: SqliteStore;
beforeEach(async () => {
  store = new SqliteStore({ path: ':memory:' });
});
afterEach(async () => store.close());

const item = (i: number): NewTask => ({ name: 'item', args: `[${i}]`, dueMs: T, createdMs: T, key: null, retries: null, backoffMs: null, timeoutMs: null });
const reduce = { name: 'reduce', retries: null, backoffMs: null, timeoutMs: null };

/** Runs every due task of these names once, to success or (for ids in `fail`) failure. */
async function runAll(names: string[], atMs: number, fail: number[] = []): Promise<void> {
  const { tasks } = await store.claim({ owner: 'o', uptoSecond: Math.floor(atMs / 1000), limit: 100, names });
  const outcomes = tasks.flatMap((t): Outcome[] => {
    const o = { id: t.id, owner: 'o', attempt: t.attempts + 1, atMs };
    const end: Outcome = fail.includes(t.id)
      ? { kind: 'failed', ...o, error: { code: null, message: 'no', stack: 'no' } }
      : { kind: 'succeeded', ...o, result: null };
    return [{ kind: 'started', ...o }, end];
  });
  await store.record(outcomes);
}

describe('purge of batches', () => {
  it('keeps a batch while its reduce or a retried item is unfinished, then deletes row and bitmaps', async () => {
    const { id } = await store.insertBatch({ name: 'item', key: null, createdMs: T, dueMs: T, reduce }, [item(0), item(1)]);
    const [first] = await store.batchItems(id, 0, 1);
    await runAll(['item'], T, [first!.taskId]);
    expect(await store.getBatch(id)).toMatchObject({ done: 2, ok: 1, finishedMs: T });
    expect(await store.purge(T + DAY)).toBe(0); // the reduce has not run
    expect(await store.getBatch(id)).toBeDefined();
    await runAll(['reduce'], T + 1000);
    await store.retry(first!.taskId, T + 2000); // the failed item runs again
    expect(await store.purge(T + DAY)).toBe(2); // the reduce and the other item; not the batch
    expect(await store.getBatch(id)).toBeDefined();
    expect(await store.batchChunks(id)).toHaveLength(1);
    await runAll(['item'], T + 2000);
    expect(await store.purge(T + 1000)).toBe(0); // finished after this cutoff
    expect(await store.purge(T + DAY)).toBe(1);
    expect(await store.getBatch(id)).toBeUndefined();
    expect(await store.batchChunks(id)).toEqual([]);
  });

  it('deletes an empty batch without a reduce, and a batch without a reduce once its items are done', async () => {
    const empty = await store.insertBatch({ name: 'item', key: null, createdMs: T, dueMs: T, reduce: null }, []);
    const full = await store.insertBatch({ name: 'item', key: 'k', createdMs: T, dueMs: T, reduce: null }, [item(0)]);
    expect(await store.purge(T + DAY)).toBe(0);
    expect(await store.getBatch(empty.id)).toBeUndefined();
    expect(await store.getBatch(full.id)).toBeDefined();
    await runAll(['item'], T);
    expect(await store.purge(T + DAY)).toBe(1);
    expect(await store.getBatch(full.id)).toBeUndefined();
    // Its key is free again, under a new id.
    expect(await store.insertBatch({ name: 'item', key: 'k', createdMs: T, dueMs: T, reduce: null }, [])).toMatchObject({ created: true, id: full.id + 1 });
  });
});
