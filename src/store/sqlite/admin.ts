/**
 * The admin changes of one task (cancel, reschedule, retry) and purge, each one synchronous
 * transaction (index.ts turns its result or its error into a promise). A change applies only
 * from the state it names; otherwise E_NOT_FOUND or E_BAD_STATE, and nothing changed.
 */
import type Database from 'better-sqlite3';
import { DelaydError } from '../../errors.js';
import { positionOfMs } from '../../slot.js';
import type { TaskRow, TaskState } from '../types.js';
import type { BatchBook } from './batches.js';
import { toTaskRow } from './rows.js';
import type { StatementSet } from './statements.js';
import { checkTime } from './writes.js';

export class AdminChanges {
  readonly #db: Database.Database;
  readonly #sql: StatementSet;
  readonly #batches: BatchBook;

  constructor(db: Database.Database, sql: StatementSet, batches: BatchBook) {
    this.#db = db;
    this.#sql = sql;
    this.#batches = batches;
  }

  cancel(id: number, atMs: number): TaskRow {
    const change = () => {
      const info = this.#sql.cancel.run({ id, atMs });
      this.#batches.settle([{ id, atMs }]); // a cancelled item is done, and not ok
      return info;
    };
    return this.#changeState(id, 'scheduled', change, 'cancel');
  }

  reschedule(id: number, dueMs: number): TaskRow {
    checkTime(dueMs, 'the new due time');
    const params = { id, dueMs, ...positionOfMs(dueMs) };
    return this.#changeState(id, 'scheduled', () => this.#sql.reschedule.run(params), 'reschedule');
  }

  retry(id: number, dueMs: number): TaskRow {
    checkTime(dueMs, 'the due time');
    const params = { id, dueMs, ...positionOfMs(dueMs) };
    const change = (before: TaskRow) => {
      const holder = before.key === null ? undefined : this.#sql.keyHolder.get({ key: before.key, id });
      if (holder) {
        const key = JSON.stringify(before.key);
        throw new DelaydError('E_BAD_STATE', `Cannot retry task ${id}: its key ${key} is held by unfinished task ${holder.id}`);
      }
      return this.#sql.retryFailed.run(params);
    };
    return this.#changeState(id, 'failed', change, 'retry');
  }

  /** Deletes finished tasks, and finished batches (rows and bitmaps), older than the cutoff; returns how many tasks. */
  purge(finishedBeforeMs: number): number {
    const before = Number.isFinite(finishedBeforeMs) ? finishedBeforeMs : finishedBeforeMs > 0 ? Number.MAX_SAFE_INTEGER : 0;
    return this.#db.transaction(() => {
      this.#sql.raiseIdFloor.run();
      for (const { id } of this.#sql.purgeBatchIds.all({ before })) {
        this.#sql.purgeBatchChunks.run({ id });
        this.#sql.purgeBatch.run({ id });
      }
      return this.#sql.purge.run({ before }).changes;
    }).immediate();
  }

  #changeState(id: number, from: TaskState, change: (before: TaskRow) => { changes: number }, verb: string): TaskRow {
    return this.#db.transaction(() => {
      const raw = this.#sql.get.get({ id });
      if (!raw) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
      const before = toTaskRow(raw);
      if (before.state !== from || change(before).changes !== 1) {
        throw new DelaydError('E_BAD_STATE', `Cannot ${verb} task ${id}: expected it to be ${from}, but it is ${before.state}`);
      }
      return toTaskRow(this.#sql.get.get({ id })!);
    }).immediate();
  }
}
