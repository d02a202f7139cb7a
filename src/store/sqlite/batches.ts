/**
 * The SQL of batches (issue 6), beside the task statements and used only by SqliteStore.
 *
 * Invariants:
 * - An item's bits change only inside the transaction that moves its task row to a final
 *   state (succeeded, failed with no retries left, cancelled), and they are derived from that
 *   row's state, not from what the caller says happened: folding the same task twice is a
 *   no-op, a put-back after a crash (running -> scheduled) changes nothing, and an outcome
 *   that lost its owner (the UPDATE matched no row) leaves the row, hence the bits, as they were.
 * - `done` and `ok` on the batch row equal the popcounts of its bitmaps: each bit that flips
 *   moves its counter by one in the same transaction.
 * - The reduce task is inserted in the transaction that sets the last done bit, guarded by
 *   reduce_task_id IS NULL and then setting it: a crash before the commit loses both the bit
 *   and the reduce (the item runs again and sets them), a crash after it loses neither, and
 *   no later transaction can insert a second one.
 */
import type Database from 'better-sqlite3';
import { chunkBytes, chunkOf, CHUNK_BITS, putBit, getBit, type Chunk } from '../../bits.js';
import { positionOfMs } from '../../slot.js';
import { checkTime, NEXT_ID } from './writes.js';
import type { BatchItemRow, BatchRow, InsertedBatch, NewBatch, NewTask, TaskState } from '../types.js';

type Params = Record<string, unknown>;
type Stmt<R> = Database.Statement<Params, R>;

interface RawBatch {
  id: number;
  name: string;
  total: number;
  done: number;
  ok: number;
  key: string | null;
  reduce_name: string | null;
  reduce_retries: number | null;
  reduce_backoff_ms: number | null;
  reduce_timeout_ms: number | null;
  reduce_task_id: number | null;
  created_ms: number;
  finished_ms: number | null;
}

interface RawChunk {
  chunk: number;
  done: Buffer;
  ok: Buffer;
}

const FINAL: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'cancelled']);

class BatchStatements {
  readonly insertBatch: Stmt<unknown>;
  readonly findKey: Stmt<{ id: number; total: number }>;
  readonly insertTask: Stmt<unknown>;
  readonly get: Stmt<RawBatch>;
  readonly anyBatch: Database.Statement<[], { n: number }>;
  readonly itemOf: Stmt<{ batch_id: number | null; batch_index: number | null; state: TaskState }>;
  readonly chunk: Stmt<RawChunk>;
  readonly chunks: Stmt<RawChunk>;
  readonly putChunk: Stmt<unknown>;
  readonly count: Stmt<unknown>;
  readonly finish: Stmt<unknown>;
  readonly setReduce: Stmt<unknown>;
  readonly items: Stmt<{
    batch_index: number;
    id: number;
    state: TaskState;
    result: string | null;
    last_error: string | null;
    last_error_code: string | null;
  }>;

  constructor(db: Database.Database) {
    const prepare = <R = unknown>(sql: string) => db.prepare<Params, R>(sql);
    this.insertBatch = prepare(`
      INSERT INTO batches (name, total, key, reduce_name, reduce_retries, reduce_backoff_ms, reduce_timeout_ms, created_ms)
      VALUES (@name, @total, @key, @reduceName, @reduceRetries, @reduceBackoffMs, @reduceTimeoutMs, @createdMs)`);
    this.findKey = prepare(`SELECT id, total FROM batches WHERE key = @key AND finished_ms IS NULL`);
    this.insertTask = prepare(`
      INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, retries, backoff_ms, timeout_ms, created_ms, batch_id, batch_index)
      VALUES ((${NEXT_ID}), @name, @args, 'scheduled', @dueMs, @slot, @cycle, @retries, @backoffMs, @timeoutMs, @createdMs, @batchId, @batchIndex)`);
    this.get = prepare<RawBatch>(`SELECT * FROM batches WHERE id = @id`);
    this.anyBatch = db.prepare<[], { n: number }>(`SELECT EXISTS (SELECT 1 FROM batches) AS n`);
    this.itemOf = prepare(`SELECT batch_id, batch_index, state FROM tasks WHERE id = @id`);
    this.chunk = prepare<RawChunk>(`SELECT chunk, done, ok FROM batch_chunks WHERE batch_id = @id AND chunk = @chunk`);
    this.chunks = prepare<RawChunk>(`SELECT chunk, done, ok FROM batch_chunks WHERE batch_id = @id ORDER BY chunk`);
    this.putChunk = prepare(`
      INSERT INTO batch_chunks (batch_id, chunk, done, ok) VALUES (@id, @chunk, @done, @ok)
      ON CONFLICT (batch_id, chunk) DO UPDATE SET done = excluded.done, ok = excluded.ok`);
    this.count = prepare(`UPDATE batches SET done = done + @done, ok = ok + @ok WHERE id = @id`);
    this.finish = prepare(`UPDATE batches SET finished_ms = @atMs WHERE id = @id AND finished_ms IS NULL`);
    this.setReduce = prepare(`UPDATE batches SET reduce_task_id = @taskId WHERE id = @id AND reduce_task_id IS NULL`);
    this.items = prepare(`
      SELECT batch_index, id, state, result, last_error, last_error_code FROM tasks INDEXED BY tasks_batch
      WHERE batch_id = @id AND batch_index >= @from ORDER BY batch_index LIMIT @limit`);
  }
}

/** A task whose row may just have reached a final state, and when. */
export interface Settled {
  id: number;
  atMs: number;
}

interface Mark {
  bit: number;
  ok: boolean;
}

export class BatchBook {
  readonly #db: Database.Database;
  readonly #sql: BatchStatements;
  #seenBatch = false;
  /** The earliest due time of the reduce tasks inserted by the current settle(), or null. */
  #reduceDue: number | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = new BatchStatements(db);
  }

  /** Runs in its own transaction. */
  insert(batch: NewBatch, items: readonly NewTask[]): InsertedBatch {
    return this.#db.transaction(() => this.#insert(batch, items)).immediate();
  }

  get(id: number): BatchRow | undefined {
    const row = this.#sql.get.get({ id });
    return row && toBatchRow(row);
  }

  chunks(id: number, chunk?: number): Chunk[] {
    const rows = chunk === undefined ? this.#sql.chunks.all({ id }) : this.#sql.chunk.all({ id, chunk });
    return rows.map((r) => ({ chunk: r.chunk, done: r.done, ok: r.ok }));
  }

  items(id: number, fromIndex: number, limit: number): BatchItemRow[] {
    return this.#sql.items.all({ id, from: fromIndex, limit }).map((r) => ({
      index: r.batch_index,
      taskId: r.id,
      state: r.state,
      result: r.result,
      lastError: r.last_error,
      lastErrorCode: r.last_error_code,
    }));
  }

  /**
   * Folds the final states of these tasks into their batches' bitmaps and counters, and
   * schedules each batch's reduce when its last item is done. Must run inside the caller's
   * write transaction (the one that changed the rows), which is what makes it atomic.
   * Returns the earliest due time of the reduce tasks it inserted, or null.
   */
  settle(tasks: readonly Settled[]): number | null {
    if (tasks.length === 0 || !this.#anyBatch()) return null;
    this.#reduceDue = null;
    const byBatch = new Map<number, { atMs: number; chunks: Map<number, Mark[]> }>();
    for (const { id, atMs } of tasks) {
      const row = this.#sql.itemOf.get({ id });
      if (!row || row.batch_id === null || row.batch_index === null || !FINAL.has(row.state)) continue;
      let entry = byBatch.get(row.batch_id);
      if (!entry) byBatch.set(row.batch_id, (entry = { atMs, chunks: new Map() }));
      entry.atMs = Math.max(entry.atMs, atMs);
      const chunk = chunkOf(row.batch_index);
      const marks = entry.chunks.get(chunk) ?? [];
      marks.push({ bit: row.batch_index % CHUNK_BITS, ok: row.state === 'succeeded' });
      entry.chunks.set(chunk, marks);
    }
    for (const [batchId, entry] of byBatch) this.#fold(batchId, entry.chunks, entry.atMs);
    return this.#reduceDue;
  }

  #insert(batch: NewBatch, items: readonly NewTask[]): InsertedBatch {
    checkTime(batch.dueMs, 'the due time of the batch');
    for (const task of items) checkTime(task.dueMs, 'the due time of a batch item');
    if (batch.key !== null) {
      const existing = this.#sql.findKey.get({ key: batch.key });
      if (existing) return { id: existing.id, total: existing.total, created: false };
    }
    const reduce = batch.reduce;
    const id = Number(
      this.#sql.insertBatch.run({
        name: batch.name,
        total: items.length,
        key: batch.key,
        reduceName: reduce?.name ?? null,
        reduceRetries: reduce?.retries ?? null,
        reduceBackoffMs: reduce?.backoffMs ?? null,
        reduceTimeoutMs: reduce?.timeoutMs ?? null,
        createdMs: batch.createdMs,
      }).lastInsertRowid,
    );
    this.#seenBatch = true;
    items.forEach((task, index) => {
      this.#sql.insertTask.run({ ...task, ...positionOfMs(task.dueMs), name: batch.name, batchId: id, batchIndex: index });
    });
    if (items.length === 0) this.#complete(this.#sql.get.get({ id })!, batch.dueMs);
    return { id, total: items.length, created: true };
  }

  #anyBatch(): boolean {
    this.#seenBatch ||= this.#sql.anyBatch.get()!.n === 1;
    return this.#seenBatch;
  }

  #fold(batchId: number, chunks: Map<number, Mark[]>, atMs: number): void {
    const batch = this.#sql.get.get({ id: batchId });
    if (!batch) return;
    let doneDelta = 0;
    let okDelta = 0;
    for (const [chunk, marks] of chunks) {
      const stored = this.#sql.chunk.get({ id: batchId, chunk });
      const size = chunkBytes(batch.total, chunk);
      const done = stored?.done ?? Buffer.alloc(size);
      const ok = stored?.ok ?? Buffer.alloc(size);
      for (const mark of marks) {
        if (putBit(done, mark.bit, true)) doneDelta++;
        const wasOk = getBit(ok, mark.bit);
        if (putBit(ok, mark.bit, mark.ok)) okDelta += wasOk ? -1 : 1;
      }
      this.#sql.putChunk.run({ id: batchId, chunk, done, ok });
    }
    if (doneDelta === 0 && okDelta === 0) return;
    this.#sql.count.run({ id: batchId, done: doneDelta, ok: okDelta });
    if (batch.done + doneDelta === batch.total) this.#complete(batch, atMs);
  }

  /** Marks the batch finished and inserts its reduce task, both at most once. */
  #complete(batch: RawBatch, atMs: number): void {
    this.#sql.finish.run({ id: batch.id, atMs });
    if (batch.reduce_name === null || batch.reduce_task_id !== null) return;
    const taskId = Number(
      this.#sql.insertTask.run({
        name: batch.reduce_name,
        args: JSON.stringify([batch.id]),
        dueMs: atMs,
        ...positionOfMs(atMs),
        retries: batch.reduce_retries,
        backoffMs: batch.reduce_backoff_ms,
        timeoutMs: batch.reduce_timeout_ms,
        createdMs: atMs,
        batchId: null,
        batchIndex: null,
      }).lastInsertRowid,
    );
    this.#sql.setReduce.run({ id: batch.id, taskId });
    if (this.#reduceDue === null || atMs < this.#reduceDue) this.#reduceDue = atMs;
  }
}

function toBatchRow(row: RawBatch): BatchRow {
  return {
    id: row.id,
    name: row.name,
    total: row.total,
    done: row.done,
    ok: row.ok,
    key: row.key,
    reduceName: row.reduce_name,
    reduceTaskId: row.reduce_task_id,
    createdMs: row.created_ms,
    finishedMs: row.finished_ms,
  };
}
