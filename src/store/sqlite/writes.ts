/**
 * The per-task write paths of the SQLite store, the hottest SQL in delayd: inserting tasks and
 * recording attempt outcomes. Used only by SqliteStore, inside its transactions.
 *
 * - Parameters are positional: better-sqlite3 binds an array about twice as fast as named
 *   parameters looked up on an object.
 * - Many tasks go into one multi-row INSERT (up to MAX_ROWS rows), which names their ids: from
 *   the next id on (NEXT_ID below: above every id ever handed out, also purged ones), read
 *   inside the write transaction, so no id is ever reused after a purge.
 * - Of many tasks, those due beyond the next cycle go into hour buckets instead of the wheel
 *   index (buckets.ts). One task goes straight into the wheel: a bucket row would cost as
 *   much as the index entry it saves.
 */
import type Database from 'better-sqlite3';
import { positionOfMs } from '../../slot.js';
import { isBeyondNextCycle, type CycleBuckets } from './buckets.js';
import { CronBook } from './cron.js';
import type { ErrorInfo, Inserted, NewTask, Outcome } from '../types.js';
import { checkTime } from '../checks.js';

// The value checks are backend-neutral (../checks.ts); kept importable from here.
export { checkOutcomes, checkTime, MAX_TIME_MS } from '../checks.js';

type Stmt<R = unknown> = Database.Statement<unknown[], R>;

const INSERT =
  'INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, retries, backoff_ms, timeout_ms, key, created_ms, in_wheel)';
const ROW = `(?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, NULL, ?, ?)`;
const PARAMS_PER_ROW = 11;
const MAX_ROWS = 64;
/** The fence of a start: the claim still holds, and no attempt after the claimed one began. */
// The attempt's first start, or the same owner's start of the attempt it already opened: a
// start written again because its answer was lost (types.ts) applies and changes nothing.
const FENCE_START = `id = ? AND owner = ? AND state = 'running' AND ((attempts = ? - 1 AND open = 0) OR (attempts = ? AND open = 1))`;
/**
 * Adds the failed attempt to the history. Named parameters (slower to bind than positional
 * ones, but these run once per failure, not per task) since time and error appear twice.
 */
const APPEND_ERROR = `errors = json_insert(coalesce(errors, '[]'), '$[#]',
  json_object('attempt', attempts, 'atMs', @atMs, 'code', @code, 'message', @message, 'stack', @stack, 'error', @stack))`;
/** The fence of an attempt's end: that very attempt is open under that owner. */
const FENCE_END = `id = @id AND owner = @owner AND state = 'running' AND attempts = @attempt AND open = 1`;

/**
 * The next task id: never below one handed out before, even if its row has been purged (a
 * purge raises the floor first; see migration 5). Inside the INSERT, so it is read under the
 * same write lock as the row it numbers.
 */
export const NEXT_ID = `SELECT max(coalesce((SELECT max(id) FROM tasks), 0),
  coalesce((SELECT v FROM meta WHERE k = 'task_id_floor'), 0)) + 1`;

/** What one outcome did: refused, written, or already so (an outcome written again). */
const NOT = 0;
const WRITTEN = 1;
const AGAIN = 2;
type Applied = typeof NOT | typeof WRITTEN | typeof AGAIN;

export class TaskWriter {
  readonly #db: Database.Database;
  readonly #buckets: CycleBuckets;
  /** Multi-row INSERTs by number of rows (powers of two), each prepared on first use. */
  readonly #inserts = new Map<number, Stmt>();
  readonly #insertOne: Stmt;
  readonly #findKey: Stmt<{ id: number; due_ms: number }>;
  readonly #maxId: Stmt<number>;
  readonly #started: Stmt;
  readonly #succeeded: Stmt;
  readonly #failed: Database.Statement<Record<string, unknown>>;
  readonly #retry: Database.Statement<Record<string, unknown>>;
  readonly #endedSo: Stmt<number>;
  readonly #retriedSo: Stmt<number>;
  /** Cron records and followers (cron.ts): a start with `next` inserts through it. */
  readonly crons: CronBook;

  constructor(db: Database.Database, buckets: CycleBuckets) {
    this.#db = db;
    this.#buckets = buckets;
    this.crons = new CronBook(db, (task) => this.insertOne(task));
    const prepare = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.#insertOne = prepare(`
      INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, retries, backoff_ms, timeout_ms, key, created_ms)
      VALUES ((${NEXT_ID}), ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#findKey = prepare(`SELECT id, due_ms FROM tasks WHERE key = ? AND (state = 'scheduled' OR state = 'running')`);
    this.#maxId = prepare<number>(`SELECT (${NEXT_ID}) - 1`).pluck();
    this.#started = prepare(`UPDATE tasks SET attempts = ?, open = 1, started_ms = CASE open WHEN 1 THEN started_ms ELSE ? END WHERE ${FENCE_START}`);
    this.#succeeded = prepare(`
      UPDATE tasks SET state = 'succeeded', open = 0, finished_ms = ?, result = ?
      WHERE id = ? AND owner = ? AND state = 'running' AND attempts = ? AND open = 1`);
    this.#failed = db.prepare(`
      UPDATE tasks SET state = 'failed', open = 0, finished_ms = @atMs, last_error = @stack, last_error_code = @code,
        ${APPEND_ERROR}
      WHERE ${FENCE_END}`);
    this.#retry = db.prepare(`
      UPDATE tasks SET state = 'scheduled', open = 0, owner = NULL, due_ms = @dueMs, slot = @slot, cycle = @cycle,
        in_wheel = 1, last_error = @stack, last_error_code = @code, ${APPEND_ERROR}
      WHERE ${FENCE_END}`);
    this.#endedSo = prepare<number>(`SELECT count(*) FROM tasks WHERE id = ? AND owner = ? AND state = ? AND attempts = ?`).pluck();
    // A retry clears its owner: it is known again by its attempt, due time and the error it appended.
    this.#retriedSo = prepare<number>(`SELECT count(*) FROM tasks WHERE id = ? AND state = 'scheduled' AND attempts = ? AND due_ms = ?
      AND json_extract(errors, '$[#-1].attempt') = attempts AND json_extract(errors, '$[#-1].atMs') = ?`).pluck();
  }

  /** One task; with a key, the caller must hold a write transaction around it. */
  insertOne(task: NewTask): Inserted {
    checkTime(task.dueMs, 'the due time');
    if (task.key !== null) {
      const existing = this.#findKey.get(task.key);
      if (existing) return { id: existing.id, dueMs: existing.due_ms, created: false };
    }
    const { slot, cycle } = positionOfMs(task.dueMs);
    const info = this.#insertOne.run(
      task.name, task.args, task.dueMs, slot, cycle, task.retries, task.backoffMs, task.timeoutMs, task.key, task.createdMs,
    );
    return { id: Number(info.lastInsertRowid), dueMs: task.dueMs, created: true };
  }

  /** Tasks in order (ids ascending); the caller must hold a write transaction around it. */
  insertMany(tasks: readonly NewTask[]): Inserted[] {
    const inserted: Inserted[] = [];
    let from = 0;
    while (from < tasks.length) {
      let to = from;
      while (to < tasks.length && (tasks[to] as NewTask).key === null) to++;
      if (to > from) this.#insertKeyless(tasks, from, to, inserted);
      if (to < tasks.length) inserted.push(this.insertOne(tasks[to] as NewTask));
      from = to + 1;
    }
    return inserted;
  }

  /**
   * Applies outcomes in order, each behind its fence (types.ts): whether each applied, and the
   * earliest due time of the retries and cron followers it scheduled. The caller holds the write transaction and has
   * checked the outcomes (checkOutcomes), so that none makes SQLite fail half-way.
   */
  record(outcomes: readonly Outcome[]): { applied: boolean[]; written: boolean[]; earliestDueMs: number | null } {
    const applied: boolean[] = new Array(outcomes.length);
    /** Applied by this call (not an outcome already so): what batches settle on. */
    const written: boolean[] = new Array(outcomes.length);
    let earliestDueMs: number | null = null;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i] as Outcome;
      const done = this.#recordOne(outcome);
      applied[i] = done !== NOT;
      written[i] = done === WRITTEN;
      if (done !== WRITTEN) continue;
      // The follower of a cron occurrence: only with its first start (types.ts, 'started'.next).
      const dueMs = outcome.kind === 'retry' ? outcome.dueMs
        : outcome.kind === 'started' && outcome.next !== undefined && outcome.attempt === 1 ? this.crons.follow(outcome.id, outcome.next)
        : null;
      if (dueMs !== null && (earliestDueMs === null || dueMs < earliestDueMs)) earliestDueMs = dueMs;
    }
    return { applied, written, earliestDueMs };
  }

  /**
   * Whether the outcome applied. A final outcome refused by its fence still counts (AGAIN) when
   * the task ended so by the same owner's same attempt: written again after a lost answer
   * (types.ts), it changes nothing. A retry clears its owner, as a put-back does: it counts
   * again when the task still waits for that retry, with that attempt's error (same time) last.
   */
  #recordOne(outcome: Outcome): Applied {
    switch (outcome.kind) {
      case 'started':
        return this.#started.run(outcome.attempt, outcome.atMs, outcome.id, outcome.owner, outcome.attempt, outcome.attempt).changes === 1 ? WRITTEN : NOT;
      case 'succeeded':
        if (this.#succeeded.run(outcome.atMs, outcome.result, outcome.id, outcome.owner, outcome.attempt).changes === 1) return WRITTEN;
        return this.#endedSo.get(outcome.id, outcome.owner, 'succeeded', outcome.attempt) === 1 ? AGAIN : NOT;
      case 'failed':
        if (this.#failed.run({ ...endParams(outcome), ...errorParams(outcome.error) }).changes === 1) return WRITTEN;
        return this.#endedSo.get(outcome.id, outcome.owner, 'failed', outcome.attempt) === 1 ? AGAIN : NOT;
      case 'retry': {
        const { dueMs } = outcome;
        if (this.#retry.run({ ...endParams(outcome), ...errorParams(outcome.error), dueMs, ...positionOfMs(dueMs) }).changes === 1) return WRITTEN;
        return this.#retriedSo.get(outcome.id, outcome.attempt, dueMs, outcome.atMs) === 1 ? AGAIN : NOT;
      }
    }
  }

  #insertKeyless(tasks: readonly NewTask[], from: number, to: number, inserted: Inserted[]): void {
    let id = (this.#maxId.get() as number) + 1;
    /** Ids of tasks due beyond the next cycle, by cycle. */
    const later = new Map<number, number[]>();
    while (from < to) {
      const rows = largestPowerOfTwoUpTo(Math.min(to - from, MAX_ROWS));
      const values: unknown[] = new Array(rows * PARAMS_PER_ROW);
      let k = 0;
      for (let r = from; r < from + rows; r++, id++) {
        const task = tasks[r] as NewTask;
        checkTime(task.dueMs, 'the due time');
        const { slot, cycle } = positionOfMs(task.dueMs);
        const inWheel = !isBeyondNextCycle(cycle, task.createdMs);
        if (!inWheel) addTo(later, cycle, id);
        values[k++] = id;
        values[k++] = task.name;
        values[k++] = task.args;
        values[k++] = task.dueMs;
        values[k++] = slot;
        values[k++] = cycle;
        values[k++] = task.retries;
        values[k++] = task.backoffMs;
        values[k++] = task.timeoutMs;
        values[k++] = task.createdMs;
        values[k++] = inWheel ? 1 : 0;
        inserted.push({ id, dueMs: task.dueMs, created: true });
      }
      this.#insertRows(rows).run(values);
      from += rows;
    }
    for (const [cycle, ids] of later) this.#buckets.add(cycle, ids);
  }

  #insertRows(rows: number): Stmt {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      statement = this.#db.prepare<unknown[]>(`${INSERT} VALUES ${Array.from({ length: rows }, () => ROW).join(', ')}`);
      this.#inserts.set(rows, statement);
    }
    return statement;
  }
}

function endParams(outcome: Outcome): Record<string, unknown> {
  return { id: outcome.id, owner: outcome.owner, attempt: outcome.attempt, atMs: outcome.atMs };
}

function errorParams(error: ErrorInfo): Record<string, unknown> {
  return { code: error.code, message: error.message, stack: error.stack };
}

function addTo(groups: Map<number, number[]>, key: number, id: number): void {
  const group = groups.get(key);
  if (group) group.push(id);
  else groups.set(key, [id]);
}

function largestPowerOfTwoUpTo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}
