/** The batch types of the store contract: a batch to create, its row and its items. */
import type { TaskState } from './tasks.js';

/** A batch to create: one task per item under one id, and an optional reduce task. */
export interface NewBatch {
  /** The items' task name. */
  name: string;
  /** While a batch with this key is unfinished, insertBatch returns it instead. */
  key: string | null;
  createdMs: number;
  /** When the reduce of an empty batch is due (a batch with items reduces when they are done). */
  dueMs: number;
  /** Scheduled with args [batchId] once every item has a final outcome; policy fields as in NewTask. */
  reduce: { name: string; retries: number | null; backoffMs: number | null; timeoutMs: number | null } | null;
}

export interface InsertedBatch {
  id: number;
  total: number;
  /** False when an unfinished batch with the same key already existed and is returned instead. */
  created: boolean;
}

export interface BatchRow {
  id: number;
  name: string;
  total: number;
  /** Items with a final outcome (set done bits). */
  done: number;
  /** Items that succeeded (set ok bits). */
  ok: number;
  key: string | null;
  reduceName: string | null;
  /** Set once, in the transaction that recorded the last item's final outcome. */
  reduceTaskId: number | null;
  createdMs: number;
  /** When the last item got its final outcome. */
  finishedMs: number | null;
}

export interface BatchItemRow {
  index: number;
  taskId: number;
  state: TaskState;
  result: string | null;
  lastError: string | null;
  lastErrorCode: string | null;
}
