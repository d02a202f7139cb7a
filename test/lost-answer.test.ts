/**
 * Writes that ran but whose answer was lost: a reset connection, or `replicas` not confirmed in
 * time (E_BACKEND_NOT_REPLICATED: the write is on the master). Each is written again, and the
 * store must take the same owner's write of the same attempt as done:
 * - the start of a dispatch round (admission.ts): else the task stays `running` under a live
 *   owner that will never run it (seen in the Redis reset and failover tests: 1 and 4 tasks
 *   left running);
 * - the same round when it fails a task unrun (cut off too often): else its failure is never
 *   logged nor emitted, though it was recorded;
 * - a group commit of outcomes (journal.ts): else each success is logged as "outcome not
 *   recorded" and never emitted, though it was recorded; a retry likewise ('retrying').
 */
import { describe, expect, it } from 'vitest';
import { DelaydError } from '../src/errors.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import type { Outcome, Store } from '../src/store/types.js';
import { scenarios, withMethod } from './helpers.js';

const { setup, defer } = scenarios();

/** A store whose first `lost` writes holding outcomes of `kind` apply but lose their answer. */
function losingAnswers(kind: Outcome['kind'], lost: number, code: string): Store {
  const store = new SqliteStore({ path: ':memory:' });
  defer(() => store.close());
  const record: Store['record'] = async (outcomes) => {
    const result = await store.record(outcomes);
    if (outcomes.some((o) => o.kind === kind) && lost-- > 0) {
      throw new DelaydError(code as 'E_BACKEND_UNKNOWN_OUTCOME', `the ${kind} outcomes were written and no answer came`);
    }
    return result;
  };
  return withMethod(store, 'record', record);
}

describe('a round of starts written with no answer', () => {
  for (const code of ['E_BACKEND_UNKNOWN_OUTCOME', 'E_BACKEND_NOT_REPLICATED']) {
    it(`runs its tasks once each when written again (${code})`, async () => {
      const f = setup({ store: losingAnswers('started', 1, code) });
      const ran: number[] = [];
      const job = f.scheduler.task('job')((n: number) => void ran.push(n));
      f.scheduler.start();
      await job.delayMany([[1], [2], [3]], 2);
      await f.advance(3_000);
      await f.advance(5_000);
      expect(ran.sort()).toEqual([1, 2, 3]);
      const rows = await f.scheduler.list({});
      expect(rows.map((r) => [r.state, r.attempts])).toEqual([['succeeded', 1], ['succeeded', 1], ['succeeded', 1]]);
    });
  }
});

describe('a round of starts that fails a cut-off task, written with no answer', () => {
  for (const code of ['E_BACKEND_UNKNOWN_OUTCOME', 'E_BACKEND_NOT_REPLICATED']) {
    it(`announces the failure once, when written again, and never runs the task (${code})`, async () => {
      const f = setup({ store: losingAnswers('started', 1, code) });
      const failed: string[] = [];
      f.scheduler.on('failed', (e) => void failed.push(e.error.code ?? ''));
      const ran: number[] = [];
      // maxCutOffs 0: its first start is already one cut-off too many (admission.ts).
      const job = f.scheduler.task('job', { maxCutOffs: 0 })((n: number) => void ran.push(n));
      f.scheduler.start();
      const { id } = await job.delay([1], 2);
      await f.advance(3_000);
      await f.advance(5_000);
      expect(failed).toEqual(['E_CUT_OFF']);
      expect(ran).toEqual([]);
      expect(await f.scheduler.get(id)).toMatchObject({ state: 'failed', attempts: 1 });
    });
  }
});

describe('a group commit of outcomes written with no answer', () => {
  for (const code of ['E_BACKEND_UNKNOWN_OUTCOME', 'E_BACKEND_NOT_REPLICATED']) {
    it(`emits each success once, when written again (${code})`, async () => {
      const f = setup({ store: losingAnswers('succeeded', 1, code) });
      const succeeded: number[] = [];
      f.scheduler.on('succeeded', (e) => void succeeded.push(e.taskId));
      const job = f.scheduler.task('job')((n: number) => n * 2);
      f.scheduler.start();
      const ids = (await job.delayMany([[1], [2], [3]], 2)).map((t) => t.id);
      await f.advance(3_000);
      await f.advance(5_000);
      expect(succeeded.sort()).toEqual(ids.sort());
      const rows = await f.scheduler.list({});
      expect(rows.map((r) => [r.state, r.attempts, r.result])).toEqual([['succeeded', 1, '6'], ['succeeded', 1, '4'], ['succeeded', 1, '2']]);
    });
  }
});

describe('a retry written with no answer', () => {
  for (const code of ['E_BACKEND_UNKNOWN_OUTCOME', 'E_BACKEND_NOT_REPLICATED']) {
    it(`is announced once, when written again, and its task runs again once (${code})`, async () => {
      const f = setup({ store: losingAnswers('retry', 1, code) });
      const retrying: number[] = [];
      f.scheduler.on('retrying', (e) => void retrying.push(e.attempt));
      const runs: number[] = [];
      const job = f.scheduler.task('job', { retries: 1, backoff: 1 })(function (this: { attempt: number }) {
        runs.push(this.attempt);
        if (this.attempt === 1) throw new Error('first attempt fails');
      });
      f.scheduler.start();
      const { id } = await job.delay([], 2);
      await f.advance(3_000);
      await f.advance(5_000);
      expect(retrying).toEqual([1]);
      expect(runs).toEqual([1, 2]);
      expect(await f.scheduler.get(id)).toMatchObject({ state: 'succeeded', attempts: 2 });
    });
  }
});
