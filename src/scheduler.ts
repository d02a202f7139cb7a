/**
 * The scheduler: wiring of the store, the wheel, the ticker, the worker pool, the journal and
 * the heartbeat. It holds no schedule of its own: everything pending lives in the store, and
 * memory holds only the claimed tasks (at most queueSize waiting plus concurrency running).
 *
 * This file is the façade and the lifecycle; the parts live beside it: dispatch.ts (the
 * single-flight claim loop), admission.ts (fenced durable starts), execute.ts (one attempt to
 * its recorded outcome), journal.ts (group commit), liveness.ts (heartbeats, the lease,
 * put-back of dead owners), events.ts (the typed events; a listener's throw is logged).
 *
 * Each attempt runs under the policy its handler declares (policy.ts), resolved when the task
 * is claimed. Before a handler runs, its start is written (the fence) and our lease is
 * checked; buried meanwhile, the scheduler drops what it holds and joins afresh. A handler
 * that blocks the event loop longer than `leaseMs` is therefore treated as dead.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { Admission, type Item } from './admission.js';
import { Batch, buildBatch } from './batch.js';
import { resolveOptions, type ResolvedOptions, type SchedulerOptions } from './config.js';
import { Dispatch } from './dispatch.js';
import { DelaydError } from './errors.js';
import { safeEmit, type SchedulerEvents } from './events.js';
import { Executor } from './execute.js';
import { Journal } from './journal.js';
import { Liveness } from './liveness.js';
import { DEFAULT_POLICY, explainPolicy, resolvePolicy, type ExplainedPolicy, type Policy } from './policy.js';
import { openStore } from './store/open.js';
import type { ClaimedTask, Inserted, ListFilter, NewTask, RecordResult, Stats, Store, TaskRow } from './store/types.js';
import { Registry, taskFactory, type DelayItem, type Enqueuer, type Scheduled } from './task.js';
import { ThreadPool } from './threads.js';
import { Ticker, timerMs } from './ticker.js';
import { buildRow, checkDelayOptions, dueMsOf, rowBase, type TaskOptions } from './validate.js';
import { Wheel } from './wheel.js';
import { WorkerPool, type Verdict } from './worker-pool.js';

/** A task's row with its effective policy, and where each value of it comes from. */
export type ExplainedTask = TaskRow & { policy: ExplainedPolicy };

/** Store errors that no retry will mend: after this many in a row the scheduler emits 'fatal'. */
const FATAL_CODES = new Set(['E_DB_CORRUPT', 'E_DB_NOT_SQLITE', 'E_DB_NOT_DELAYD', 'E_DB_NEWER_SCHEMA']);
const FATAL_AFTER = 5;

export interface FullSchedulerOptions extends SchedulerOptions {
  /** Where task() registers handlers. @default a registry of this scheduler's own */
  registry?: Registry;
}

type RunState = 'idle' | 'running' | 'stopping';

export class Scheduler extends EventEmitter implements Enqueuer {
  readonly registry: Registry;
  /** `app.task(name?, options?)(fn)`: registers a handler with this scheduler. */
  readonly task: ReturnType<typeof taskFactory>;
  readonly #o: ResolvedOptions;
  readonly #store: Store;
  readonly #ticker: Ticker;
  readonly #pool: WorkerPool<Item>;
  readonly #admission: Admission;
  readonly #defaults: Policy;
  readonly #journal: Journal;
  readonly #threads: ThreadPool;
  readonly #liveness: Liveness;
  readonly #dispatch: Dispatch;
  readonly #executor: Executor;
  #state: RunState = 'idle';
  #stopController = new AbortController();
  #closed = false;
  /** Bumped at every stop: attempts abandoned by a stop record nothing when they end. */
  #generation = 0;
  /** Consecutive store errors that will not pass, per kind of call (claim, heartbeat, write, start). */
  readonly #fatalErrors = new Map<string, number>();

  constructor(options: FullSchedulerOptions = {}) {
    super();
    const { registry, ...rest } = options;
    this.#o = resolveOptions(rest);
    this.registry = registry ?? new Registry();
    this.task = taskFactory(this.registry, () => this);
    const { clock, logger, owner } = this.#o;
    const running = () => this.#state === 'running';
    this.#store = this.#o.store ?? openStore({ db: this.#o.db, synchronous: this.#o.synchronous });
    this.#defaults = { ...DEFAULT_POLICY, maxCutOffs: this.#o.maxCutOffs };
    this.#admission = new Admission({
      store: this.#store,
      owner,
      logger,
      now: clock.now,
      item: (task) => this.#item(task),
      onResult: (error) => this.#storeResult('start', error),
      onCutOff: (task, error) => this.#executor.reportFailed(task, error),
    });
    this.#pool = new WorkerPool<Item>({
      clock,
      concurrency: this.#o.concurrency,
      queueSize: this.#o.queueSize,
      onRoom: () => this.#dispatch.roomFreed(),
      admit: (items) => this.#admit(items),
    });
    this.#journal = new Journal({
      store: this.#store,
      clock,
      logger,
      afterWrite: (result) => this.#afterWrite(result),
      onError: (error) => this.#storeResult('write', error),
    });
    this.#threads = new ThreadPool({ threads: this.#o.threads, modules: this.#o.threadModules, logger });
    this.#liveness = new Liveness({
      store: this.#store,
      clock,
      owner,
      logger,
      names: () => this.registry.names(),
      policies: () => this.registry.policies(),
      heartbeatMs: this.#o.heartbeatMs,
      leaseMs: this.#o.leaseMs,
      startedMs: clock.now(),
      onLost: () => this.#dropWaiting('lease lost'),
      onResult: (error) => this.#storeResult('heartbeat', error),
      onPutBack: (from, count, why) => this.#emit('putBack', { owner: from, count, why }),
    });
    this.#dispatch = new Dispatch({
      clock,
      logger,
      wheel: new Wheel({ store: this.#store, owner }),
      pool: this.#pool,
      admission: this.#admission,
      lease: this.#liveness,
      names: () => this.registry.names(),
      running,
      onResult: (error) => this.#storeResult('claim', error),
      onClaimed: (event) => this.#emit('claimed', event),
    });
    this.#ticker = new Ticker({ clock, lookaheadMs: this.#o.lookaheadMs, onTick: (s) => void this.#dispatch.claim(s) });
    this.#dispatch.ticker = this.#ticker;
    this.#executor = new Executor({
      clock,
      logger,
      owner,
      registry: this.registry,
      journal: this.#journal,
      admission: this.#admission,
      threads: this.#threads,
      events: this,
      stopSignal: () => this.#stopController.signal,
      generation: () => this.#generation,
      running,
      push: (item) => this.#pool.push([item]),
      pokeIfBehind: (dueMs) => this.#dispatch.pokeIfBehind(dueMs),
    });
  }

  /** The id written in the owner column of the tasks this scheduler runs. */
  get owner(): string {
    return this.#o.owner;
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** The attempts running in this scheduler now. */
  runningTasks(): { taskId: number; name: string; attempt: number }[] {
    return this.#admission.running();
  }

  /** Validates every item first, then writes all of them in one transaction. */
  enqueue(name: string, items: readonly DelayItem<unknown>[], defaults: TaskOptions = {}): Promise<Scheduled[]> {
    // Not an async method: delay() one by one costs one promise (the store's) and one then().
    let rows: NewTask[];
    try {
      this.#assertOpen();
      void defaults; // a row keeps only what is given at enqueue: the handler's options apply when it runs
      const base = rowBase(name, this.#o.clock.now(), this.#o.maxArgsBytes);
      rows = items.map((item) => buildRow(base, item.args, item.when));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#store.insert(rows).then((inserted) => {
      const scheduled = inserted.map((row): Scheduled => ({ id: row.id, eta: new Date(row.dueMs), created: row.created }));
      this.#logReceived(name, inserted);
      this.#emitReceived(name, inserted);
      this.#dispatch.pokeIfBehind(earliestDueMs(inserted));
      return scheduled;
    });
  }

  /**
   * Starts the heartbeat and the ticker; the first tick runs at once and catches up. The
   * promise (which never rejects, and need not be awaited) settles once the first heartbeat
   * and the first claim have.
   */
  start(): Promise<void> {
    this.#assertOpen();
    if (this.#state !== 'idle') return Promise.resolve();
    this.#state = 'running';
    this.#stopController = new AbortController();
    // Every running attempt listens to it: more than 10 at once is the normal case, not a leak.
    setMaxListeners(0, this.#stopController.signal);
    this.#journal.open();
    const beat = this.#liveness.start();
    this.#ticker.start();
    this.#o.logger.info({ owner: this.owner, tasks: this.registry.names() }, 'scheduler started');
    return Promise.all([beat, this.#dispatch.idle]).then(() => undefined);
  }

  /**
   * Stops taking work, waits for a claim in flight, lets running handlers finish for up to
   * `drainMs`, records their outcomes (after the commit in flight), and puts every task it
   * could not finish back to `scheduled` for a later run. Exception-safe: whatever fails on
   * the way (a locked database), the heartbeat timer and the journal's retry timer are gone
   * and the scheduler is idle when it rejects with the error.
   */
  async stop(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    try {
      this.#ticker.stop();
      this.#dispatch.cancelWake();
      // What a claim in flight brings is not queued (the state says stopping): release() puts it back.
      await this.#dispatch.idle;
      this.#dropWaiting();
      const drained = await this.#drain(options.drainMs ?? this.#o.drainMs);
      if (!drained) this.#stopController.abort(new DelaydError('E_STOPPED', 'the scheduler stopped'));
      await this.#journal.flush();
      const released = await this.#store.release(this.owner);
      if (released > 0) this.#emit('putBack', { owner: this.owner, count: released, why: 'stopped' });
      this.#o.logger.info({ released, drained }, 'scheduler stopped');
    } finally {
      this.#generation++;
      const beatDone = this.#liveness.stop(); // its timer is cleared at once; never rejects
      this.#journal.close();
      this.#admission.clear();
      await beatDone;
      this.#state = 'idle';
    }
  }

  /** Stops, then closes the database (unless the store was handed in), even if stopping failed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.stop();
    } finally {
      this.#closed = true;
      await this.#threads.close();
      if (!this.#o.store) await this.#store.close();
    }
  }

  /** Writes the buffered outcomes of finished attempts now (they are group-committed), after the commit in flight. */
  flush(): Promise<boolean> {
    return this.#journal.flush();
  }

  /**
   * Claims and hands out what is due up to `second`; what the ticker calls every second.
   * Resolves once the claim (and any asked for while it was in flight) is done.
   */
  tick(second: number): Promise<void> {
    return this.#dispatch.claim(second);
  }

  /** The row, with the policy it runs under here and where each value comes from. */
  async get(id: number): Promise<ExplainedTask | undefined> {
    const row = await this.#store.get(id);
    if (!row) return undefined;
    return Object.assign(row, { policy: explainPolicy(row, this.registry.get(row.name)?.policy, this.#defaults) });
  }

  list(filter: ListFilter = {}): Promise<TaskRow[]> {
    return this.#store.list(filter);
  }

  stats(): Promise<Stats> {
    return this.#store.stats();
  }

  cancel(id: number): Promise<TaskRow> {
    return this.#store.cancel(id, this.#o.clock.now());
  }

  /** Moves a scheduled task to a new time: a countdown in seconds or { countdown | eta }. */
  async reschedule(id: number, when: number | { countdown?: number; eta?: Date | number | string }): Promise<TaskRow> {
    const dueMs = dueMsOf(checkDelayOptions(when), this.#o.clock.now());
    const row = await this.#store.reschedule(id, dueMs);
    this.#dispatch.pokeIfBehind(dueMs);
    return row;
  }

  /** Sends a failed task back to `scheduled`, due now, with one more attempt. */
  async retry(id: number): Promise<TaskRow> {
    const row = await this.#store.retry(id, this.#o.clock.now());
    this.#dispatch.pokeIfBehind(row.dueMs);
    return row;
  }

  /** What `fn.map()` calls: a batch of `name` tasks, one per argument list, in one transaction. */
  async enqueueBatch(name: string, items: readonly unknown[], options: unknown, defaults: TaskOptions = {}): Promise<Batch> {
    this.#assertOpen();
    const { batch, tasks } = buildBatch({
      name,
      items,
      options,
      defaults,
      reduceDefaults: (reduceName) => this.registry.get(reduceName)?.options,
      nowMs: this.#o.clock.now(),
      maxArgsBytes: this.#o.maxArgsBytes,
    });
    const inserted = await this.#store.insertBatch(batch, tasks);
    this.#o.logger.info({ batchId: inserted.id, name, count: inserted.total, created: inserted.created }, 'received batch');
    if (inserted.created) this.#dispatch.pokeIfBehind(batch.dueMs);
    return new Batch(this.#store, inserted.id, inserted.created);
  }

  /** The handle of an existing batch. */
  async batch(id: number): Promise<Batch> {
    const handle = new Batch(this.#store, id);
    await handle.info(); // rejects with E_NOT_FOUND for an unknown id
    return handle;
  }

  /** What the pool starts, once its starts are written under a fresh lease. */
  #admit(items: readonly Item[]): Verdict | Promise<Verdict> {
    if (this.#liveness.freshNow()) return this.#admission.admit(items);
    return this.#liveness.fresh().then((fresh) =>
      fresh ? this.#admission.admit(items) : this.#admission.size > 0 ? 'later' : items.map(() => false),
    );
  }

  #item(task: ClaimedTask): Item {
    const policy = resolvePolicy(task, this.registry.get(task.name)?.policy, this.#defaults);
    // A task cut off before may be what kills its process: it runs alone (worker-pool.ts).
    const item: Item = { task, policy, dueMs: task.dueMs, alone: task.cutOffs > 0, start: () => this.#executor.execute(item) };
    return item;
  }

  /** Forgets every claimed task not yet started; their rows were or will be put back. */
  #dropWaiting(why?: string): void {
    const taken = this.#pool.takeWaiting().length;
    const dropped = this.#admission.dropWaiting();
    if (why) this.#o.logger.warn({ owner: this.owner, dropped: Math.max(taken, dropped) }, why);
  }

  /**
   * Counts store errors that will not pass, per kind of call: a success of the same kind
   * resets its count (a heartbeat may still write while every claim reads a corrupt page).
   */
  #storeResult(kind: string, error: unknown): void {
    const code = (error as { code?: unknown } | null)?.code;
    if (error !== null) this.#emit('storeError', { kind, code: typeof code === 'string' ? code : null });
    if (error === null || typeof code !== 'string' || !FATAL_CODES.has(code)) {
      this.#fatalErrors.delete(kind);
      return;
    }
    const count = (this.#fatalErrors.get(kind) ?? 0) + 1;
    this.#fatalErrors.set(kind, count);
    if (count === FATAL_AFTER) this.#emit('fatal', { error, kind });
  }

  /** One line per task, or one per batch so a bulk enqueue does not flood the log. */
  #logReceived(name: string, inserted: readonly Inserted[]): void {
    const [first, last] = [inserted[0], inserted[inserted.length - 1]];
    if (!first || !last) return;
    if (inserted.length === 1) {
      this.#o.logger.info({ taskId: first.id, name, eta: new Date(first.dueMs), created: first.created }, 'received');
    } else {
      this.#o.logger.info({ name, count: inserted.length, firstId: first.id, lastId: last.id }, 'received');
    }
  }

  /**
   * One 'received' per row. A bulk enqueue writes thousands of rows per call, so with nobody
   * listening (the usual case) no payloads are built.
   */
  #emitReceived(name: string, inserted: readonly Inserted[]): void {
    if (this.listenerCount('received') === 0) return;
    for (const row of inserted) this.#emit('received', { taskId: row.id, name, dueMs: row.dueMs, created: row.created });
  }

  /** A write that scheduled tasks (a batch's reduce, a retry) due now: claim them without waiting a tick. */
  #afterWrite(result: RecordResult): void {
    this.#storeResult('write', null);
    if (result.earliestDueMs !== null) this.#dispatch.pokeIfBehind(result.earliestDueMs);
  }

  async #drain(drainMs: number): Promise<boolean> {
    let timer: unknown;
    const timeout = new Promise<false>((resolve) => {
      timer = this.#o.clock.setTimeout(() => resolve(false), timerMs(drainMs));
    });
    const drained = await Promise.race([this.#pool.whenIdle().then(() => true as const), timeout]);
    this.#o.clock.clearTimeout(timer);
    return drained;
  }

  #emit<E extends keyof SchedulerEvents>(event: E, payload: SchedulerEvents[E]): void {
    safeEmit(this, this.#o.logger, event, payload);
  }

  #assertOpen(): void {
    if (this.#closed) throw new DelaydError('E_STOPPED', 'This scheduler has been closed');
  }
}

function earliestDueMs(rows: readonly Inserted[]): number {
  let earliest = Number.POSITIVE_INFINITY;
  for (const row of rows) if (row.dueMs < earliest) earliest = row.dueMs;
  return earliest;
}
