/**
 * Crons (issue 14): the follower a first start inserts ('started'.next), and syncCrons at a
 * daemon's start. The chain's invariant throughout: one head per defined cron (the
 * occurrence not yet started), never two, and none only after a removal.
 */
import { expect, it } from 'vitest';
import { occurrenceKey, type CronDef, type NewTask, type Outcome, type Store } from '../../src/store/types.js';
import { claim, expectCode, started, T0, task, type StoreRef } from './fixtures.js';

const S = 10_000;
const def = (over: Partial<CronDef> = {}): CronDef => ({ name: 'tick', expression: '*/10 * * * * *', tz: 'UTC', args: '[]', missed: 'once', ...over });
const occ = (dueMs: number, name = 'tick'): NewTask => task(name, dueMs, { key: occurrenceKey(name, dueMs) });
const startWith = (id: number, owner: string, attempt: number, next: NewTask, atMs = T0 + 1): Outcome => ({
  ...(started(id, owner, attempt, atMs) as Extract<Outcome, { kind: 'started' }>), next,
});

/** The heads of `name`: its unfinished occurrences with no attempt started. */
async function heads(store: Store, name = 'tick'): Promise<number[]> {
  const rows = await store.list({ name, limit: 1000 });
  return rows
    .filter((r) => r.key?.startsWith(`cron:${name}:`) && (r.state === 'scheduled' || r.state === 'running') && r.attempts === 0)
    .map((r) => r.dueMs)
    .sort((a, b) => a - b);
}

export function cronCases(s: StoreRef): void {
  it('inserts the follower with the first start of an occurrence, in the same write, and counts it in earliestDueMs', async () => {
    const [first] = await s().insert([occ(T0)]);
    const [claimed] = await claim(s(), 'A', ['tick']);
    expect(claimed).toMatchObject({ id: first!.id, key: occurrenceKey('tick', T0) });
    const result = await s().record([startWith(first!.id, 'A', 1, occ(T0 + S))]);
    expect(result).toEqual({ applied: [true], earliestDueMs: T0 + S });
    expect(await heads(s())).toEqual([T0 + S]);
  });

  it('inserts nothing for a refused start, a later attempt, a task that is not an occurrence, or while another head exists', async () => {
    const [a] = await s().insert([occ(T0)]);
    await claim(s(), 'A', ['tick']);
    // Refused: not the owner.
    expect((await s().record([startWith(a!.id, 'B', 1, occ(T0 + S))])).applied).toEqual([false]);
    expect(await heads(s())).toEqual([T0]);
    // The start applies, and the follower goes in once; a cut-off and its attempt 2 add nothing.
    await s().record([startWith(a!.id, 'A', 1, occ(T0 + S))]);
    await s().release('A');
    await claim(s(), 'C', ['tick'], T0 / 1000);
    expect((await s().record([startWith(a!.id, 'C', 2, occ(T0 + 2 * S))])).applied).toEqual([true]);
    expect(await heads(s())).toEqual([T0 + S]);
    // Not even with no head left (its follower cancelled by hand): only a first start moves the chain.
    const follower = (await s().list({ name: 'tick' })).find((r) => r.dueMs === T0 + S)!;
    await s().cancel(follower.id, T0 + 2);
    await s().release('C');
    await claim(s(), 'C', ['tick'], T0 / 1000);
    expect((await s().record([startWith(a!.id, 'C', 3, occ(T0 + 2 * S))])).applied).toEqual([true]);
    expect(await heads(s())).toEqual([]);
    await s().insert([occ(T0 + S)]);
    // An ad hoc task of the name (no occurrence key) and a second occurrence while a head exists.
    const [plain, other] = await s().insert([task('tick', T0), occ(T0 + 5 * S)]);
    await claim(s(), 'D', ['tick'], (T0 + 5 * S) / 1000);
    const result = await s().record([startWith(plain!.id, 'D', 1, occ(T0 + 3 * S)), startWith(other!.id, 'D', 1, occ(T0 + 6 * S))]);
    expect(result.applied).toEqual([true, true]);
    expect(await heads(s())).toEqual([T0 + S]);
  });

  it('refuses a follower not keyed as its own occurrence, applying nothing of the write', async () => {
    const [a] = await s().insert([occ(T0)]);
    await claim(s(), 'A', ['tick']);
    await expectCode(() => s().record([startWith(a!.id, 'A', 1, { ...occ(T0 + S), key: 'cron:tick:1' })]), 'E_BAD_OPTION');
    expect(await s().get(a!.id)).toMatchObject({ state: 'running', attempts: 0 });
  });

  it('syncs a new cron: its record and its first occurrence, once however many daemons sync', async () => {
    const sync = { nowMs: T0, crons: [{ def: def(), first: occ(T0 + S) }], plain: [] };
    const [created] = await s().syncCrons(sync);
    expect(created).toMatchObject({ name: 'tick', change: 'created', cancelled: 0, inserted: true });
    const again = await Promise.all([s().syncCrons({ ...sync, nowMs: T0 + 1 }), s().syncCrons({ ...sync, nowMs: T0 + 2, crons: [{ def: def(), first: occ(T0 + 2 * S) }] })]);
    expect(again.flat().map((r) => [r.change, r.inserted, r.headId])).toEqual([['unchanged', false, created!.headId], ['unchanged', false, created!.headId]]);
    expect(await heads(s())).toEqual([T0 + S]);
    const [row] = await s().crons();
    expect(row).toMatchObject({ ...def(), updatedMs: T0, syncedMs: T0 + 2, removedMs: null, last: null });
    expect(row!.next).toMatchObject({ id: created!.headId, dueMs: T0 + S, state: 'scheduled', attempts: 0 });
  });

  it('replaces the scheduled head of a changed cron; a claimed one is left to run, and no second head is added', async () => {
    await s().syncCrons({ nowMs: T0, crons: [{ def: def(), first: occ(T0 + S) }], plain: [] });
    const [changed] = await s().syncCrons({ nowMs: T0 + 1, crons: [{ def: def({ expression: '*/20 * * * * *' }), first: occ(T0 + 20_000) }], plain: [] });
    expect(changed).toMatchObject({ change: 'changed', cancelled: 1, inserted: true });
    expect(await heads(s())).toEqual([T0 + 20_000]);
    expect((await s().crons())[0]).toMatchObject({ expression: '*/20 * * * * *', updatedMs: T0 + 1 });
    await claim(s(), 'A', ['tick']);
    const [claimedHead] = await s().syncCrons({ nowMs: T0 + 2, crons: [{ def: def({ args: '[1]' }), first: occ(T0 + 3 * S) }], plain: [] });
    expect(claimedHead).toMatchObject({ change: 'changed', cancelled: 0, inserted: false });
    expect(await heads(s())).toEqual([T0 + 20_000]);
  });

  it('removes a cron served without one: its head is cancelled and no follower is inserted until it is defined again', async () => {
    await s().syncCrons({ nowMs: T0, crons: [{ def: def(), first: occ(T0) }], plain: [] });
    const [head] = await claim(s(), 'A', ['tick']);
    await s().syncCrons({ nowMs: T0 + 1, crons: [], plain: ['tick', 'other'] }); // the claimed head stays
    await s().record([startWith(head!.id, 'A', 1, occ(T0 + S))]);
    expect(await heads(s())).toEqual([]);
    const [row] = await s().crons();
    expect(row).toMatchObject({ removedMs: T0 + 1, next: null, last: { id: head!.id, state: 'running', attempts: 1 } });
    expect(await s().syncCrons({ nowMs: T0 + 2, crons: [], plain: ['tick'] })).toEqual([]);
    const [back] = await s().syncCrons({ nowMs: T0 + 3, crons: [{ def: def(), first: occ(T0 + 2 * S) }], plain: [] });
    expect(back).toMatchObject({ change: 'changed', inserted: true });
    expect((await s().crons())[0]).toMatchObject({ removedMs: null, updatedMs: T0 + 3 });
    expect(await heads(s())).toEqual([T0 + 2 * S]);
  });

  it('cancels a scheduled head at removal and says so', async () => {
    await s().syncCrons({ nowMs: T0, crons: [{ def: def(), first: occ(T0 + S) }], plain: [] });
    const [removed] = await s().syncCrons({ nowMs: T0 + 1, crons: [], plain: ['tick'] });
    expect(removed).toEqual({ name: 'tick', change: 'removed', cancelled: 1, headId: null, inserted: false });
    const [row] = await s().list({ name: 'tick' });
    expect(row).toMatchObject({ state: 'cancelled', finishedMs: T0 + 1 });
  });

  it('keeps crons of names that share a prefix apart ("a" and "a:b")', async () => {
    await s().syncCrons({ nowMs: T0, crons: [{ def: def({ name: 'a:b' }), first: occ(T0 + S, 'a:b') }], plain: [] });
    const [a] = await s().syncCrons({ nowMs: T0, crons: [{ def: def({ name: 'a' }), first: occ(T0 + S, 'a') }], plain: [] });
    expect(a).toMatchObject({ change: 'created', inserted: true });
    expect((await s().crons()).map((c) => [c.name, c.next?.dueMs])).toEqual([['a', T0 + S], ['a:b', T0 + S]]);
  });

  it('refuses a first occurrence not keyed as one, inserting nothing', async () => {
    await expectCode(() => s().syncCrons({ nowMs: T0, crons: [{ def: def(), first: task('tick', T0) }], plain: [] }), 'E_BAD_OPTION');
    expect(await s().crons()).toEqual([]);
  });
}
