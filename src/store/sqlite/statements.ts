/** Every SQL statement the SQLite store runs, prepared once when the store opens. */
import type Database from 'better-sqlite3';
import type { RawTask, RawWorker as WorkerRaw } from './rows.js';
import type { ClaimedTask, TaskState } from '../types.js';

type Params = Record<string, unknown>;
type Stmt<R> = Database.Statement<Params, R>;
type Stmt0<R> = Database.Statement<[], R>;

/** Named as ClaimedTask's fields, so that a claim's rows need no copy per task. */
/** The persisted cursor; also read by the upkeep thread (upkeep.ts) through its own connection. */
export const CURSOR_SQL = `SELECT v FROM meta WHERE k = 'cursor'`;

const CLAIMED_COLUMNS =
  'id, name, args, key, due_ms AS dueMs, attempts, cut_offs AS cutOffs, retries, backoff_ms AS backoffMs, timeout_ms AS timeoutMs';
/** What a put-back does to a running task: same due time, and an open attempt counts as cut off. */
const PUT_BACK = `state = 'scheduled', owner = NULL, cut_offs = cut_offs + open, open = 0`;

export class StatementSet {
  readonly claimOneName: Stmt<ClaimedTask>;
  readonly dueOfName: Stmt<{ id: number; dueMs: number }>;
  readonly claimIds: Stmt<ClaimedTask>;
  readonly advanceCursor: Stmt<unknown>;
  readonly cursor: Stmt0<unknown>;
  readonly release: Stmt<unknown>;
  readonly workerBeat: Stmt<{ beat: number }>;
  readonly forgetWorker: Stmt<unknown>;
  readonly heartbeat: Stmt<{ beat: number }>;
  readonly workers: Stmt0<WorkerRaw>;
  readonly orphanOwners: Stmt0<unknown>;
  readonly get: Stmt<RawTask>;
  readonly list: Stmt<RawTask>;
  readonly countByState: Stmt0<{ state: TaskState; n: number; outside: number }>;
  readonly scheduledByName: Stmt0<{ name: string; n: number }>;
  readonly firstWheelName: Stmt0<{ name: string }>;
  readonly nextWheelName: Stmt<{ name: string }>;
  readonly nextDueOfName: Stmt<{ due_ms: number }>;
  readonly busiestSlots: Stmt0<{ slot: number; n: number }>;
  readonly cancel: Stmt<unknown>;
  readonly reschedule: Stmt<unknown>;
  readonly keyHolder: Stmt<{ id: number }>;
  readonly retryFailed: Stmt<unknown>;
  readonly purgeBatchIds: Stmt<{ id: number }>;
  readonly purgeBatchChunks: Stmt<unknown>;
  readonly purgeBatch: Stmt<unknown>;
  readonly raiseIdFloor: Stmt0<unknown>;
  readonly purge: Stmt<unknown>;

  constructor(db: Database.Database) {
    const prepare = <R = unknown>(sql: string) => db.prepare<Params, R>(sql);
    const prepare0 = <R = unknown>(sql: string) => db.prepare<[], R>(sql);
    // Row-value comparison on the wheel index, within one name: every scheduled task of that
    // name at or before (cycle, slot), which includes ones inserted late behind the cursor, in
    // due order. The caller has joined the buckets of every cycle up to @cycle first.
    const DUE_OF_NAME = `
        FROM tasks INDEXED BY tasks_wheel
        WHERE name = @name AND state = 'scheduled' AND in_wheel = 1 AND (cycle, slot) <= (@cycle, @slot)
        ORDER BY cycle, slot, due_ms LIMIT @limit`;
    // One served name: one statement, as before names were served.
    this.claimOneName = prepare<ClaimedTask>(`
      UPDATE tasks SET state = 'running', owner = @owner
      WHERE id IN (SELECT id ${DUE_OF_NAME})
      RETURNING ${CLAIMED_COLUMNS}`);
    // Several: each name's due ids (the index alone answers), merged by due time in JS.
    this.dueOfName = prepare<{ id: number; dueMs: number }>(`SELECT id, due_ms AS dueMs ${DUE_OF_NAME}`);
    this.claimIds = prepare<ClaimedTask>(`
      UPDATE tasks SET state = 'running', owner = @owner
      WHERE id IN (SELECT value FROM json_each(@ids)) AND state = 'scheduled'
      RETURNING ${CLAIMED_COLUMNS}`);
    this.advanceCursor = prepare(`
      INSERT INTO meta (k, v) VALUES ('cursor', @second)
      ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)
      RETURNING v`);
    this.cursor = prepare0(CURSOR_SQL);
    this.release = prepare(`UPDATE tasks SET ${PUT_BACK} WHERE owner = @owner AND state = 'running'`);
    this.workerBeat = prepare<{ beat: number }>(`SELECT beat FROM workers WHERE owner = @owner`);
    this.forgetWorker = prepare(`DELETE FROM workers WHERE owner = @owner`);
    // A new row starts at beat 1 and a renewed one is past it: RETURNING tells which happened.
    this.heartbeat = prepare<{ beat: number }>(`
      INSERT INTO workers (owner, host, pid, names, policies, started_ms, beat, seen_ms)
      VALUES (@owner, @host, @pid, @names, @policies, @startedMs, 1, @atMs)
      ON CONFLICT (owner) DO UPDATE SET beat = beat + 1, seen_ms = @atMs, names = @names, policies = @policies
      RETURNING beat`);
    this.workers = prepare0<WorkerRaw>(
      `SELECT owner, host, pid, names, policies, started_ms, beat, seen_ms FROM workers ORDER BY started_ms`);
    this.orphanOwners = prepare0(`
      SELECT DISTINCT owner FROM tasks INDEXED BY tasks_running
      WHERE state = 'running' AND owner NOT IN (SELECT owner FROM workers)`);
    this.get = prepare<RawTask>(`SELECT * FROM tasks WHERE id = @id`);
    this.list = prepare<RawTask>(`
      SELECT * FROM tasks
      WHERE (@state IS NULL OR state = @state) AND (@name IS NULL OR name = @name) AND (@beforeId IS NULL OR id < @beforeId)
      ORDER BY id DESC LIMIT @limit`);
    this.countByState = prepare0<{ state: TaskState; n: number; outside: number }>(
      `SELECT state, count(*) AS n, sum(in_wheel = 0) AS outside FROM tasks GROUP BY state`);
    this.scheduledByName = prepare0<{ name: string; n: number }>(
      `SELECT name, count(*) AS n FROM tasks WHERE state = 'scheduled' GROUP BY name ORDER BY name`);
    // The next due task in the wheel: the first of each name, names skipped along the index.
    const IN_WHEEL = `FROM tasks INDEXED BY tasks_wheel WHERE state = 'scheduled' AND in_wheel = 1`;
    this.firstWheelName = prepare0<{ name: string }>(`SELECT name ${IN_WHEEL} ORDER BY name LIMIT 1`);
    this.nextWheelName = prepare<{ name: string }>(`SELECT name ${IN_WHEEL} AND name > @name ORDER BY name LIMIT 1`);
    this.nextDueOfName = prepare<{ due_ms: number }>(
      `SELECT due_ms ${IN_WHEEL} AND name = @name ORDER BY cycle, slot, due_ms LIMIT 1`);
    this.busiestSlots = prepare0<{ slot: number; n: number }>(`
      SELECT slot, count(*) AS n ${IN_WHEEL} GROUP BY slot ORDER BY n DESC, slot LIMIT 5`);
    this.cancel = prepare(`
      UPDATE tasks SET state = 'cancelled', finished_ms = @atMs WHERE id = @id AND state = 'scheduled'`);
    this.reschedule = prepare(`
      UPDATE tasks SET due_ms = @dueMs, slot = @slot, cycle = @cycle, in_wheel = 1
      WHERE id = @id AND state = 'scheduled'`);
    this.keyHolder = prepare<{ id: number }>(`
      SELECT id FROM tasks WHERE key = @key AND (state = 'scheduled' OR state = 'running') AND id != @id`);
    // One more attempt: the ones made so far (none cut off any more) are what retries allows.
    this.retryFailed = prepare(`
      UPDATE tasks SET state = 'scheduled', owner = NULL, due_ms = @dueMs, slot = @slot, cycle = @cycle,
        in_wheel = 1, finished_ms = NULL, open = 0, cut_offs = 0, retries = attempts
      WHERE id = @id AND state = 'failed'`);
    // A batch goes once it finished before the cutoff, its reduce (if any) has run to its end,
    // and no item runs again (a failed item may have been retried since the batch finished).
    this.purgeBatchIds = prepare<{ id: number }>(`
      SELECT b.id FROM batches b
      WHERE b.finished_ms < @before
        AND (b.reduce_task_id IS NULL OR NOT EXISTS (SELECT 1 FROM tasks r WHERE r.id = b.reduce_task_id
          AND (r.state = 'scheduled' OR r.state = 'running')))
        AND (b.reduce_name IS NULL OR b.reduce_task_id IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM tasks t INDEXED BY tasks_batch WHERE t.batch_id = b.id
          AND (t.state = 'scheduled' OR t.state = 'running'))`);
    this.purgeBatchChunks = prepare(`DELETE FROM batch_chunks WHERE batch_id = @id`);
    this.purgeBatch = prepare(`DELETE FROM batches WHERE id = @id`);
    // Before a purge may delete the highest id: new ids number from above it (writes.ts).
    this.raiseIdFloor = prepare0(`
      INSERT INTO meta (k, v) SELECT 'task_id_floor', coalesce(max(id), 0) FROM tasks WHERE true
      ON CONFLICT (k) DO UPDATE SET v = max(v, excluded.v)`);
    // Items of a batch whose reduce has yet to run are kept: the reduce reads their results.
    this.purge = prepare(`
      DELETE FROM tasks WHERE state IN ('succeeded', 'failed', 'cancelled') AND finished_ms < @before
        AND (batch_id IS NULL OR batch_id NOT IN (
          SELECT b.id FROM batches b WHERE b.reduce_name IS NOT NULL AND (b.reduce_task_id IS NULL
            OR b.reduce_task_id IN (SELECT id FROM tasks WHERE state IN ('scheduled', 'running')))))`);
  }
}
