/**
 * The SQLite store: the only module that imports better-sqlite3 and the only one that speaks
 * SQL. Synchronous like better-sqlite3 itself: each method is one transaction, with no await
 * inside it, so a claim's select-and-mark cannot interleave with another process's writes.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DelaydError } from '../errors.js';
import { positionOf, positionOfMs, secondOf } from '../slot.js';
import type { Chunk } from '../bits.js';
import { BatchBook } from './batches.js';
import { CycleBuckets } from './buckets.js';
import { Upkeep } from './upkeep.js';
import { toDelaydError } from './errors.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { StatementSet } from './statements.js';
import { TaskWriter } from './writes.js';
import {
  TASK_STATES,
  type ClaimRequest,
  type ClaimResult,
  type ClaimedTask,
  type Inserted,
  type ListFilter,
  type NewTask,
  type Outcome,
  type BatchItemRow,
  type BatchRow,
  type InsertedBatch,
  type NewBatch,
  type Stats,
  type Store,
  type TaskRow,
  type TaskState,
  type WorkerRow,
  type AttemptError,
} from './types.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  path: string;
  /** Refuse to create the file when it does not exist. @default false */
  mustExist?: boolean;
  /** Milliseconds to wait for another process's lock before failing. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * SQLite's synchronous pragma. NORMAL (with WAL) survives a process crash; FULL also
   * survives a power cut, at some cost in speed. @default 'normal'
   */
  synchronous?: 'normal' | 'full';
}

export const PAGE_SIZE = 2048;
const WAL_AUTOCHECKPOINT_BYTES = 40 * 1024 * 1024;
const BACKGROUND_UPKEEP_MS = 200;

export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #sql: StatementSet;
  readonly #writer: TaskWriter;
  readonly #buckets: CycleBuckets;
  readonly #insertAll: Database.Transaction<(tasks: readonly NewTask[]) => Inserted[]>;
  readonly #claimTx: Database.Transaction<(request: ClaimRequest) => ClaimResult>;
  readonly #recordAll: Database.Transaction<(outcomes: readonly Outcome[]) => number>;
  readonly #batches: BatchBook;
  readonly #synchronous: 'NORMAL' | 'FULL';
  #upkeep: Upkeep | undefined;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.#synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL';
    if (options.mustExist && options.path !== ':memory:' && !existsSync(options.path)) {
      throw new DelaydError('E_DB_MISSING', `${options.path}: no such database file`);
    }
    try {
      this.#db = new Database(options.path, { fileMustExist: options.mustExist ?? false });
    } catch (error) {
      throw toDelaydError(error, options.path);
    }
    try {
      this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      // Refuse a file that is not ours before any pragma below writes to it.
      const version = this.#checkVersion(options.mustExist ?? false);
      // Claims and outcomes rewrite one page per task when tasks due together were inserted
      // apart: 2 KB pages made that about a sixth faster than 4 KB ones and bulk inserts no
      // slower (1 KB pages: faster still there, a fifth slower at bulk inserts). It can only be
      // set before the file has any table (and before WAL), so an older file keeps its size.
      if (version === 0) this.#db.pragma(`page_size = ${PAGE_SIZE}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${this.#synchronous}`);
      // A claim and an outcome each rewrite the pages of their tasks; checkpointing every 1000
      // pages (the default) copied most pages back twice and fsynced after nearly every group
      // commit. A WAL of up to 40 MB (10000 pages of 4 KB) copies a page once per window.
      const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
      this.#db.pragma(`wal_autocheckpoint = ${Math.round(WAL_AUTOCHECKPOINT_BYTES / pageSize)}`);
      this.#migrate(version);
      this.#sql = new StatementSet(this.#db);
      this.#buckets = new CycleBuckets(this.#db);
      this.#writer = new TaskWriter(this.#db, this.#buckets);
      this.#batches = new BatchBook(this.#db);
    } catch (error) {
      this.#db.close();
      throw toDelaydError(error, options.path);
    }
    this.#insertAll = this.#db.transaction((tasks) => this.#writer.insertMany(tasks));
    this.#claimTx = this.#db.transaction((request) => this.#claimOne(request));
    this.#recordAll = this.#db.transaction((outcomes) => {
      const applied = this.#writer.record(outcomes);
      // Batch bits and the reduce task commit with the outcomes that set them, or not at all.
      this.#batches.settle(outcomes.filter((o) => o.kind === 'succeeded' || o.kind === 'failed'));
      return applied;
    });
  }

  insert(tasks: readonly NewTask[]): Inserted[] {
    // One task without a key is one INSERT, which SQLite commits as its own transaction:
    // no BEGIN and COMMIT round trips for delay().
    const only = tasks.length === 1 ? tasks[0] : undefined;
    if (only && only.key === null) return this.#guard(() => [this.#writer.insertOne(only)]);
    return this.#guard(() => this.#insertAll.immediate(tasks));
  }

  claim(request: ClaimRequest): ClaimResult {
    // Only a scheduler claims: its thread gets a background upkeep thread, a CLI command none.
    if (this.#upkeep === undefined && this.path !== ':memory:' && this.path !== '') {
      this.#upkeep = new Upkeep({ path: this.path, everyMs: BACKGROUND_UPKEEP_MS, synchronous: this.#synchronous });
    }
    return this.#guard(() => this.#claimTx.immediate(request));
  }

  record(outcomes: readonly Outcome[]): number {
    if (outcomes.length === 0) return 0;
    return this.#guard(() => this.#recordAll.immediate(outcomes));
  }

  release(owner: string): number {
    return this.#guard(() => this.#sql.release.run({ owner }).changes);
  }

  heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number): void {
    this.#guard(() =>
      this.#sql.heartbeat.run({
        owner: worker.owner,
        host: worker.host,
        pid: worker.pid,
        names: JSON.stringify(worker.names),
        startedMs: worker.startedMs,
        atMs,
      }),
    );
  }

  workers(): WorkerRow[] {
    return this.#guard(() => this.#sql.workers.all()).map((row) => ({
      owner: row.owner,
      host: row.host,
      pid: row.pid,
      names: JSON.parse(row.names) as string[],
      startedMs: row.started_ms,
      beat: row.beat,
      seenMs: row.seen_ms,
    }));
  }

  forgetWorker(owner: string): void {
    this.#guard(() => this.#sql.forgetWorker.run({ owner }));
  }

  orphanOwners(): string[] {
    return this.#guard(() => this.#sql.orphanOwners.pluck().all() as string[]);
  }

  get(id: number): TaskRow | undefined {
    const row = this.#guard(() => this.#sql.get.get({ id }));
    return row && toTaskRow(row);
  }

  list(filter: ListFilter): TaskRow[] {
    const params = { state: filter.state ?? null, name: filter.name ?? null, limit: filter.limit ?? 100 };
    return this.#guard(() => this.#sql.list.all(params)).map(toTaskRow);
  }

  stats(): Stats {
    return this.#guard(() => this.#statsTx());
  }

  cancel(id: number, atMs: number): TaskRow {
    const change = () => {
      const info = this.#sql.cancel.run({ id, atMs });
      this.#batches.settle([{ id, atMs }]); // a cancelled item is done, and not ok
      return info;
    };
    return this.#changeState(id, 'scheduled', change, 'cancel');
  }

  reschedule(id: number, dueMs: number): TaskRow {
    const params = { id, dueMs, ...positionOfMs(dueMs) };
    return this.#changeState(id, 'scheduled', () => this.#sql.reschedule.run(params), 'reschedule');
  }

  retry(id: number, dueMs: number): TaskRow {
    const params = { id, dueMs, ...positionOfMs(dueMs) };
    return this.#changeState(id, 'failed', () => this.#sql.retryFailed.run(params), 'retry');
  }

  purge(finishedBeforeMs: number): number {
    return this.#guard(() => this.#sql.purge.run({ before: finishedBeforeMs }).changes);
  }

  insertBatch(batch: NewBatch, items: readonly NewTask[]): InsertedBatch {
    return this.#guard(() => this.#batches.insert(batch, items));
  }

  getBatch(id: number): BatchRow | undefined {
    return this.#guard(() => this.#batches.get(id));
  }

  batchChunks(id: number, chunk?: number): Chunk[] {
    return this.#guard(() => this.#batches.chunks(id, chunk));
  }

  batchItems(id: number, fromIndex: number, limit: number): BatchItemRow[] {
    return this.#guard(() => this.#batches.items(id, fromIndex, limit));
  }

  reducesScheduled(): number {
    return this.#batches.reducesScheduled;
  }

  close(): void {
    this.#upkeep?.stop();
    this.#upkeep = undefined;
    if (this.#db.open) this.#db.close();
  }

  /**
   * The file's schema version, after refusing one from a newer delayd, one with tables of
   * another program's, and (when it must exist) one that delayd never set up.
   */
  #checkVersion(mustExist: boolean): number {
    const version = this.#db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new DelaydError(
        'E_DB_NEWER_SCHEMA',
        `${this.path}: the database has schema version ${version}, newer than this delayd's ${SCHEMA_VERSION}; upgrade delayd`,
      );
    }
    if (version > 0) return version;
    const tables = this.#db.prepare(`SELECT count(*) FROM sqlite_master`).pluck().get() as number;
    if (tables > 0 || mustExist) {
      const why = tables > 0 ? `it has ${tables} tables or indexes of another program's` : 'it has no delayd tables';
      throw new DelaydError('E_DB_NOT_DELAYD', `${this.path}: not a delayd database (${why}); refusing to change it`);
    }
    return version;
  }

  #migrate(version: number): void {
    if (version === SCHEMA_VERSION) return;
    this.#db.transaction(() => {
      for (let v = version; v < SCHEMA_VERSION; v++) this.#db.exec(MIGRATIONS[v] as string);
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toDelaydError(error, this.path);
    }
  }

  #claimOne(request: ClaimRequest): ClaimResult {
    const { slot, cycle } = positionOf(request.uptoSecond);
    // Normally a no-op: the upkeep thread joined this cycle's buckets during the one before.
    this.#buckets.joinUpTo(cycle);
    const rows = this.#sql.claim.all({ owner: request.owner, slot, cycle, limit: request.limit });
    // RETURNING yields rows in the order they were updated (by id), not by due time.
    const tasks = rows.sort((a, b) => a.dueMs - b.dueMs);
    // A full claim may have left tasks of its last second behind: the cursor stops short of it.
    const last = tasks[tasks.length - 1];
    const reached = tasks.length < request.limit || !last ? request.uptoSecond : secondOf(last.dueMs) - 1;
    const cursor = this.#sql.advanceCursor.pluck().get({ second: reached }) as number;
    return { tasks, cursor };
  }

  #statsTx(): Stats {
    const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
    let inBuckets = 0;
    for (const row of this.#sql.countByState.all()) {
      counts[row.state] = row.n;
      if (row.state === 'scheduled') inBuckets = row.outside;
    }
    const inWheel = this.#sql.nextDue.get()?.due_ms ?? null;
    const inBucket = this.#buckets.firstDueMs();
    const nextDueMs = inWheel === null || inBucket === null ? (inWheel ?? inBucket) : Math.min(inWheel, inBucket);
    const cursor = this.#sql.cursor.pluck().get() as number | undefined;
    const busiestSlots = this.#sql.busiestSlots.all().map((r) => ({ slot: r.slot, count: r.n }));
    return { counts, cursor: cursor ?? null, nextDueMs, inBuckets, busiestSlots };
  }

  #changeState(id: number, from: TaskState, change: () => { changes: number }, verb: string): TaskRow {
    return this.#guard(() =>
      this.#db.transaction(() => {
        const before = this.#sql.get.get({ id });
        if (!before) throw new DelaydError('E_NOT_FOUND', `No task with id ${id}`);
        if (before.state !== from || change().changes !== 1) {
          throw new DelaydError(
            'E_BAD_STATE',
            `Cannot ${verb} task ${id}: expected it to be ${from}, but it is ${before.state}`,
          );
        }
        return toTaskRow(this.#sql.get.get({ id })!);
      }).immediate(),
    );
  }
}

export interface RawTask {
  id: number;
  name: string;
  args: string;
  state: TaskState;
  due_ms: number;
  slot: number;
  cycle: number;
  attempts: number;
  retries: number;
  backoff_ms: number;
  timeout_ms: number | null;
  key: string | null;
  owner: string | null;
  created_ms: number;
  started_ms: number | null;
  finished_ms: number | null;
  last_error: string | null;
  errors: string | null;
  result: string | null;
}

type ClaimedRaw = Pick<
  RawTask,
  'id' | 'name' | 'args' | 'due_ms' | 'attempts' | 'retries' | 'backoff_ms' | 'timeout_ms'
>;

function toClaimed(row: ClaimedRaw): ClaimedTask {
  return {
    id: row.id,
    name: row.name,
    args: row.args,
    dueMs: row.due_ms,
    attempts: row.attempts,
    retries: row.retries,
    backoffMs: row.backoff_ms,
    timeoutMs: row.timeout_ms,
  };
}

function toTaskRow(row: RawTask): TaskRow {
  return {
    ...toClaimed(row),
    state: row.state,
    slot: row.slot,
    cycle: row.cycle,
    key: row.key,
    owner: row.owner,
    createdMs: row.created_ms,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    lastError: row.last_error,
    errors: row.errors === null ? [] : (JSON.parse(row.errors) as AttemptError[]),
    result: row.result,
  };
}
