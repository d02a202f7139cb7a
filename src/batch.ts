/**
 * Batches: `fn.map(listOfArgs, options)` schedules one task per item under one batch id, in
 * one transaction, and a Batch is the handle to ask how it went. Every answer comes from the
 * batch's bitmaps and counters (see bits.ts and store/batches.ts), never from a scan of task
 * rows, so it stays right after the item rows are purged; only results() reads task rows.
 *
 * Every method of the handle reads the store, so every one is asynchronous.
 *
 * An item is done at its final outcome: it succeeded, or it failed with no retries left, or
 * it was cancelled. When every item is done, the store schedules the reduce task once, with
 * args [batchId], in the same transaction as the last outcome.
 */
import { chunkOf, indicesWith, statusIn, type ItemStatus } from './bits.js';
import { DelaydError, describe } from './errors.js';
import type { BatchRow, Store, TaskState } from './store/types.js';

export type { ItemStatus } from './bits.js';


export interface BatchProgress {
  total: number;
  succeeded: number;
  failed: number;
  pending: number;
  /** Every item has its final outcome. */
  complete: boolean;
  /** The reduce task, once scheduled. */
  reduceTaskId: number | null;
}

export interface BatchResult {
  index: number;
  taskId: number;
  state: TaskState;
  /** The handler's return value (parsed from its JSON), or undefined. */
  value: unknown;
  error: string | null;
}

export class Batch {
  readonly id: number;
  /** False when `key` matched an unfinished batch, which this handle is for instead. */
  readonly created: boolean;
  readonly #store: Store;

  constructor(store: Store, id: number, created = true) {
    this.#store = store;
    this.id = id;
    this.created = created;
  }

  /** The batch row: name, total, counters, reduce, times. */
  async info(): Promise<BatchRow> {
    const row = await this.#store.getBatch(this.id);
    if (!row) throw new DelaydError('E_NOT_FOUND', `No batch with id ${this.id}`);
    return row;
  }

  /** O(1): the counters kept beside the bitmaps. */
  async progress(): Promise<BatchProgress> {
    const row = await this.info();
    return {
      total: row.total,
      succeeded: row.ok,
      failed: row.done - row.ok,
      pending: row.total - row.done,
      complete: row.done === row.total,
      reduceTaskId: row.reduceTaskId,
    };
  }

  /** Whether item `index` (its position in the list given to map) succeeded, failed or is pending. */
  async status(index: number): Promise<ItemStatus> {
    const { total } = await this.info();
    if (!Number.isInteger(index) || index < 0 || index >= total) {
      const range = total === 0 ? 'none (the batch has no items)' : `from 0 to ${total - 1}`;
      throw new DelaydError('E_BAD_ARGS', `Expected an item index ${range}, got ${describe(index)}`);
    }
    const [chunk] = await this.#store.batchChunks(this.id, chunkOf(index));
    return statusIn(chunk, index);
  }

  /** Indices of the items that succeeded, ascending. */
  succeeded(): Promise<number[]> {
    return this.#indices('succeeded');
  }

  /** Indices of the items that failed (retries used up, or cancelled), ascending. */
  failed(): Promise<number[]> {
    return this.#indices('failed');
  }

  /** Indices of the items without a final outcome yet, ascending. */
  pending(): Promise<number[]> {
    return this.#indices('pending');
  }

  /**
   * The items' task rows in index order (`for await`), read a page at a time (no cursor stays
   * open, so the caller may await between items). Items whose rows were purged are skipped.
   */
  async *results(options: { from?: number; pageSize?: number } = {}): AsyncGenerator<BatchResult> {
    let from = options.from ?? 0;
    const pageSize = options.pageSize ?? 1000;
    for (;;) {
      const page = await this.#store.batchItems(this.id, from, pageSize);
      for (const item of page) {
        yield {
          index: item.index,
          taskId: item.taskId,
          state: item.state,
          value: item.result === null ? undefined : JSON.parse(item.result),
          error: item.lastError,
        };
      }
      const last = page[page.length - 1];
      if (page.length < pageSize || !last) return;
      from = last.index + 1;
    }
  }

  async #indices(status: ItemStatus): Promise<number[]> {
    const { total } = await this.info();
    return indicesWith(await this.#store.batchChunks(this.id), total, status);
  }
}
