/** The task types of the store contract: states, attempts and outcomes (see types.ts for the rules). */
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
