/**
 * The bitmaps under the Batch handle: bit math across chunk boundaries, and the store folding
 * outcomes into chunks in group-committed transactions, with counters equal to popcounts.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_BITS, chunkBytes, indicesWith, popcount, putBit, statusIn, type Chunk } from '../src/bits.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { NewTask, Outcome } from '../src/store/types.js';
import { scenarios } from './helpers.js';

const { defer } = scenarios();
const T = Date.parse('2030-01-01T09:00:00Z');

describe('bit math', () => {
  it('lists succeeded, failed and pending items across chunks, the last one partial', async () => {
    const total = CHUNK_BITS * 2 + 10;
    const chunks: Chunk[] = [0, 1, 2].map((c) => ({ chunk: c, done: new Uint8Array(chunkBytes(total, c)), ok: new Uint8Array(chunkBytes(total, c)) }));
    const set = (i: number, ok: boolean) => {
      const chunk = chunks[Math.floor(i / CHUNK_BITS)]!;
      putBit(chunk.done, i % CHUNK_BITS, true);
      putBit(chunk.ok, i % CHUNK_BITS, ok);
    };
    const succeeded = [0, 7, 8, CHUNK_BITS - 1, CHUNK_BITS, total - 1];
    const failed = [1, CHUNK_BITS + 9, total - 2];
    for (const i of succeeded) set(i, true);
    for (const i of failed) set(i, false);
    expect(chunkBytes(total, 2)).toBe(2);
    expect(indicesWith(chunks, total, 'succeeded')).toEqual(succeeded);
    expect(indicesWith(chunks, total, 'failed')).toEqual(failed);
    const pending = indicesWith(chunks, total, 'pending');
    expect(pending).toHaveLength(total - succeeded.length - failed.length);
    expect(pending[pending.length - 1]).toBe(total - 3);
    // A missing chunk is all pending; bits past the total are never listed.
    expect(indicesWith([chunks[0]!], total, 'pending')).toContain(CHUNK_BITS + 9);
    expect(statusIn(chunks[1], CHUNK_BITS + 9)).toBe('failed');
    expect(statusIn(undefined, 5)).toBe('pending');
    expect(popcount(Uint8Array.from([0xff, 0x01, 0x80]))).toBe(10);
  });
});

function items(count: number): NewTask[] {
  return Array.from({ length: count }, (_, i) => ({
    name: 'item',
    args: `[${i}]`,
    dueMs: T,
    createdMs: T,
    key: null,
    retries: 1,
    backoffMs: 1000,
    timeoutMs: null,
  }));
}

describe('the store folds outcomes into chunked bitmaps', () => {
  it('10,000 items in group commits: counters equal popcounts, the reduce is inserted once, replays change nothing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    defer(() => store.close());
    const N = 10_000;
    const reduce = { name: 'reduce', retries: 2, backoffMs: 500, timeoutMs: 30_000 };
    const { id } = await store.insertBatch({ name: 'item', key: null, createdMs: T, dueMs: T, reduce }, items(N));
    const claimed = (await store.claim({ owner: 'a', uptoSecond: T / 1000, limit: N, names: ['item'] })).tasks;
    await store.record(claimed.map((t) => ({ kind: 'started', id: t.id, owner: 'a', attempt: 1, atMs: T }) as Outcome));
    expect(claimed).toHaveLength(N);
    const taskIdOf = new Map<number, number>([...(await store.batchItems(id, 0, N))].map((r) => [r.index, r.taskId]));

    // Every 7th item fails for good, every 5th is first told to retry (no bit), the rest succeed.
    const outcomes: Outcome[] = [];
    for (let i = 0; i < N; i++) {
      const base = { id: taskIdOf.get(i)!, owner: 'a', attempt: 1, atMs: T + i };
      if (i % 5 === 0 && i % 7 !== 0) outcomes.push({ kind: 'retry', ...base, error: { code: null, message: 'later', stack: 'later' }, dueMs: T + 60_000 });
      else if (i % 7 === 0) outcomes.push({ kind: 'failed', ...base, error: { code: 'E_NO', message: 'no', stack: 'no' } });
      else outcomes.push({ kind: 'succeeded', ...base, result: String(i) });
    }
    const earliest: (number | null)[] = [];
    for (let i = 0; i < N; i += 500) earliest.push((await store.record(outcomes.slice(i, i + 500))).earliestDueMs);
    expect(earliest.every((e) => e === T + 60_000)).toBe(true);
    const retried = outcomes.filter((o) => o.kind === 'retry').length;
    let row = (await store.getBatch(id))!;
    expect(row.done).toBe(N - retried);
    expect(row.reduceTaskId).toBeNull();

    // The retried items run again and succeed; the last group completes the batch.
    const again = (await store.claim({ owner: 'b', uptoSecond: T / 1000 + 60, limit: N, names: ['item'] })).tasks;
    expect(again).toHaveLength(retried);
    const o = { owner: 'b', attempt: 2, atMs: T + 70_000 };
    await store.record(again.map((t) => ({ kind: 'started', id: t.id, ...o }) as Outcome));
    // The call that sets the last done bit reports the reduce task's due time.
    const last = await store.record(again.map((t) => ({ kind: 'succeeded', id: t.id, ...o, result: null }) as Outcome));
    expect(last.earliestDueMs).toBe(T + 70_000);
    row = (await store.getBatch(id))!;
    const failures = Math.ceil(N / 7);
    expect(row).toMatchObject({ total: N, done: N, ok: N - failures, finishedMs: T + 70_000 });
    expect(row.reduceTaskId).not.toBeNull();
    expect(await store.get(row.reduceTaskId!)).toMatchObject({ name: 'reduce', args: `[${id}]`, dueMs: T + 70_000, retries: 2, backoffMs: 500, timeoutMs: 30_000 });

    const chunks = await store.batchChunks(id);
    expect(chunks.map((c) => c.chunk)).toEqual([0, 1, 2]);
    expect(chunks.reduce((n, c) => n + c.done.length + c.ok.length, 0)).toBe(2 * Math.ceil(N / 8));
    expect(chunks.reduce((n, c) => n + popcount(c.done), 0)).toBe(row.done);
    expect(chunks.reduce((n, c) => n + popcount(c.ok), 0)).toBe(row.ok);
    expect(indicesWith(chunks, N, 'failed')).toEqual(Array.from({ length: failures }, (_, k) => k * 7));

    // Replaying every outcome (a duplicate flush, an owner that lost its tasks) changes nothing.
    for (let i = 0; i < N; i += 500) await store.record(outcomes.slice(i, i + 500));
    expect(await store.getBatch(id)).toEqual(row);
    expect(await store.list({ name: 'reduce' })).toHaveLength(1);
    // Putting back running tasks changes no bit either.
    expect(await store.release('a')).toBe(0);
    expect(await store.getBatch(id)).toEqual(row);

    // While the reduce is still to run, purge keeps the items it will read; after, it takes them.
    const later = T + 86_400_000;
    expect(await store.purge(later)).toBe(0);
    const [reduceTask] = (await store.claim({ owner: 'c', uptoSecond: later / 1000, limit: 10, names: ['reduce'] })).tasks;
    expect(reduceTask!.id).toBe(row.reduceTaskId);
    expect(await store.purge(later)).toBe(0);
    expect(await store.getBatch(id)).toEqual(row);
    const r = { id: reduceTask!.id, owner: 'c', attempt: 1, atMs: T + 80_000 };
    await store.record([{ kind: 'started', ...r }, { kind: 'succeeded', ...r, result: null }]);
    // Once the reduce has run, the items, the reduce and the batch row with its bitmaps go.
    expect(await store.purge(later)).toBe(N + 1);
    expect(await store.getBatch(id)).toBeUndefined();
    expect(await store.batchChunks(id)).toEqual([]);
  });
});
