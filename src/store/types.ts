/**
 * The data types of the store contract (contract.ts). SQLite is the one backend there is; a
 * shared backend (PostgreSQL, Redis) would stand beside it behind the same interface.
 *
 * A task moves through these states:
 *   scheduled --claim--> running --succeeded--> succeeded
 *                           |----failed, retries left--> scheduled (later due time)
 *                           |----failed, none left-----> failed --retry()--> scheduled
 *                           '----owner released or dead--> scheduled (same due time)
 *   scheduled --cancel()--> cancelled
 * `running` means claimed by an owner (a live scheduler): waiting in its memory or executing.
 *
 * Attempts and fencing. A claim hands a task to one owner; its attempt number is
 * `attempts + 1`. The attempt is *open* once its `started` outcome is written, which the
 * scheduler does before the handler runs: that write is the fence (it applies only while the
 * task is still `running` under that owner with that many attempts before it), so a task that
 * was cancelled, rescheduled, put back or re-claimed meanwhile is never started. Every later
 * outcome of the attempt applies only while the same attempt is still open under that owner.
 * When an owner's running tasks are put back, each open attempt counts as *cut off*
 * (`cutOffs + 1`); a cut-off attempt does not count against `retries`.
 *
 * Policy. A row stores only the policy given at enqueue (`retries`, `backoffMs`, `timeoutMs`:
 * null means "not given"); the scheduler that runs the task fills the rest from its handler's
 * task() options, then from the defaults (see policy.ts).
 */

export type { Store, TaskWriter, Claimer, Leases, Reads, Batches, Overview } from './contract.js';

export const TASK_STATES = ['scheduled', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface NewTask {
  name: string;
  /** JSON array text. */
  args: string;
  dueMs: number;
  createdMs: number;
  key: string | null;
  /** Overrides of the handler's policy given at enqueue; null: not given (see policy.ts). */
  retries: number | null;
  backoffMs: number | null;
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
  /**
   * The task's idempotency key (null: none). Optional for backends written before cron
   * (issue 14); a cron occurrence is recognised by it (`cron:<name>:<dueMs>`), so a backend
   * that omits it runs occurrences as plain tasks and their chain ends.
   */
  key?: string | null;
  /** Attempts started before this one (cut-off ones included). */
  attempts: number;
  /** Of those, how many were cut off: their owner died or stopped before they ended. */
  cutOffs: number;
  /** The policy given at enqueue; null: the handler's, else the default (policy.ts). */
  retries: number | null;
  backoffMs: number | null;
  timeoutMs: number | null;
}

export interface TaskRow extends ClaimedTask {
  state: TaskState;
  key: string | null;
  owner: string | null;
  createdMs: number;
  startedMs: number | null;
  finishedMs: number | null;
  /** The last failed attempt's stack (or text). */
  lastError: string | null;
  /** The last failed attempt's DelaydError code (E_TIMEOUT, E_CUT_OFF ...) or the thrown error's own `code`. */
  lastErrorCode: string | null;
  /** Every failed attempt (retried or final), oldest first. */
  errors: AttemptError[];
  /** JSON text of the handler's return value. */
  result: string | null;
}

/** What is kept of one failed attempt's error. */
export interface ErrorInfo {
  /** A DelaydError's code, or the thrown value's own string `code`; null when it has none. */
  code: string | null;
  message: string;
  /** The stack, or the message when there is none: what `lastError` shows. */
  stack: string;
}

export interface AttemptError extends ErrorInfo {
  attempt: number;
  atMs: number;
  /** The same as `stack` (the field rows written before codes were kept have). */
  error: string;
}

export interface ClaimRequest {
  owner: string;
  /** Claim tasks due at or before this unix second. */
  uptoSecond: number;
  limit: number;
  /** Only tasks with these names (the ones this owner serves); others wait for their daemon. */
  names: readonly string[];
}

export interface ClaimResult {
  tasks: ClaimedTask[];
  /** The persisted cursor after the claim: every task due at or before it has been claimed. */
  cursor: number;
}

/**
 * One state change of an attempt; applied in batches (group commit). `attempt` is the
 * attempt's number (ClaimedTask.attempts + 1): the fence described at the top.
 *
 * `started.next` (issue 14, cron): the follower of a cron occurrence, inserted in the same
 * transaction as the start, and only when all of these hold: the start applies; `attempt` is
 * 1; the started task is an occurrence of that cron (its key is `cron:<next.name>:<its dueMs>`,
 * and its name is `next.name`); next.key is `cron:<next.name>:<next.dueMs>`; no other *head* of
 * that cron exists (a task of that name, key `cron:<name>:...`, scheduled or running, with no
 * attempt started); the cron is not marked removed (see Crons.syncCrons); and no unfinished
 * task holds next.key (as for any keyed insert). A later attempt (after a cut-off or a retry)
 * never inserts again, so the chain is never doubled; the start is fenced, so of many
 * daemons only one inserts it; one transaction, so a crash never breaks the chain. The
 * follower's due time counts in RecordResult.earliestDueMs.
 */
export type Outcome =
  | { kind: 'started'; id: number; owner: string; attempt: number; atMs: number; next?: NewTask }
  | { kind: 'succeeded'; id: number; owner: string; attempt: number; atMs: number; result: string | null }
  | { kind: 'failed'; id: number; owner: string; attempt: number; atMs: number; error: ErrorInfo }
  | { kind: 'retry'; id: number; owner: string; attempt: number; atMs: number; error: ErrorInfo; dueMs: number };

export interface RecordResult {
  /** Per outcome, in the order given: whether it applied (false: the fence refused it). */
  applied: boolean[];
  /** The earliest due time of tasks this call scheduled (retries, reduce tasks), or null. */
  earliestDueMs: number | null;
}

export interface ListFilter {
  state?: TaskState;
  name?: string;
  limit?: number;
  /** Paging (newest first, by id): only tasks with an id below this one, the last id of the page before. */
  beforeId?: number;
}

/** Scheduled tasks due in one second (Overview.slotLoad): the wheel's slot of that second, and how many. */
export interface SlotCount {
  second: number;
  count: number;
}

export interface Stats {
  counts: Record<TaskState, number>;
  cursor: number | null;
  nextDueMs: number | null;
  /**
   * The slot load: the busiest wheel slots (slot = due second % 3600) by number of scheduled
   * tasks placed in the ring. Which tasks are in the ring is the backend's business (SQLite:
   * those in the wheel index, as opposed to hour buckets; a sharded backend: summed over shards).
   */
  busiestSlots: { slot: number; count: number }[];
  /** Scheduled tasks by name (all of them, wherever the backend keeps them). */
  scheduledByName: Record<string, number>;
  /** What only one backend has to say, tagged by its kind. */
  backend: BackendStats;
}

/**
 * Per backend. SQLite: `inBuckets`, scheduled tasks due in a later hour that wait in its
 * hour bucket, not yet in any slot. Other backends add their own variant.
 */
export type BackendStats = { kind: 'sqlite'; inBuckets: number } | { kind: string; [detail: string]: unknown };

/** A handler's declared policy, as a daemon publishes it with its heartbeat. */
export interface TaskPolicy {
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number | null;
  maxCutOffs?: number;
}

export interface WorkerRow {
  owner: string;
  host: string;
  pid: number;
  names: string[];
  /** The declared policy of each served name that declares one. */
  policies: Record<string, TaskPolicy>;
  startedMs: number;
  beat: number;
  seenMs: number;
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

/** What happens to the occurrences of a cron that fell while no daemon ran (src/cron/). */
export const CRON_MISSED = ['skip', 'once', 'all'] as const;
export type CronMissed = (typeof CRON_MISSED)[number];

/** The key of the occurrence of cron `name` due at `dueMs`: part of the contract (Crons). */
export function occurrenceKey(name: string, dueMs: number): string {
  return `cron:${name}:${dueMs}`;
}

/** A cron definition, as a daemon's code declares it (task(name, { cron, tz, args, missed })). */
export interface CronDef {
  /** The task name; its occurrences are tasks of this name with key `cron:<name>:<dueMs>`. */
  name: string;
  expression: string;
  /** The IANA zone the expression is read in (resolved: never empty). */
  tz: string;
  /** JSON array text: the args every occurrence gets. */
  args: string;
  missed: CronMissed;
}

/** What a starting daemon asks of Crons.syncCrons. */
export interface CronSync {
  nowMs: number;
  /** The crons this daemon's code defines, each with the occurrence to insert when none is pending. */
  crons: { def: CronDef; first: NewTask }[];
  /** Names this daemon serves without a cron: a cron of such a name was removed from the code. */
  plain: string[];
}

export interface CronSynced {
  name: string;
  /** created: no record before; changed: the definition differs (or was removed and is back); removed: see CronSync.plain. */
  change: 'created' | 'unchanged' | 'changed' | 'removed';
  /** Scheduled heads of the old definition cancelled (changed, removed). */
  cancelled: number;
  /** The id of the pending occurrence after the sync (null: none, as after a removal). */
  headId: number | null;
  /** Whether `first` was inserted. */
  inserted: boolean;
}

/** One occurrence task, as `delayd cron` shows it. */
export interface CronOccurrence {
  id: number;
  dueMs: number;
  state: TaskState;
  attempts: number;
  startedMs: number | null;
  finishedMs: number | null;
  lastErrorCode: string | null;
}

/** A cron record of the database, with its pending and its last started occurrence. */
export interface CronRow extends CronDef {
  /** When the definition last changed (created, changed, removed, back). */
  updatedMs: number;
  /** When a daemon last synced it. */
  syncedMs: number;
  /** When a daemon serving the name without a cron removed it; null while defined. */
  removedMs: number | null;
  /** The head: the pending occurrence (scheduled, or claimed and not yet started). */
  next: CronOccurrence | null;
  /** The latest occurrence whose first attempt started (purged: null). */
  last: CronOccurrence | null;
}
