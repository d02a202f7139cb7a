/** Every SQL statement the SQLite store runs, prepared once when the store opens. */
import type Database from 'better-sqlite3';
import type { RawTask } from './sqlite.js';
import type { ClaimedTask, TaskState } from './types.js';

type Params = Record<string, unknown>;
type Stmt<R> = Database.Statement<Params, R>;
type Stmt0<R> = Database.Statement<[], R>;
interface WorkerRaw {
  owner: string;
  host: string;
  pid: number;
  names: string;
  started_ms: number;
  beat: number;
  seen_ms: number;
}

/** Named as ClaimedTask's fields, so that a claim's rows need no copy per task. */
/** The persisted cursor; also read by the upkeep thread (upkeep.ts) through its own connection. */
export const CURSOR_SQL = `SELECT v FROM meta WHERE k = 'cursor'`;

const CLAIMED_COLUMNS =
  'id, name, args, due_ms AS dueMs, attempts, retries, backoff_ms AS backoffMs, timeout_ms AS timeoutMs';

export class StatementSet {
  readonly claim: Stmt<ClaimedTask>;
  readonly advanceCursor: Stmt<unknown>;
  readonly cursor: Stmt0<unknown>;
  readonly release: Stmt<unknown>;
  readonly heartbeat: Stmt<unknown>;
  readonly workers: Stmt0<WorkerRaw>;
  readonly forgetWorker: Stmt<unknown>;
  readonly orphanOwners: Stmt0<unknown>;
  readonly get: Stmt<RawTask>;
  readonly list: Stmt<RawTask>;
  readonly countByState: Stmt0<{ state: TaskState; n: number; outside: number }>;
  readonly nextDue: Stmt0<{ due_ms: number }>;
  readonly busiestSlots: Stmt0<{ slot: number; n: number }>;
  readonly cancel: Stmt<unknown>;
  readonly reschedule: Stmt<unknown>;
  readonly retryFailed: Stmt<unknown>;
  readonly purge: Stmt<unknown>;

  constructor(db: Database.Database) {
    const prepare = <R = unknown>(sql: string) => db.prepare<Params, R>(sql);
    const prepare0 = <R = unknown>(sql: string) => db.prepare<[], R>(sql);
    // Row-value comparison on the wheel index: every scheduled task at or before (cycle, slot),
    // which includes ones inserted late behind the cursor, in due order. The caller has joined
    // the buckets of every cycle up to @cycle first.
    this.claim = prepare<ClaimedTask>(`
      UPDATE tasks SET state = 'running', owner = @owner
      WHERE id IN (
        SELECT id FROM tasks INDEXED BY tasks_wheel
        WHERE state = 'scheduled' AND in_wheel = 1 AND (cycle, slot) <= (@cycle, @slot)
        ORDER BY cycle, slot, due_ms LIMIT @limit)
      RETURNING ${CLAIMED_COLUMNS}`);
    this.advanceCursor = prepare(`
      INSERT INTO meta (k, v) VALUES ('cursor', @second)
      ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)
      RETURNING v`);
    this.cursor = prepare0(CURSOR_SQL);
    this.release = prepare(`
      UPDATE tasks SET state = 'scheduled', owner = NULL WHERE owner = @owner AND state = 'running'`);
    this.heartbeat = prepare(`
      INSERT INTO workers (owner, host, pid, names, started_ms, beat, seen_ms)
      VALUES (@owner, @host, @pid, @names, @startedMs, 1, @atMs)
      ON CONFLICT (owner) DO UPDATE SET beat = beat + 1, seen_ms = @atMs, names = @names`);
    this.workers = prepare0<WorkerRaw>(`SELECT owner, host, pid, names, started_ms, beat, seen_ms FROM workers ORDER BY started_ms`);
    this.forgetWorker = prepare(`DELETE FROM workers WHERE owner = @owner`);
    this.orphanOwners = prepare0(`
      SELECT DISTINCT owner FROM tasks INDEXED BY tasks_running
      WHERE state = 'running' AND owner NOT IN (SELECT owner FROM workers)`);
    this.get = prepare<RawTask>(`SELECT * FROM tasks WHERE id = @id`);
    this.list = prepare<RawTask>(`
      SELECT * FROM tasks
      WHERE (@state IS NULL OR state = @state) AND (@name IS NULL OR name = @name)
      ORDER BY id DESC LIMIT @limit`);
    this.countByState = prepare0<{ state: TaskState; n: number; outside: number }>(
      `SELECT state, count(*) AS n, sum(in_wheel = 0) AS outside FROM tasks GROUP BY state`);
    this.nextDue = prepare0<{ due_ms: number }>(`
      SELECT due_ms FROM tasks INDEXED BY tasks_wheel WHERE state = 'scheduled' AND in_wheel = 1
      ORDER BY cycle, slot, due_ms LIMIT 1`);
    this.busiestSlots = prepare0<{ slot: number; n: number }>(`
      SELECT slot, count(*) AS n FROM tasks INDEXED BY tasks_wheel WHERE state = 'scheduled' AND in_wheel = 1
      GROUP BY slot ORDER BY n DESC, slot LIMIT 5`);
    this.cancel = prepare(`
      UPDATE tasks SET state = 'cancelled', finished_ms = @atMs WHERE id = @id AND state = 'scheduled'`);
    this.reschedule = prepare(`
      UPDATE tasks SET due_ms = @dueMs, slot = @slot, cycle = @cycle, in_wheel = 1
      WHERE id = @id AND state = 'scheduled'`);
    this.retryFailed = prepare(`
      UPDATE tasks SET state = 'scheduled', owner = NULL, due_ms = @dueMs, slot = @slot, cycle = @cycle,
        in_wheel = 1, finished_ms = NULL, retries = attempts
      WHERE id = @id AND state = 'failed'`);
    // Items of a batch whose reduce has yet to run are kept: the reduce reads their results.
    this.purge = prepare(`
      DELETE FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_ms < @before
        AND (batch_id IS NULL OR batch_id NOT IN (
          SELECT b.id FROM batches b WHERE b.reduce_name IS NOT NULL AND (b.reduce_task_id IS NULL
            OR b.reduce_task_id IN (SELECT id FROM tasks WHERE state IN ('scheduled', 'running')))))`);
  }
}
