/**
 * The SQLite store: the only module that imports better-sqlite3 and the only one that speaks
 * SQL. Each method of the (asynchronous) contract is one synchronous better-sqlite3 transaction,
 * with no await inside it, so a claim's select-and-mark cannot interleave with another
 * process's writes; its result comes back through an already resolved promise, and an error
 * (mapped to a DelaydError) as a rejection. The work is done by the time the method returns.
 */
import type Database from 'better-sqlite3';
import type { Chunk } from '../../bits.js';
import { BatchBook } from './batches.js';
import { CycleBuckets } from './buckets.js';
import { Upkeep } from './upkeep.js';
import { toDelaydError } from './errors.js';
import { openDatabase } from './open.js';
import { toTaskRow, toWorkerRow } from './rows.js';
import { StatementSet } from './statements.js';
import { checkOutcomes, TaskWriter } from './writes.js';
import { claimDue, earliest, readStats } from './claim.js';
import { OverviewReads } from './load.js';
import { AdminChanges } from './admin.js';
import {
  type ClaimRequest,
  type ClaimResult,
  type CronRow,
  type CronSync,
  type CronSynced,
  type Inserted,
  type ListFilter,
  type NewTask,
  type Outcome,
  type BatchItemRow,
  type BatchRow,
  type InsertedBatch,
  type NewBatch,
  type RecordResult,
  type SlotCount,
  type Stats,
  type Store,
  type TaskRow,
  type WorkerRow,
} from '../types.js';

export { PAGE_SIZE } from './open.js';
export type { RawTask } from './rows.js';

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  path: string;
  /** Refuse to create the file when it does not exist. @default false */
  mustExist?: boolean;
  /**
   * Open the file read-only (for commands that only read: stats, list, show): nothing is
   * written, not even a pragma; the file must exist and be at this delayd's schema version.
   * @default false
   */
  readonly?: boolean;
  /** Milliseconds to wait for another process's lock before failing (at most 2147483647). @default 5000 */
  busyTimeoutMs?: number;
  /**
   * SQLite's synchronous pragma. NORMAL (with WAL) survives a process crash; FULL also
   * survives a power cut, at some cost in speed. @default 'normal'
   */
  synchronous?: 'normal' | 'full';
  /** Told of failures of the background upkeep thread (checkpoints, bucket joins); the store goes on without it. */
  onUpkeepError?: (error: Error) => void;
}

const BACKGROUND_UPKEEP_MS = 200;

export class SqliteStore implements Store {
  /** Every process sharing a SQLite file runs on this host: its clock judges. */
  readonly clock = 'local' as const;
  readonly path: string;
  readonly readonly: boolean;
  readonly #db: Database.Database;
  readonly #sql: StatementSet;
  readonly #writer: TaskWriter;
  readonly #buckets: CycleBuckets;
  readonly #insertAll: Database.Transaction<(tasks: readonly NewTask[]) => Inserted[]>;
  readonly #claimTx: Database.Transaction<(request: ClaimRequest) => ClaimResult>;
  readonly #recordAll: Database.Transaction<(outcomes: readonly Outcome[]) => RecordResult>;
  readonly #putBack: Database.Transaction<(owner: string, beat: number | null | undefined) => number | null>;
  readonly #batches: BatchBook;
  readonly #overview: OverviewReads;
  readonly #admin: AdminChanges;
  readonly #synchronous: 'NORMAL' | 'FULL';
  readonly #onUpkeepError: ((error: Error) => void) | undefined;
  #upkeep: Upkeep | undefined;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.readonly = options.readonly ?? false;
    this.#synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL';
    this.#onUpkeepError = options.onUpkeepError;
    this.#db = openDatabase({
      path: options.path,
      mustExist: options.mustExist ?? false,
      readonly: this.readonly,
      busyTimeoutMs: options.busyTimeoutMs,
      synchronous: this.#synchronous,
    });
    try {
      this.#sql = new StatementSet(this.#db);
      this.#buckets = new CycleBuckets(this.#db);
      this.#writer = new TaskWriter(this.#db, this.#buckets);
      this.#batches = new BatchBook(this.#db);
      this.#overview = new OverviewReads(this.#db);
      this.#admin = new AdminChanges(this.#db, this.#sql, this.#batches);
    } catch (error) {
      this.#db.close();
      throw toDelaydError(error, options.path);
    }
    this.#insertAll = this.#db.transaction((tasks) => this.#writer.insertMany(tasks));
    this.#claimTx = this.#db.transaction((request) => claimDue(this.#sql, this.#buckets, request));
    this.#recordAll = this.#db.transaction((outcomes) => {
      const recorded = this.#writer.record(outcomes);
      // Batch bits and the reduce task commit with the outcomes that set them, or not at all.
      const reduceDue = this.#batches.settle(outcomes.filter((o, i) => recorded.written[i] && (o.kind === 'succeeded' || o.kind === 'failed')));
      return { applied: recorded.applied, earliestDueMs: earliest(recorded.earliestDueMs, reduceDue) };
    });
    this.#putBack = this.#db.transaction((owner, beat) => {
      if (beat !== undefined && this.#sql.workerBeat.get({ owner })?.beat !== (beat ?? undefined)) return null;
      const { changes } = this.#sql.release.run({ owner });
      this.#sql.forgetWorker.run({ owner });
      return changes;
    });
  }

  insert(tasks: readonly NewTask[]): Promise<Inserted[]> {
    // One task without a key is one INSERT, which SQLite commits as its own transaction:
    // no BEGIN and COMMIT round trips for delay().
    const only = tasks.length === 1 ? tasks[0] : undefined;
    if (only && only.key === null) return this.#run(() => [this.#writer.insertOne(only)]);
    return this.#run(() => this.#insertAll.immediate(tasks));
  }

  claim(request: ClaimRequest): Promise<ClaimResult> {
    // Only a scheduler claims: its thread gets a background upkeep thread, a CLI command none.
    if (this.#upkeep === undefined && !this.readonly && this.path !== ':memory:' && this.path !== '') {
      this.#upkeep = new Upkeep({
        path: this.path,
        everyMs: BACKGROUND_UPKEEP_MS,
        synchronous: this.#synchronous,
        onError: this.#onUpkeepError,
      });
    }
    return this.#run(() => this.#claimTx.immediate(request));
  }

  record(outcomes: readonly Outcome[]): Promise<RecordResult> {
    if (outcomes.length === 0) return Promise.resolve({ applied: [], earliestDueMs: null });
    return this.#run(() => {
      checkOutcomes(outcomes); // before the transaction: a refused value applies nothing
      return this.#recordAll.immediate(outcomes);
    });
  }

  release(owner: string): Promise<number> {
    return this.#run(() => this.#putBack.immediate(owner, undefined) as number);
  }

  bury(owner: string, beat: number | null): Promise<number | null> {
    return this.#run(() => this.#putBack.immediate(owner, beat));
  }

  heartbeat(worker: Omit<WorkerRow, 'beat' | 'seenMs'>, atMs: number, continuing: boolean): Promise<boolean> {
    return this.#run(() => {
      const row = this.#sql.heartbeat.get({
        owner: worker.owner,
        host: worker.host,
        pid: worker.pid,
        names: JSON.stringify(worker.names),
        policies: JSON.stringify(worker.policies ?? {}),
        startedMs: worker.startedMs,
        atMs,
      });
      // Beat 1: the row was (re)created. For an owner that had beaten before, someone buried it.
      return !(continuing && row?.beat === 1);
    });
  }

  workers(): Promise<WorkerRow[]> {
    return this.#run(() => this.#sql.workers.all().map(toWorkerRow));
  }

  orphanOwners(): Promise<string[]> {
    return this.#run(() => this.#sql.orphanOwners.pluck().all() as string[]);
  }

  get(id: number): Promise<TaskRow | undefined> {
    return this.#run(() => {
      const row = this.#sql.get.get({ id });
      return row && toTaskRow(row);
    });
  }

  list(filter: ListFilter): Promise<TaskRow[]> {
    const params = { state: filter.state ?? null, name: filter.name ?? null, limit: filter.limit ?? 100, beforeId: filter.beforeId ?? null };
    return this.#run(() => this.#sql.list.all(params).map(toTaskRow));
  }

  stats(): Promise<Stats> {
    return this.#run(() => this.#db.transaction(() => readStats(this.#sql, this.#buckets))());
  }

  /** This host's clock: every process sharing a SQLite file runs on this host. */
  now(): Promise<number> {
    return Promise.resolve(Date.now());
  }

  cancel(id: number, atMs: number): Promise<TaskRow> {
    return this.#run(() => this.#admin.cancel(id, atMs));
  }

  reschedule(id: number, dueMs: number): Promise<TaskRow> {
    return this.#run(() => this.#admin.reschedule(id, dueMs));
  }

  retry(id: number, dueMs: number): Promise<TaskRow> {
    return this.#run(() => this.#admin.retry(id, dueMs));
  }

  /** Deletes finished tasks, and finished batches (rows and bitmaps), older than the cutoff; returns how many tasks. */
  purge(finishedBeforeMs: number): Promise<number> {
    return this.#run(() => this.#admin.purge(finishedBeforeMs));
  }

  insertBatch(batch: NewBatch, items: readonly NewTask[]): Promise<InsertedBatch> {
    return this.#run(() => this.#batches.insert(batch, items));
  }

  getBatch(id: number): Promise<BatchRow | undefined> {
    return this.#run(() => this.#batches.get(id));
  }

  batchChunks(id: number, chunk?: number): Promise<Chunk[]> {
    return this.#run(() => this.#batches.chunks(id, chunk));
  }

  batchItems(id: number, fromIndex: number, limit: number): Promise<BatchItemRow[]> {
    return this.#run(() => this.#batches.items(id, fromIndex, limit));
  }

  slotLoad(fromSecond: number, toSecond: number): Promise<SlotCount[]> {
    return this.#run(() => this.#overview.slotLoad(fromSecond, toSecond));
  }

  recentBatches(limit: number): Promise<BatchRow[]> {
    return this.#run(() => this.#overview.recentBatches(limit));
  }

  syncCrons(sync: CronSync): Promise<CronSynced[]> {
    return this.#run(() => this.#writer.crons.sync(sync));
  }

  crons(): Promise<CronRow[]> {
    return this.#run(() => this.#db.transaction(() => this.#writer.crons.list())());
  }

  close(): Promise<void> {
    return this.#run(() => {
      this.#upkeep?.stop();
      this.#upkeep = undefined;
      if (this.#db.open) this.#db.close();
    });
  }

  /** Runs `fn` (one synchronous transaction) now; its result as a resolved promise, its error as a rejection. */
  #run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(toDelaydError(error, this.path));
    }
  }
}
