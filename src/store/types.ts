/**
 * The narrow, synchronous interface every backend implements. SQLite is the one there is; a
 * shared backend (PostgreSQL, Redis) would stand beside it behind this same interface.
 *
 * A task moves through these states:
 *   scheduled --claim--> running --succeeded--> succeeded
 *                           |----failed, retries left--> scheduled (later due time)
 *                           |----failed, none left-----> failed --retry()--> scheduled
 *                           '----owner released or dead--> scheduled (same due time)
 *   scheduled --cancel()--> cancelled
 * `running` means claimed by an owner (a live scheduler): waiting in its memory or executing.
 */
import type { Chunk } from '../bits.js';

export const TASK_STATES = ['scheduled', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface NewTask {
  name: string;
  /** JSON array text. */
  args: string;
  dueMs: number;
  createdMs: number;
  key: string | null;
  retries: number;
  backoffMs: number;
  timeoutMs: number | null;
}

export interface Inserted {
  id: number;
  dueMs: number;
  /** False when an unfinished task with the same key already existed and is returned instead. */
  created: boolean;
}

/** What a claim hands to the runner: enough to run one attempt. */
export interface ClaimedTask {
  id: number;
  name: string;
  args: string;
  dueMs: number;
  /** Attempts made before this one. */
  attempts: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number | null;
}

export interface TaskRow extends ClaimedTask {
  state: TaskState;
  slot: number;
  cycle: number;
  key: string | null;
  owner: string | null;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  lastError: string | null;
  /** Every failed attempt (retried or final), oldest first. */
  errors: AttemptError[];
  /** JSON text of the handler's return value. */
  result: string | null;
}

export interface AttemptError {
  attempt: number;
  atMs: number;
  /** The error's stack, or its text. */
  error: string;
}

export interface ClaimRequest {
  owner: string;
  /** Claim tasks due at or before this unix second. */
  uptoSecond: number;
  limit: number;
}

export interface ClaimResult {
  tasks: ClaimedTask[];
  /** The persisted cursor after the claim: every task due at or before it has been claimed. */
  cursor: number;
}

/** One state change of a running attempt; applied in batches (group commit). */
export type Outcome =
  | { kind: 'started'; id: number; owner: string; atMs: number }
  | { kind: 'succeeded'; id: number; owner: string; atMs: number; result: string | null }
  | { kind: 'failed'; id: number; owner: string; atMs: number; error: string }
  | { kind: 'retry'; id: number; owner: string; atMs: number; error: string; dueMs: number };

export interface ListFilter {
  state?: TaskState;
  name?: string;
  limit?: number;
}

export interface Stats {
  counts: Record<TaskState, number>;
  cursor: number | null;
  nextDueMs: number | null;
  /** Scheduled tasks due in a later hour, waiting in its bucket: not yet in any slot. */
  inBuckets: number;
  /** The busiest slots by number of scheduled tasks (those in the wheel). */
  busiestSlots: { slot: number; count: number }[];
}

export interface WorkerRow {
  owner: string;
  host: string;
  pid: number;
  names: string[];
  startedMs: number;
  beat: number;
  seenMs: number;
}

export interface Store {
  insert(tasks: readonly NewTask[]): Inserted[];
  claim(request: ClaimRequest): ClaimResult;
  /** Applies outcomes in one transaction; returns how many still belonged to their owner. */
  record(outcomes: readonly Outcome[]): number;
  /** Puts an owner's running tasks back to scheduled; returns how many. */
  release(owner: string): number;

  heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number): void;
  workers(): WorkerRow[];
  forgetWorker(owner: string): void;
  /** Owners that hold running tasks but have no worker row. */
  orphanOwners(): string[];

  get(id: number): TaskRow | undefined;
  list(filter: ListFilter): TaskRow[];
  stats(): Stats;
  cancel(id: number, atMs: number): TaskRow;
  reschedule(id: number, dueMs: number): TaskRow;
  retry(id: number, dueMs: number): TaskRow;
  purge(finishedBeforeMs: number): number;

  /** Creates a batch and its items (item i is items[i]) in one transaction; see batches.ts. */
  insertBatch(batch: NewBatch, items: readonly NewTask[]): InsertedBatch;
  getBatch(id: number): BatchRow | undefined;
  /** The batch's bitmap chunks by number (all of them, or the one given); absent ones are all pending. */
  batchChunks(id: number, chunk?: number): Chunk[];
  /** The task rows of items from `fromIndex` on, by index; purged items are missing. */
  batchItems(id: number, fromIndex: number, limit: number): BatchItemRow[];
  /** How many reduce tasks this handle's record() and cancel() have inserted; only ever grows. */
  reducesScheduled(): number;

  close(): void;
}

/** A batch to create: one task per item under one id, and an optional reduce task. */
export interface NewBatch {
  /** The items' task name. */
  name: string;
  /** While a batch with this key is unfinished, insertBatch returns it instead. */
  key: string | null;
  createdMs: number;
  /** When the reduce of an empty batch is due (a batch with items reduces when they are done). */
  dueMs: number;
  /** Scheduled with args [batchId] once every item has a final outcome. */
  reduce: { name: string; retries: number; backoffMs: number; timeoutMs: number | null } | null;
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
}
