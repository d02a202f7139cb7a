/** record(): the fence of starts and ends, the order of applied, retries, errors kept. */
import { expect, it } from 'vitest';
import { claim, error, failed, retryAt, S0, started, startOne, succeeded, T0, task, type StoreRef } from './fixtures.js';

export function recordCases(s: StoreRef): void {
  it('starts an attempt only for its owner and attempt number; its owner writing it again changes nothing', async () => {
    const [t] = await s().insert([task('a', T0)]);
    const [c] = await claim(s(), 'A', ['a']);
    expect(c).toMatchObject({ id: t!.id, attempts: 0, cutOffs: 0 });
    const result = await s().record([started(t!.id, 'B', 1), started(t!.id, 'A', 2), started(t!.id, 'A', 1, T0 + 7), started(t!.id, 'A', 1, T0 + 9)]);
    expect(result).toEqual({ applied: [false, false, true, true], earliestDueMs: null });
    expect(await s().get(t!.id)).toMatchObject({ state: 'running', owner: 'A', attempts: 1, cutOffs: 0, startedMs: T0 + 7 });
    // Not another owner's, nor the next attempt while this one is open.
    expect((await s().record([started(t!.id, 'B', 1), started(t!.id, 'A', 2)])).applied).toEqual([false, false]);
    expect(await s().record([])).toEqual({ applied: [], earliestDueMs: null });
  });

  it('refuses a start for a task put back meanwhile, then cancelled, rescheduled or claimed by another', async () => {
    const tasks = await s().insert([task('a', T0), task('b', T0), task('c', T0)]);
    const [a, b, c] = tasks.map((t) => t.id) as [number, number, number];
    expect((await claim(s(), 'A', ['a', 'b', 'c'])).length).toBe(3);
    expect(await s().release('A')).toBe(3);
    await s().cancel(a, T0 + 3);
    await s().reschedule(b, T0 + 60_000);
    expect((await claim(s(), 'B', ['c'])).map((t) => t.id)).toEqual([c]);
    const result = await s().record([started(a, 'A', 1), started(b, 'A', 1), started(c, 'A', 1)]);
    expect(result.applied).toEqual([false, false, false]);
    expect(await s().get(a)).toMatchObject({ state: 'cancelled', attempts: 0, startedMs: null });
    expect(await s().get(b)).toMatchObject({ state: 'scheduled', attempts: 0, owner: null, dueMs: T0 + 60_000 });
    expect(await s().get(c)).toMatchObject({ state: 'running', attempts: 0, owner: 'B' });
  });

  it('ends an attempt only once it started, by its owner, and not a stale (cut-off) attempt', async () => {
    const [t] = await s().insert([task('a', T0)]);
    const id = t!.id;
    await claim(s(), 'A', ['a']);
    expect((await s().record([succeeded(id, 'A', 1), failed(id, 'A', 1)])).applied).toEqual([false, false]);
    expect(await s().get(id)).toMatchObject({ state: 'running', attempts: 0, result: null, errors: [] });
    expect((await s().record([started(id, 'A', 1)])).applied).toEqual([true]);
    expect((await s().record([succeeded(id, 'B', 1), retryAt(id, 'B', 1, T0)])).applied).toEqual([false, false]);
    expect(await s().release('A')).toBe(1);
    const [again] = await claim(s(), 'A', ['a']);
    expect(again).toMatchObject({ id, attempts: 1, cutOffs: 1 });
    // Attempt 1 was cut off: its late outcome is refused, before and after attempt 2 starts.
    expect((await s().record([succeeded(id, 'A', 1, '"late"')])).applied).toEqual([false]);
    expect((await s().record([started(id, 'A', 2), succeeded(id, 'A', 1, '"late"'), succeeded(id, 'A', 2, '"on time"', T0 + 9)])).applied)
      .toEqual([true, false, true]);
    expect(await s().get(id)).toMatchObject({ state: 'succeeded', attempts: 2, cutOffs: 1, result: '"on time"', finishedMs: T0 + 9 });
    // Written again by its owner (an answer lost): the success applies and changes nothing; a
    // failure of that attempt does not, nor another owner's or attempt's success.
    expect((await s().record([succeeded(id, 'A', 2, '"again"', T0 + 20), failed(id, 'A', 2), succeeded(id, 'B', 2), succeeded(id, 'A', 1)])).applied)
      .toEqual([true, false, false, false]);
    expect(await s().get(id)).toMatchObject({ state: 'succeeded', attempts: 2, result: '"on time"', finishedMs: T0 + 9, errors: [] });
  });

  it('counts a final failure or a retry written again by its owner as applied, changing nothing', async () => {
    const [t, u] = await s().insert([task('a', T0), task('b', T0)]);
    await claim(s(), 'A', ['a', 'b']);
    expect((await s().record([started(t!.id, 'A', 1), started(u!.id, 'A', 1)])).applied).toEqual([true, true]);
    expect((await s().record([failed(t!.id, 'A', 1), retryAt(u!.id, 'A', 1, T0 + 60_000)])).applied).toEqual([true, true]);
    const failedRow = await s().get(t!.id);
    const retried = await s().get(u!.id);
    // The same retry again applies; one to another time, or of that attempt at another moment, does not.
    expect((await s().record([
      failed(t!.id, 'A', 1), succeeded(t!.id, 'A', 1), retryAt(u!.id, 'A', 1, T0 + 60_000), retryAt(u!.id, 'A', 1, T0 + 90_000),
      retryAt(u!.id, 'A', 1, T0 + 60_000, undefined, T0 + 3), retryAt(u!.id, 'A', 2, T0 + 60_000),
    ])).applied).toEqual([true, false, true, false, false, false]);
    expect(await s().get(t!.id)).toEqual(failedRow);
    expect(await s().get(u!.id)).toEqual(retried);
    expect(failedRow).toMatchObject({ state: 'failed', attempts: 1 });
    expect(retried).toMatchObject({ state: 'scheduled', dueMs: T0 + 60_000, attempts: 1 });
    expect(retried!.errors).toHaveLength(1);
    // Once claimed again, it no longer waits for that retry: written again, it is refused.
    await claim(s(), 'B', ['b']);
    expect((await s().record([retryAt(u!.id, 'A', 1, T0 + 60_000)])).applied).toEqual([false]);
  });

  it('says per outcome, in order, whether it applied, and the earliest due time it scheduled', async () => {
    const tasks = await s().insert([task('x', T0), task('y', T0), task('z', T0)]);
    const [x, y, z] = tasks.map((t) => t.id) as [number, number, number];
    await claim(s(), 'A', ['x', 'y', 'z']);
    const result = await s().record([
      started(x, 'A', 1), started(y, 'A', 1), retryAt(x, 'A', 1, T0 + 5000), succeeded(z, 'A', 1), retryAt(y, 'A', 1, T0 + 3000),
      retryAt(z, 'A', 1, T0 + 1000),
    ]);
    expect(result).toEqual({ applied: [true, true, true, false, true, false], earliestDueMs: T0 + 3000 });
    expect((await s().record([started(z, 'A', 1), succeeded(z, 'A', 1)]))).toEqual({ applied: [true, true], earliestDueMs: null });
  });

  it('places a retry at its new due time: claimed at that second, not before, even behind the cursor', async () => {
    const [t] = await s().insert([task('a', T0)]);
    const id = t!.id;
    expect(await claim(s(), 'A', ['a'], S0)).toMatchObject([{ id }]);
    await s().record([started(id, 'A', 1)]);
    expect((await s().claim({ owner: 'A', uptoSecond: S0 + 20, limit: 10, names: ['a'] })).cursor).toBe(S0 + 20);
    expect((await s().record([retryAt(id, 'A', 1, T0 + 30_500, error('slow', 'E_TIMEOUT'))])).earliestDueMs).toBe(T0 + 30_500);
    expect(await s().get(id)).toMatchObject({ state: 'scheduled', owner: null, dueMs: T0 + 30_500, attempts: 1, cutOffs: 0, lastErrorCode: 'E_TIMEOUT' });
    expect(await claim(s(), 'B', ['a'], S0 + 29)).toEqual([]);
    expect(await claim(s(), 'B', ['a'], S0 + 30)).toMatchObject([{ id, attempts: 1, cutOffs: 0, dueMs: T0 + 30_500 }]);
    // A retry due behind the cursor is claimed by the next claim.
    expect((await s().record([started(id, 'B', 2), retryAt(id, 'B', 2, T0 + 5000)])).applied).toEqual([true, true]);
    expect(await claim(s(), 'B', ['a'], S0 + 31)).toMatchObject([{ id, attempts: 2, dueMs: T0 + 5000 }]);
  });

  it('keeps each failed attempt\'s ErrorInfo: code, message and stack, oldest first', async () => {
    const [t] = await s().insert([task('a', T0)]);
    const id = t!.id;
    await startOne(s(), 'A', 'a');
    const first = { code: 'E_TIMEOUT', message: 'took too long', stack: 'DelaydError: took too long\n    at x' };
    await s().record([retryAt(id, 'A', 1, T0 + 100, first, T0 + 50)]);
    await startOne(s(), 'A', 'a');
    const second = { code: null, message: 'plain', stack: 'plain' };
    expect((await s().record([failed(id, 'A', 2, second, T0 + 200)])).applied).toEqual([true]);
    expect(await s().get(id)).toMatchObject({
      state: 'failed', attempts: 2, finishedMs: T0 + 200, lastError: 'plain', lastErrorCode: null,
      errors: [
        { attempt: 1, atMs: T0 + 50, code: 'E_TIMEOUT', message: 'took too long', stack: first.stack, error: first.stack },
        { attempt: 2, atMs: T0 + 200, code: null, message: 'plain', stack: 'plain', error: 'plain' },
      ],
    });
    expect((await s().get(id))!.errors).toHaveLength(2);
  });
}
