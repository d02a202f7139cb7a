/** The dashboard's reads (Overview): slot load over a window, recent batches, and list paging. */
import { expect, it } from 'vitest';
import { SLOT_LOAD_MAX_SECONDS } from '../../src/store/contract.js';
import { claim, DAY_MS, expectCode, S0, T0, task, type StoreRef } from './fixtures.js';

export function loadCases(s: StoreRef): void {
  it('counts scheduled tasks per due second in the window, both ends included, only seconds that have some', async () => {
    await s().insert([task('a', T0 + 10), task('b', T0 + 900), task('a', T0 + 5000), task('a', T0 + 5999), task('a', T0 + 3_600_000)]);
    await s().insert([task('c', T0 + 7_199_000), task('a', T0 + 7_200_000), task('a', T0 - 1000)]);
    expect(await s().slotLoad(S0, S0 + 7199)).toEqual([
      { second: S0, count: 2 },
      { second: S0 + 5, count: 2 },
      { second: S0 + 3600, count: 1 },
      { second: S0 + 7199, count: 1 },
    ]);
    expect(await s().slotLoad(S0 + 5, S0 + 5)).toEqual([{ second: S0 + 5, count: 2 }]);
    expect(await s().slotLoad(S0 - 1, S0 - 1)).toEqual([{ second: S0 - 1, count: 1 }]);
    expect(await s().slotLoad(S0 + 6, S0 + 3599)).toEqual([]);
  });

  it('counts only scheduled tasks: claimed and cancelled ones leave the load', async () => {
    const [x, y] = await s().insert([task('a', T0 + 2000), task('b', T0 + 2000), task('b', T0 + 3000)]);
    await s().cancel(x!.id, T0);
    expect(await s().slotLoad(S0, S0 + 10)).toEqual([{ second: S0 + 2, count: 1 }, { second: S0 + 3, count: 1 }]);
    expect((await claim(s(), 'A', ['b'], S0 + 2)).map((t) => t.id)).toEqual([y!.id]);
    expect(await s().slotLoad(S0, S0 + 10)).toEqual([{ second: S0 + 3, count: 1 }]);
  });

  it('counts tasks of a bulk insert far ahead, whatever the backend keeps them in', async () => {
    await s().insert(Array.from({ length: 50 }, (_, i) => task('far', T0 + 3 * DAY_MS + (i % 5) * 1000)));
    const from = S0 + 3 * 86_400;
    expect(await s().slotLoad(from, from + 7199)).toEqual([0, 1, 2, 3, 4].map((i) => ({ second: from + i, count: 10 })));
  });

  it('refuses a reversed, fractional or too wide window with E_BAD_OPTION', async () => {
    await expectCode(() => s().slotLoad(S0 + 1, S0), 'E_BAD_OPTION');
    await expectCode(() => s().slotLoad(S0, S0 + 0.5), 'E_BAD_OPTION');
    await expectCode(() => s().slotLoad(S0, S0 + SLOT_LOAD_MAX_SECONDS), 'E_BAD_OPTION');
    expect(await s().slotLoad(S0, S0 + SLOT_LOAD_MAX_SECONDS - 1)).toEqual([]);
  });

  it('lists recent batches newest first, at most the limit', async () => {
    const batch = (key: string) => ({ name: 'i', key, createdMs: T0, dueMs: T0, reduce: null });
    const a = await s().insertBatch(batch('a'), [task('i', T0), task('i', T0)]);
    const b = await s().insertBatch(batch('b'), [task('i', T0)]);
    expect(await s().recentBatches(10)).toMatchObject([{ id: b.id, total: 1, done: 0, key: 'b' }, { id: a.id, total: 2, ok: 0, key: 'a' }]);
    expect((await s().recentBatches(1)).map((r) => r.id)).toEqual([b.id]);
    await expectCode(() => s().recentBatches(0), 'E_BAD_OPTION');
    await expectCode(() => s().recentBatches(101), 'E_BAD_OPTION');
  });

  it('pages a list by the last id of the page before', async () => {
    const ids = (await s().insert(Array.from({ length: 5 }, (_, i) => task(i % 2 ? 'odd' : 'even', T0)))).map((t) => t.id);
    const first = await s().list({ limit: 2 });
    expect(first.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = await s().list({ limit: 2, beforeId: first[1]!.id });
    expect(second.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect((await s().list({ limit: 2, beforeId: ids[1] })).map((r) => r.id)).toEqual([ids[0]]);
    expect((await s().list({ name: 'even', beforeId: ids[4] })).map((r) => r.id)).toEqual([ids[2], ids[0]]);
  });
}
