/**
 * The store contract: what every backend implements, every method asynchronous, so a backend
 * over a network (Redis, PostgreSQL) stands beside SQLite behind the same interface. Each
 * method is one semantic transition or read, atomic in the backend; the backend owns its
 * connection, and no transaction or client type leaks out. Data types, states, attempts,
 * fencing and cut-offs are described in types.ts.
 *
 * A refused call rejects with a DelaydError (E_DB_* for SQLite, E_BACKEND_* for a backend-
 * neutral cause), never with the driver's error itself (kept as `cause`).
 */
import type { Chunk } from '../bits.js';
import type { BatchItemRow, BatchRow, InsertedBatch, NewBatch } from './batch-rows.js';
import type { CronRow, CronSync, CronSynced } from './cron-rows.js';
import type { SlotCount, Stats, WorkerRow } from './status.js';
import type { ClaimRequest, ClaimResult, Inserted, ListFilter, NewTask, Outcome, RecordResult, TaskRow } from './tasks.js';

/** Creating tasks, and the admin changes of one task. */
export interface TaskWriter {
  insert(tasks: readonly NewTask[]): Promise<Inserted[]>;
  cancel(id: number, atMs: number): Promise<TaskRow>;
  reschedule(id: number, dueMs: number): Promise<TaskRow>;
  retry(id: number, dueMs: number): Promise<TaskRow>;
  /** Deletes finished tasks (and finished batches) older than the cutoff; resolves how many tasks. */
  purge(finishedBeforeMs: number): Promise<number>;
}

/** Handing due tasks to an owner, and recording what became of their attempts. */
export interface Claimer {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /**
   * Applies outcomes in one transaction, each behind its fence. A value the backend refuses
   * fails the whole call (nothing applied), so a caller can retry the outcomes one by one.
   */
  record(outcomes: readonly Outcome[]): Promise<RecordResult>;
}

/** Owners, their heartbeats, and putting back what a stopped or dead owner held. */
export interface Leases {
  /**
   * Puts an owner's running tasks back to scheduled (due time unchanged; open attempts count
   * as cut off) and deletes its worker row, in one transaction; resolves how many.
   */
  release(owner: string): Promise<number>;
  /**
   * The same for an owner judged dead, only while its worker row still has the beat count the
   * caller observed (null: it has no worker row): how many were put back, or null when the
   * owner has beaten since (it lives) and nothing changed.
   */
  bury(owner: string, beat: number | null): Promise<number | null>;
  /**
   * Inserts or renews the owner's worker row. Resolves false when the row was not there
   * although `continuing` says it should be: another scheduler buried this owner.
   */
  heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number, continuing: boolean): Promise<boolean>;
  workers(): Promise<WorkerRow[]>;
  /** Owners that hold running tasks but have no worker row. */
  orphanOwners(): Promise<string[]>;
}

export interface Reads {
  get(id: number): Promise<TaskRow | undefined>;
  /** Newest first (by id), at most `limit` (default 100); `beforeId` pages on from the last id of a page. */
  list(filter: ListFilter): Promise<TaskRow[]>;
  stats(): Promise<Stats>;
}

export interface Batches {
  /** Creates a batch and its items (item i is items[i]) in one transaction. */
  insertBatch(batch: NewBatch, items: readonly NewTask[]): Promise<InsertedBatch>;
  getBatch(id: number): Promise<BatchRow | undefined>;
  /** The batch's bitmap chunks by number (all of them, or the one given); absent ones are all pending. */
  batchChunks(id: number, chunk?: number): Promise<Chunk[]>;
  /** The task rows of items from `fromIndex` on, by index; purged items are missing. */
  batchItems(id: number, fromIndex: number, limit: number): Promise<BatchItemRow[]>;
}

/** The most seconds one slotLoad call spans: two turns of the wheel (the current hour and the next). */
export const SLOT_LOAD_MAX_SECONDS = 7200;
/** The most batches one recentBatches call returns. */
export const RECENT_BATCHES_MAX = 100;

/**
 * What the dashboard reads every second or so (issue 13). Each read is bounded by what it
 * returns, never a scan of every pending task: a daemon's HTTP server calls them for every
 * open dashboard (it caches them for a second), beside the ticker.
 */
export interface Overview {
  /**
   * Scheduled tasks by due second, from `fromSecond` to `toSecond` (unix seconds, both
   * included, integers, at most SLOT_LOAD_MAX_SECONDS of them): only the seconds that have
   * tasks, ascending. Every scheduled task due in the range counts (whether the backend keeps
   * it in the wheel or in a later hour's bucket), overdue ones behind the cursor too. Costs
   * what is scheduled in the range. A range that is empty, reversed, not integers or too wide
   * rejects with E_BAD_OPTION.
   */
  slotLoad(fromSecond: number, toSecond: number): Promise<SlotCount[]>;
  /** The newest batches first (by id), at most `limit` (an integer from 1 to RECENT_BATCHES_MAX; else E_BAD_OPTION). */
  recentBatches(limit: number): Promise<BatchRow[]>;
}

/**
 * Periodic tasks (issue 14). A cron is a chain of ordinary tasks, one per occurrence, each
 * with key `cron:<name>:<dueMs>` (occurrenceKey, types.ts); the *head* is the occurrence not
 * yet started (a task of that name and key form, scheduled or running, attempts = 0). Each
 * occurrence's follower is inserted by the start of its first attempt ('started'.next,
 * types.ts). A cron record per name keeps the definition (expression, zone, args, missed),
 * for `delayd cron` and to see a change.
 */
export interface Crons {
  /**
   * What a daemon does at start, in ONE transaction (so racing daemons end with one head):
   * for each of `crons`, upserts its record (updatedMs = nowMs when created, when a field
   * differs, or when it was removed); when it changed, cancels the scheduled heads of the name
   * (state cancelled, finishedMs nowMs, as cancel() does; a head already claimed is left to
   * run: its starter computes the follower from its own code); then, when no head is left,
   * inserts `first` (a keyed insert: its key must be `cron:<name>:<first.dueMs>`, else
   * E_BAD_OPTION). For each of `plain` that has a record not yet removed: cancels its
   * scheduled heads and marks it removed at nowMs (no follower of that name is inserted while
   * it is removed). Names in neither list are left alone. Resolves one CronSynced per cron,
   * then one per name removed.
   */
  syncCrons(sync: CronSync): Promise<CronSynced[]>;
  /** Every cron record (removed ones too), by name, with its head and its last started occurrence. */
  crons(): Promise<CronRow[]>;
}

export interface Store extends TaskWriter, Claimer, Leases, Reads, Batches, Overview, Crons {
  /**
   * Whose clock judges "due" (issue 12, added by the Redis backend). 'local': this host's
   * clock (SQLite, whose every user is on this host; absent means 'local' too). 'backend':
   * now() is the backend's clock (Redis TIME), and a scheduler must schedule by it: keep an
   * offset = backend now - local now (sampled with half the round trip) and add it to the local
   * clock when deciding which second to claim and when a claimed task starts, so that no host
   * starts a task before its due time by the backend's clock. The backend also refuses to
   * claim beyond its own clock plus the claim's lookahead plus 1 s.
   */
  readonly clock?: 'local' | 'backend';
  /**
   * How many writes of attempts' starts a scheduler keeps in flight at once (issue 12; see
   * worker-pool.ts). A backend over a network answers a write after a round trip: with one at
   * a time, short handlers wait for it all together, in lock-step. Absent: 1 (SQLite, whose
   * writes are local and would only come in smaller transactions).
   */
  readonly startsInFlight?: number;
  /**
   * Optional (issue 12, Redis): calls `listener(dueMs)` when any process writes a task due at
   * or behind the cursor (a countdown of 0, an eta in the past), so an idle scheduler claims at
   * once (as it does for its own writes: pokeIfBehind) rather than at its next tick. Resolves
   * a function that stops listening. A backend without it (SQLite) leaves the next tick to it.
   */
  onNudge?(listener: (dueMs: number) => void): Promise<() => Promise<void>>;
  /**
   * The backend's clock in unix ms (SQLite: this host's clock), so that "never early" can be
   * judged by one clock for every host sharing the backend.
   */
  now(): Promise<number>;
  /** Releases the connection; resolves once it is closed. */
  close(): Promise<void>;
}
