/** Claims: never twice, everything due in due order, the limit and the cursor, names, far cycles. */
import { expect, it } from 'vitest';
import { claim, DAY_MS, ids, S0, T0, task, type StoreRef } from './fixtures.js';

const YEAR_MS = 365 * DAY_MS;

export function claimCases(s: StoreRef): void {
  it('never hands a task to two owners, claiming alternately or at once', async () => {
    const inserted = ids(await s().insert(Array.from({ length: 30 }, (_, i) => task('a', T0 + i * 10))));
    const a1 = await claim(s(), 'A', ['a'], S0 + 1, 7);
    const b1 = await claim(s(), 'B', ['a'], S0 + 1, 7);
    const [a2, b2] = await Promise.all([claim(s(), 'A', ['a'], S0 + 1, 9), claim(s(), 'B', ['a'], S0 + 1, 9)]);
    const rest = await claim(s(), 'C', ['a'], S0 + 1);
    const all = [...a1, ...b1, ...a2!, ...b2!, ...rest].map((t) => t.id);
    expect([a1.length, b1.length, rest.length]).toEqual([7, 7, 0]);
    expect([a2!.length, b2!.length].sort()).toEqual([7, 9]);
    expect([...all].sort((x, y) => x - y)).toEqual(inserted);
    expect(await claim(s(), 'D', ['a'])).toEqual([]);
    for (const t of a1) expect((await s().get(t.id))).toMatchObject({ state: 'running', owner: 'A' });
    for (const t of b1) expect((await s().get(t.id))).toMatchObject({ state: 'running', owner: 'B' });
  });

  it('claims everything due up to the second, in due order, whatever is pending later', async () => {
    // 1000 tasks due the next day, in one bulk insert and one by one.
    await s().insert(Array.from({ length: 990 }, (_, i) => task('a', T0 + DAY_MS + i)));
    for (let i = 0; i < 10; i++) await s().insert([task('a', T0 + DAY_MS + 5000 + i)]);
    const due = [T0 + 10_999, T0 + 3000, T0 - 60_000, T0 + 3001, T0 + 10_000, T0];
    const inserted = await s().insert(due.map((d) => task('a', d)));
    await s().insert([task('a', T0 + 11_000)]);
    const got = await s().claim({ owner: 'A', uptoSecond: S0 + 10, limit: 100, names: ['a'] });
    expect(got.tasks.map((t) => t.dueMs)).toEqual([T0 - 60_000, T0, T0 + 3000, T0 + 3001, T0 + 10_000, T0 + 10_999]);
    expect(got.tasks.map((t) => t.id)).toEqual([2, 5, 1, 3, 4, 0].map((i) => inserted[i]!.id));
    expect(got.tasks[0]).toMatchObject({ name: 'a', args: '[]', attempts: 0, cutOffs: 0, retries: null });
    expect(got.cursor).toBe(S0 + 10);
    expect((await s().stats()).counts).toMatchObject({ scheduled: 1001, running: 6 });
  });

  it('claims tasks inserted behind the cursor at the next claim, in due order', async () => {
    expect((await s().claim({ owner: 'A', uptoSecond: S0 + 100, limit: 10, names: ['a'] })).cursor).toBe(S0 + 100);
    const late = await s().insert([task('a', T0 + 50_000), task('a', T0 - DAY_MS), task('a', T0 + 100_999)]);
    await s().insert([task('a', T0 + 20_000)]);
    const got = await s().claim({ owner: 'A', uptoSecond: S0 + 101, limit: 10, names: ['a'] });
    expect(got.tasks.map((t) => t.dueMs)).toEqual([T0 - DAY_MS, T0 + 20_000, T0 + 50_000, T0 + 100_999]);
    expect(ids(got.tasks)).toContain(late[2]!.id);
    expect(got.cursor).toBe(S0 + 101);
  });

  it('claims at most the limit, and its cursor stops short of a second it left tasks in', async () => {
    await s().insert([0, 1, 2, 3, 4].map((i) => task('a', T0 + 1000 + i)));
    await s().insert([0, 1, 2].map((i) => task('a', T0 + 2000 + i)));
    const first = await s().claim({ owner: 'A', uptoSecond: S0 + 5, limit: 6, names: ['a'] });
    expect(first.tasks.map((t) => t.dueMs)).toEqual([T0 + 1000, T0 + 1001, T0 + 1002, T0 + 1003, T0 + 1004, T0 + 2000]);
    expect(first.cursor).toBe(S0 + 1);
    expect((await s().stats()).cursor).toBe(S0 + 1);
    const second = await s().claim({ owner: 'A', uptoSecond: S0 + 5, limit: 6, names: ['a'] });
    expect(second.tasks.map((t) => t.dueMs)).toEqual([T0 + 2001, T0 + 2002]);
    expect(second.cursor).toBe(S0 + 5);
    // A claim up to an earlier second does not move the cursor back.
    expect((await s().claim({ owner: 'A', uptoSecond: S0 + 2, limit: 6, names: ['a'] })).cursor).toBe(S0 + 5);
    expect((await s().claim({ owner: 'A', uptoSecond: S0 + 9, limit: 0, names: ['a'] })).tasks).toEqual([]);
  });

  it('claims only the names served; with none, nothing; the others wait for their owner', async () => {
    await s().insert([task('a', T0 + 3000), task('b', T0 + 1000), task('c', T0 + 500), task('a', T0 + 2000)]);
    expect(await claim(s(), 'A', [], S0 + 10)).toEqual([]);
    expect((await s().stats()).counts.scheduled).toBe(4);
    const got = await claim(s(), 'A', ['a', 'b'], S0 + 10, 2);
    expect(got.map((t) => [t.name, t.dueMs])).toEqual([['b', T0 + 1000], ['a', T0 + 2000]]);
    expect((await claim(s(), 'A', ['a', 'b', 'a'], S0 + 10)).map((t) => [t.name, t.dueMs])).toEqual([['a', T0 + 3000]]);
    expect((await s().stats()).scheduledByName).toEqual({ c: 1 });
    expect((await claim(s(), 'B', ['c'], S0 + 10)).map((t) => t.dueMs)).toEqual([T0 + 500]);
  });

  it('does not claim a task a year ahead early (same slot, later cycle), and claims it at its second', async () => {
    // A year is a whole number of hours: these share the slot of T0 and T0 + 1.5 s.
    const [alone] = await s().insert([task('a', T0 + YEAR_MS + 1500)]);
    const bulk = await s().insert([task('a', T0 + YEAR_MS), task('a', T0 + YEAR_MS + 1999), task('b', T0 + YEAR_MS)]);
    await s().insert([task('a', T0 + 1000)]);
    expect((await claim(s(), 'A', ['a'], S0 + 1)).map((t) => t.dueMs)).toEqual([T0 + 1000]);
    expect(await claim(s(), 'A', ['a'], S0 + YEAR_MS / 1000 - 1)).toEqual([]);
    expect((await claim(s(), 'A', ['a'], S0 + YEAR_MS / 1000)).map((t) => t.id)).toEqual([bulk[0]!.id]);
    const next = await claim(s(), 'A', ['a'], S0 + YEAR_MS / 1000 + 1);
    expect(next.map((t) => t.id)).toEqual([alone!.id, bulk[1]!.id]);
    expect((await s().stats()).scheduledByName).toEqual({ b: 1 });
  });
}
