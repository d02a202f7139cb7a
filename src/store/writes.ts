/**
 * The per-task write paths of the SQLite store, the hottest SQL in delayd: inserting tasks and
 * recording attempt outcomes. Used only by SqliteStore, inside its transactions.
 *
 * - Parameters are positional: better-sqlite3 binds an array about twice as fast as named
 *   parameters looked up on an object.
 * - Many tasks go into one multi-row INSERT (up to MAX_ROWS rows), which names their ids:
 *   max(id) + 1 onward, read inside the write transaction, as SQLite itself would number them.
 * - Of many tasks, those due beyond the next cycle go into hour buckets instead of the wheel
 *   index (buckets.ts). One task goes straight into the wheel: a bucket row would cost as
 *   much as the index entry it saves.
 */
import type Database from 'better-sqlite3';
import { positionOfMs } from '../slot.js';
import { isBeyondNextCycle, type CycleBuckets } from './buckets.js';
import type { Inserted, NewTask, Outcome } from './types.js';

type Stmt<R = unknown> = Database.Statement<unknown[], R>;

const INSERT =
  'INSERT INTO tasks (id, name, args, state, due_ms, slot, cycle, retries, backoff_ms, timeout_ms, key, created_ms, in_wheel)';
const ROW = `(?, ?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, NULL, ?, ?)`;
const PARAMS_PER_ROW = 11;
const MAX_ROWS = 64;
const OWNED = `id = ? AND owner = ? AND state = 'running'`;
/**
 * Adds the failed attempt to the history. Named parameters (slower to bind than positional
 * ones, but these run once per failure, not per task) since time and error appear twice.
 */
const APPEND_ERROR = `errors = json_insert(coalesce(errors, '[]'), '$[#]',
  json_object('attempt', attempts, 'atMs', @atMs, 'error', @error))`;
const OWNED_NAMED = `id = @id AND owner = @owner AND state = 'running'`;

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
  readonly #startedAndSucceeded: Stmt;
  readonly #failed: Database.Statement<Record<string, unknown>>;
  readonly #retry: Database.Statement<Record<string, unknown>>;

  constructor(db: Database.Database, buckets: CycleBuckets) {
    this.#db = db;
    this.#buckets = buckets;
    const prepare = <R = unknown>(sql: string) => db.prepare<unknown[], R>(sql);
    this.#insertOne = prepare(`
      INSERT INTO tasks (name, args, state, due_ms, slot, cycle, retries, backoff_ms, timeout_ms, key, created_ms)
      VALUES (?, ?, 'scheduled', ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#findKey = prepare(`SELECT id, due_ms FROM tasks WHERE key = ? AND (state = 'scheduled' OR state = 'running')`);
    this.#maxId = prepare<number>(`SELECT coalesce(max(id), 0) FROM tasks`).pluck();
    this.#started = prepare(`UPDATE tasks SET attempts = attempts + 1, started_ms = ? WHERE ${OWNED}`);
    this.#succeeded = prepare(`UPDATE tasks SET state = 'succeeded', finished_ms = ?, result = ? WHERE ${OWNED}`);
    this.#startedAndSucceeded = prepare(`
      UPDATE tasks SET attempts = attempts + 1, started_ms = ?, state = 'succeeded', finished_ms = ?, result = ?
      WHERE ${OWNED}`);
    this.#failed = db.prepare(`
      UPDATE tasks SET state = 'failed', finished_ms = @atMs, last_error = @error, ${APPEND_ERROR}
      WHERE ${OWNED_NAMED}`);
    this.#retry = db.prepare(`
      UPDATE tasks SET state = 'scheduled', owner = NULL, due_ms = @dueMs, slot = @slot, cycle = @cycle,
        in_wheel = 1, last_error = @error, ${APPEND_ERROR}
      WHERE ${OWNED_NAMED}`);
  }

  /** One task; with a key, the caller must hold a write transaction around it. */
  insertOne(task: NewTask): Inserted {
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
   * Applies outcomes in order; returns how many still belonged to their owner. A start and the
   * success of the same attempt in one batch (a quick handler) are one UPDATE of the row.
   */
  record(outcomes: readonly Outcome[]): number {
    const ends = successAfterStart(outcomes);
    let applied = 0;
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i] as Outcome;
      const end = ends.get(i);
      if (end === null) continue; // a success already applied with its start
      if (end === undefined) applied += this.#recordOne(outcome);
      else applied += 2 * this.#startedAndSucceeded.run(outcome.atMs, end.atMs, end.result, outcome.id, outcome.owner).changes;
    }
    return applied;
  }

  #recordOne(outcome: Outcome): number {
    switch (outcome.kind) {
      case 'started':
        return this.#started.run(outcome.atMs, outcome.id, outcome.owner).changes;
      case 'succeeded':
        return this.#succeeded.run(outcome.atMs, outcome.result, outcome.id, outcome.owner).changes;
      case 'failed':
        return this.#failed.run({ atMs: outcome.atMs, error: outcome.error, id: outcome.id, owner: outcome.owner }).changes;
      case 'retry': {
        const { slot, cycle } = positionOfMs(outcome.dueMs);
        const { atMs, error, id, owner, dueMs } = outcome;
        return this.#retry.run({ atMs, error, id, owner, dueMs, slot, cycle }).changes;
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

type Succeeded = Extract<Outcome, { kind: 'succeeded' }>;

/**
 * Pairs each start with the success that follows it for the same task and owner, when no other
 * outcome of that task comes between: index of the start -> the success, index of the
 * success -> null.
 */
function successAfterStart(outcomes: readonly Outcome[]): Map<number, Succeeded | null> {
  const pairs = new Map<number, Succeeded | null>();
  const openStart = new Map<number, number>();
  outcomes.forEach((outcome, i) => {
    const start = openStart.get(outcome.id);
    openStart.delete(outcome.id);
    if (outcome.kind === 'started') openStart.set(outcome.id, i);
    else if (outcome.kind === 'succeeded' && start !== undefined && (outcomes[start] as Outcome).owner === outcome.owner) {
      pairs.set(start, outcome);
      pairs.set(i, null);
    }
  });
  return pairs;
}

function addTo(groups: Map<number, number[]>, key: number, id: number): void {
  const group = groups.get(key);
  if (group) group.push(id);
  else groups.set(key, [id]);
}

function largestPowerOfTwoUpTo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}
