/** cancel, reschedule and retry in each state: the one they apply to, and the row unchanged otherwise. */
import { expect, it } from 'vitest';
import { claim, expectCode, inState, S0, T0, task, type StoreRef } from './fixtures.js';
import { TASK_STATES, type TaskState } from '../../src/store/types.js';

const others = (allowed: TaskState) => TASK_STATES.filter((s) => s !== allowed);

export function adminCases(s: StoreRef): void {
  it('cancels a scheduled task, once', async () => {
    const id = await inState(s(), 'scheduled');
    expect(await s().cancel(id, T0 + 42)).toMatchObject({ id, state: 'cancelled', finishedMs: T0 + 42, owner: null });
    expect(await s().get(id)).toMatchObject({ state: 'cancelled', finishedMs: T0 + 42 });
    expect(await claim(s(), 'A', ['in-scheduled'])).toEqual([]);
    await expectCode(() => s().cancel(id, T0 + 43), 'E_BAD_STATE');
    expect((await s().get(id))?.finishedMs).toBe(T0 + 42);
  });

  it('reschedules a scheduled task, earlier or later: claimed at its new second, not before', async () => {
    const [t] = await s().insert([task('a', T0 + 10_000)]);
    const id = t!.id;
    expect(await s().reschedule(id, T0 + 60_250)).toMatchObject({ id, state: 'scheduled', dueMs: T0 + 60_250 });
    expect(await claim(s(), 'A', ['a'], S0 + 59)).toEqual([]);
    await s().reschedule(id, T0 + 5000);
    expect(await claim(s(), 'A', ['a'], S0 + 4)).toEqual([]);
    expect(await claim(s(), 'A', ['a'], S0 + 5)).toMatchObject([{ id, dueMs: T0 + 5000 }]);
  });

  it('retries a failed task at the given time: scheduled again, and claimed for one more attempt', async () => {
    const id = await inState(s(), 'failed');
    const row = await s().retry(id, T0 + 30_000);
    expect(row).toMatchObject({ id, state: 'scheduled', dueMs: T0 + 30_000, owner: null, finishedMs: null, attempts: 1 });
    expect(await claim(s(), 'A', ['in-failed'], S0 + 29)).toEqual([]);
    expect(await claim(s(), 'A', ['in-failed'], S0 + 30)).toMatchObject([{ id, attempts: 1 }]);
  });

  it('refuses to retry a failed task whose key an unfinished task holds now (E_BAD_STATE, unchanged)', async () => {
    const id = await inState(s(), 'failed', 'keyed');
    const [holder] = await s().insert([task('keyed', T0 + 1000, { key: 'key-keyed' })]);
    expect(holder!.created).toBe(true);
    const before = await s().get(id);
    await expectCode(() => s().retry(id, T0), 'E_BAD_STATE');
    expect(await s().get(id)).toEqual(before);
  });

  for (const [verb, allowed] of [['cancel', 'scheduled'], ['reschedule', 'scheduled'], ['retry', 'failed']] as const) {
    it(`refuses to ${verb} a task in any state but ${allowed} (E_BAD_STATE, row unchanged), or a missing one (E_NOT_FOUND)`, async () => {
      const apply = (id: number) =>
        verb === 'cancel' ? s().cancel(id, T0 + 99) : verb === 'reschedule' ? s().reschedule(id, T0 + 99_000) : s().retry(id, T0 + 99_000);
      for (const state of others(allowed)) {
        const id = await inState(s(), state);
        const before = await s().get(id);
        await expectCode(() => apply(id), 'E_BAD_STATE');
        expect(await s().get(id)).toEqual(before);
      }
      const stats = await s().stats();
      await expectCode(() => apply(10_000), 'E_NOT_FOUND');
      expect(await s().stats()).toEqual(stats);
    });
  }
}
