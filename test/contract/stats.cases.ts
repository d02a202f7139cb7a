/** stats(), and the error codes a backend produces for bad values: nothing applied. */
import { expect, it } from 'vitest';
import { claim, DAY_MS, expectCode, inState, retryAt, S0, started, T0, task, type StoreRef } from './fixtures.js';

export function statsCases(s: StoreRef): void {
  it('counts an empty store as empty', async () => {
    expect(await s().stats()).toMatchObject({
      counts: { scheduled: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 }, cursor: null, nextDueMs: null, scheduledByName: {},
    });
  });

  it('counts tasks by state and scheduled ones by name; knows the cursor and the next due time', async () => {
    await s().insert([task('a', T0 + 5000), task('a', T0 + 2 * DAY_MS), task('b', T0 + 3 * DAY_MS)]);
    await s().insert([task('b', T0 + 900)]);
    expect((await s().stats()).nextDueMs).toBe(T0 + 900);
    expect((await claim(s(), 'A', ['b'], S0 + 1)).length).toBe(1);
    // These claim up to far ahead: the cursor is checked on its own below.
    let n = 0;
    for (const state of ['succeeded', 'failed', 'cancelled', 'cancelled'] as const) await inState(s(), state, `st-${n++}`);
    expect(await s().stats()).toMatchObject({
      counts: { scheduled: 3, running: 1, succeeded: 1, failed: 1, cancelled: 2 },
      nextDueMs: T0 + 5000, scheduledByName: { a: 2, b: 1 },
    });
    await claim(s(), 'A', ['a'], S0 + 5);
    expect(await s().stats()).toMatchObject({ nextDueMs: T0 + 2 * DAY_MS, scheduledByName: { a: 1, b: 1 } });
  });

  it('reports the cursor of the last claim', async () => {
    await s().insert([task('a', T0 + 5000)]);
    await claim(s(), 'A', ['a'], S0 + 1);
    expect((await s().stats()).cursor).toBe(S0 + 1);
    await claim(s(), 'A', ['a'], S0 + 7);
    expect(await s().stats()).toMatchObject({ cursor: S0 + 7, counts: { running: 1, scheduled: 0 }, nextDueMs: null });
  });

  it('finds the next due time among many tasks far ahead (bulk inserted)', async () => {
    await s().insert(Array.from({ length: 100 }, (_, i) => task('far', T0 + 30 * DAY_MS - i * 1000)));
    expect(await s().stats()).toMatchObject({ nextDueMs: T0 + 30 * DAY_MS - 99_000, scheduledByName: { far: 100 } });
  });

  it('refuses a non-finite time with E_BAD_OPTION and applies nothing of the call', async () => {
    await expectCode(() => s().insert([task('a', T0), task('a', Number.NaN)]), 'E_BAD_OPTION');
    await expectCode(() => s().insert([task('a', Number.POSITIVE_INFINITY)]), 'E_BAD_OPTION');
    await expectCode(() => s().insert([task('a', T0, { key: 'k' }), task('a', Number.NaN, { key: 'j' })]), 'E_BAD_OPTION');
    await expectCode(
      () => s().insertBatch({ name: 'i', key: null, createdMs: T0, dueMs: T0, reduce: null }, [task('i', T0), task('i', Number.NaN)]),
      'E_BAD_OPTION',
    );
    expect((await s().stats()).counts.scheduled).toBe(0);
    expect(await s().list({})).toEqual([]);
    const [t] = await s().insert([task('a', T0)]);
    const id = t!.id;
    await claim(s(), 'A', ['a']);
    await expectCode(() => s().record([started(id, 'A', 1), retryAt(id, 'A', 1, Number.NaN)]), 'E_BAD_OPTION');
    await expectCode(() => s().record([started(id, 'A', 1, Number.NaN)]), 'E_BAD_OPTION');
    expect(await s().get(id)).toMatchObject({ state: 'running', attempts: 0, startedMs: null });
    expect((await s().record([started(id, 'A', 1)])).applied).toEqual([true]);
    const waiting = await inState(s(), 'scheduled', 'w');
    await expectCode(() => s().reschedule(waiting, Number.NaN), 'E_BAD_OPTION');
    expect((await s().get(waiting))?.dueMs).toBe(T0);
    const failedId = await inState(s(), 'failed', 'f');
    await expectCode(() => s().retry(failedId, Number.POSITIVE_INFINITY), 'E_BAD_OPTION');
    expect((await s().get(failedId))?.state).toBe('failed');
  });
}

