/** Put-backs: release by the owner, bury of a dead one at the observed beat only; heartbeats, workers. */
import { expect, it } from 'vitest';
import { claim, ids, started, T0, task, type StoreRef } from './fixtures.js';
import type { WorkerRow } from '../../src/store/types.js';

const worker = (owner: string, extra: Partial<WorkerRow> = {}) => ({
  owner, host: 'host-1', pid: 4242, names: ['a'], policies: {}, startedMs: T0, ...extra,
});

export function livenessCases(s: StoreRef): void {
  it('release puts an owner\'s running tasks back at their due time, counts open attempts as cut off, forgets the worker', async () => {
    const tasks = await s().insert([task('a', T0 + 10), task('a', T0 + 20), task('a', T0 + 30), task('b', T0 + 40)]);
    const [t1, t2, t3, t4] = ids(tasks) as [number, number, number, number];
    expect(await s().heartbeat(worker('A'), T0, false)).toBe(true);
    expect(ids(await claim(s(), 'A', ['a']))).toEqual([t1, t2, t3]);
    expect(ids(await claim(s(), 'B', ['b']))).toEqual([t4]);
    await s().record([started(t1, 'A', 1), started(t2, 'A', 1), started(t4, 'B', 1)]);
    expect(await s().release('A')).toBe(3);
    expect(await s().get(t1)).toMatchObject({ state: 'scheduled', owner: null, dueMs: T0 + 10, attempts: 1, cutOffs: 1 });
    expect(await s().get(t2)).toMatchObject({ state: 'scheduled', attempts: 1, cutOffs: 1 });
    expect(await s().get(t3)).toMatchObject({ state: 'scheduled', owner: null, dueMs: T0 + 30, attempts: 0, cutOffs: 0 });
    expect(await s().get(t4)).toMatchObject({ state: 'running', owner: 'B', attempts: 1, cutOffs: 0 });
    expect((await s().workers()).map((w) => w.owner)).toEqual([]);
    expect(await s().release('A')).toBe(0);
    expect(await s().release('nobody')).toBe(0);
    const again = await claim(s(), 'C', ['a']);
    expect(again.map((t) => [t.id, t.attempts, t.cutOffs])).toEqual([[t1, 1, 1], [t2, 1, 1], [t3, 0, 0]]);
  });

  it('buries an owner only at the beat the caller observed, never one that has beaten since', async () => {
    const [t] = await s().insert([task('a', T0)]);
    expect(await s().heartbeat(worker('A'), T0, false)).toBe(true);
    expect(await s().heartbeat(worker('A'), T0 + 1000, true)).toBe(true);
    expect((await s().workers()).map((w) => [w.owner, w.beat])).toEqual([['A', 2]]);
    await claim(s(), 'A', ['a']);
    await s().record([started(t!.id, 'A', 1)]);
    expect(await s().bury('A', 1)).toBeNull();
    expect(await s().bury('A', null)).toBeNull();
    expect(await s().get(t!.id)).toMatchObject({ state: 'running', owner: 'A', cutOffs: 0 });
    expect((await s().workers()).length).toBe(1);
    expect(await s().bury('A', 2)).toBe(1);
    expect(await s().get(t!.id)).toMatchObject({ state: 'scheduled', owner: null, attempts: 1, cutOffs: 1 });
    expect(await s().workers()).toEqual([]);
    // The buried owner learns it at its next beat.
    expect(await s().heartbeat(worker('A'), T0 + 2000, true)).toBe(false);
    expect(await s().heartbeat(worker('A'), T0 + 3000, true)).toBe(true);
  });

  it('buries an orphan owner (no worker row) at beat null, and not at a beat it never had', async () => {
    const [t] = await s().insert([task('a', T0)]);
    await claim(s(), 'X', ['a']);
    expect(await s().orphanOwners()).toEqual(['X']);
    expect(await s().bury('X', 3)).toBeNull();
    expect((await s().get(t!.id))?.state).toBe('running');
    expect(await s().bury('X', null)).toBe(1);
    expect(await s().orphanOwners()).toEqual([]);
    expect(await s().get(t!.id)).toMatchObject({ state: 'scheduled', owner: null, attempts: 0, cutOffs: 0 });
  });

  it('keeps each worker\'s row: names, policies, beats and when last seen; an owner with tasks and a row is no orphan', async () => {
    const policies = { a: { retries: 3, backoffMs: 500, timeoutMs: null, maxCutOffs: 2 }, b: { timeoutMs: 1000 } };
    expect(await s().heartbeat(worker('A', { names: ['a', 'b'], policies }), T0 + 5, false)).toBe(true);
    expect(await s().heartbeat(worker('B', { host: 'host-2', pid: 7, startedMs: T0 + 1 }), T0 + 6, false)).toBe(true);
    await s().heartbeat(worker('B', { host: 'host-2', pid: 7, startedMs: T0 + 1, names: ['c'], policies: { c: { retries: 0 } } }), T0 + 99, true);
    const rows = [...(await s().workers())].sort((x, y) => x.owner.localeCompare(y.owner));
    expect(rows).toEqual([
      { owner: 'A', host: 'host-1', pid: 4242, names: ['a', 'b'], policies, startedMs: T0, beat: 1, seenMs: T0 + 5 },
      { owner: 'B', host: 'host-2', pid: 7, names: ['c'], policies: { c: { retries: 0 } }, startedMs: T0 + 1, beat: 2, seenMs: T0 + 99 },
    ]);
    await s().insert([task('a', T0)]);
    await claim(s(), 'A', ['a']);
    expect(await s().orphanOwners()).toEqual([]);
  });
}
