/**
 * The journal's group commit, on a fake clock at a fixed time, against a store whose writes the
 * test answers: what comes in while a commit is in flight goes in the next one, sent from the
 * timer rather than in the answer's own turn (issue 12: there it reached a shared backend ahead
 * of the next attempts' starts, which then waited behind it); flush() still writes everything
 * before it resolves; nothing is reported written before its write answered.
 */
import { createClock } from '@sinonjs/fake-timers';
import { describe, expect, it } from 'vitest';
import { Journal } from '../src/journal.js';
import { createLogger } from '../src/logger.js';
import type { Outcome, RecordResult, Store } from '../src/store/types.js';
import { T0 } from './helpers.js';

const silent = createLogger({ level: 'silent' });

function fixture() {
  const fake = createClock(T0);
  const writes: { ids: number[]; answer: () => void }[] = [];
  const store = {
    record: (outcomes: readonly Outcome[]) =>
      new Promise<RecordResult>((resolve) => {
        writes.push({ ids: outcomes.map((o) => o.id), answer: () => resolve({ applied: outcomes.map(() => true), earliestDueMs: null }) });
      }),
  } as unknown as Store;
  const journal = new Journal({ store, clock: { now: () => fake.now, setTimeout: fake.setTimeout, clearTimeout: fake.clearTimeout }, logger: silent });
  const written: number[] = [];
  const push = (id: number) => journal.push({ kind: 'succeeded', id, owner: 'me', attempt: 1, atMs: T0, result: null }, () => written.push(id));
  /** Lets every promise callback run, without moving the fake clock. */
  const turn = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { fake, journal, writes, written, push, turn };
}

describe('journal', () => {
  it('sends what came in during a commit from the timer, not in the answer of the one before', async () => {
    const f = fixture();
    f.push(1);
    await f.fake.tickAsync(0);
    expect(f.writes.map((w) => w.ids)).toEqual([[1]]);
    f.push(2);
    f.push(3);
    f.writes[0]!.answer();
    await f.turn();
    expect(f.written).toEqual([1]);
    // The answer's turn is the scheduler's, for the starts of the next attempts.
    expect(f.writes).toHaveLength(1);
    await f.fake.tickAsync(0);
    expect(f.writes.map((w) => w.ids)).toEqual([[1], [2, 3]]);
    expect(f.written).toEqual([1]);
    f.writes[1]!.answer();
    await f.turn();
    expect(f.written).toEqual([1, 2, 3]);
    expect(f.journal.pending).toBe(0);
  });

  it('flush() writes everything pending, through the commit in flight, before it resolves', async () => {
    const f = fixture();
    f.push(1);
    await f.fake.tickAsync(0);
    f.push(2);
    let flushed: boolean | undefined;
    void f.journal.flush().then((ok) => (flushed = ok));
    f.writes[0]!.answer();
    await f.turn();
    expect(f.writes.map((w) => w.ids)).toEqual([[1], [2]]);
    expect(flushed).toBeUndefined();
    f.push(3);
    f.writes[1]!.answer();
    await f.turn();
    // What came in while flushing goes too: flush() returns with nothing pending.
    expect(f.writes.map((w) => w.ids)).toEqual([[1], [2], [3]]);
    f.writes[2]!.answer();
    await f.turn();
    expect(flushed).toBe(true);
    expect(f.written).toEqual([1, 2, 3]);
  });

  it('flush() writes a backlog above one transaction in several, all before it resolves', async () => {
    const f = fixture();
    for (let id = 1; id <= 5_001; id++) f.push(id);
    const flushing = f.journal.flush();
    await f.turn();
    expect(f.writes.map((w) => w.ids.length)).toEqual([5_000]);
    f.writes[0]!.answer();
    await f.turn();
    expect(f.writes.map((w) => w.ids.length)).toEqual([5_000, 1]);
    f.writes[1]!.answer();
    expect(await flushing).toBe(true);
    expect(f.written).toHaveLength(5_001);
  });

  it('from the timer, a backlog above one transaction goes one transaction a turn', async () => {
    const f = fixture();
    for (let id = 1; id <= 5_001; id++) f.push(id);
    await f.fake.tickAsync(0);
    expect(f.writes.map((w) => w.ids.length)).toEqual([5_000]);
    f.writes[0]!.answer();
    await f.turn();
    expect(f.writes).toHaveLength(1);
    await f.fake.tickAsync(0);
    expect(f.writes.map((w) => w.ids)).toEqual([expect.any(Array), [5_001]]);
  });
});
