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
import { BackendLinks } from './backend-links.js';
import { Batch } from './batch.js';
import { buildBatch } from './batch-build.js';
import { resolveOptions, type ResolvedOptions, type SchedulerOptions } from './config.js';
import { startCrons } from './cron/start.js';
import { DelaydError } from './errors.js';
import { safeEmit, type SchedulerEvents } from './events.js';
import { StoreHealth } from './health.js';
import { assemble, type Parts } from './parts.js';
import { earliestDueMs, tellReceived } from './received.js';
import { DEFAULT_POLICY, explainPolicy, type ExplainedPolicy, type Policy } from './policy.js';
import { openStore } from './store/open.js';
import type { ListFilter, NewTask, RecordResult, Stats, Store, TaskRow } from './store/types.js';
import { Registry, taskFactory, type DelayItem, type Enqueuer, type Scheduled } from './task.js';
import { buildRow, checkDelayOptions, dueMsOf, rowBase, type TaskOptions } from './validate.js';

/** A task's row with its effective policy, and where each value of it comes from. */
export type ExplainedTask = TaskRow & { policy: ExplainedPolicy };

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
  readonly #defaults: Policy;
  /** The parts (parts.ts): admission, pool, journal, threads, liveness, dispatch, ticker, executor. */
  readonly #p: Parts;
  /** The backend's clock and nudges, when the store is a shared backend. */
  readonly #links: BackendLinks;
  #state: RunState = 'idle';
  #stopController = new AbortController();
  #closed = false;
  /** Bumped at every stop: attempts abandoned by a stop record nothing when they end. */
  #generation = 0;
  readonly #health = new StoreHealth({
    onError: (kind, code) => this.#emit('storeError', { kind, code }),
    onFatal: (error, kind) => this.#emit('fatal', { error, kind }),
  });

  constructor(options: FullSchedulerOptions = {}) {
    super();
    const { registry, ...rest } = options;
    this.#o = resolveOptions(rest);
    this.registry = registry ?? new Registry();
    this.task = taskFactory(this.registry, () => this);
    const { logger } = this.#o;
    this.#store = this.#o.store ?? openStore({
      db: this.#o.db,
      synchronous: this.#o.synchronous,
      shards: this.#o.shards,
      replicas: this.#o.replicas,
      log: (level, message, fields) => logger[level](fields, message),
    });
    // A shared backend judges "never early" by its own clock, unless a clock was handed in (tests).
    this.#links = new BackendLinks(this.#store, this.#o.clock, rest.clock !== undefined, logger);
    this.#o = { ...this.#o, clock: this.#links.clock };
    this.#defaults = { ...DEFAULT_POLICY, maxCutOffs: this.#o.maxCutOffs };
    const parts = assemble(this.#o, this.#store, this.registry, this.#defaults, {
      events: this,
      emit: (event, payload) => this.#emit(event, payload),
      running: () => this.#state === 'running',
      stopSignal: () => this.#stopController.signal,
      generation: () => this.#generation,
      dropWaiting: (why) => this.#dropWaiting(why),
      storeResult: (kind, error) => this.#health.result(kind, error),
      afterWrite: (result) => this.#afterWrite(result),
      beforeBeat: () => this.#links.syncClock(),
    });
    this.#p = parts;
  }

  /** The store this scheduler reads and writes (for an embedding server's reads; not for closing). */
  get store(): Store {
    return this.#store;
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
    return this.#p.admission.running();
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
      tellReceived(this, this.#o.logger, name, inserted);
      this.#p.dispatch.pokeIfBehind(earliestDueMs(inserted));
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
    this.#p.journal.open();
    this.#links.listen((dueMs) => this.#p.dispatch.pokeIfBehind(dueMs));
    // Before the ticker: the admission learns the schedules, and the store's pending occurrences follow the code (cron/start.ts).
    const crons = startCrons({ store: this.#store, registry: this.registry, admission: this.#p.admission, clock: this.#o.clock, logger: this.#o.logger });
    this.#o.logger.info({ owner: this.owner, tasks: this.registry.names() }, 'scheduler started');
    const begin = () => {
      const beat = this.#p.liveness.start();
      this.#p.ticker.start();
      return Promise.all([beat, this.#p.dispatch.idle, crons]).then(() => undefined);
    };
    if (!this.#links.judged) return begin();
    // Nothing is claimed before the backend's clock is known: a host running ahead would start early.
    return this.#links.syncClock().then(() => (this.#state === 'running' ? begin() : undefined));
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
      this.#p.ticker.stop();
      this.#p.dispatch.cancelWake();
      // What a claim in flight brings is not queued (the state says stopping): release() puts it back.
      await this.#p.dispatch.idle;
      this.#dropWaiting();
      const drained = await this.#p.pool.idleWithin(options.drainMs ?? this.#o.drainMs);
      if (!drained) this.#stopController.abort(new DelaydError('E_STOPPED', 'the scheduler stopped'));
      await this.#p.journal.flush();
      const released = await this.#store.release(this.owner);
      if (released > 0) this.#emit('putBack', { owner: this.owner, count: released, reason: 'stopped', why: 'stopped' });
      this.#o.logger.info({ released, drained }, 'scheduler stopped');
    } finally {
      this.#generation++;
      const beatDone = this.#p.liveness.stop(); // its timer is cleared at once; never rejects
      await this.#links.unlisten();
      this.#p.journal.close();
      this.#p.admission.clear();
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
      await this.#p.threads.close();
      if (!this.#o.store) await this.#store.close();
    }
  }

  /** Writes the buffered outcomes of finished attempts now (they are group-committed), after the commit in flight. */
  flush(): Promise<boolean> {
    return this.#p.journal.flush();
  }

  /**
   * Claims and hands out what is due up to `second`; what the ticker calls every second.
   * Resolves once the claim (and any asked for while it was in flight) is done.
   */
  tick(second: number): Promise<void> {
    return this.#p.dispatch.claim(second);
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
    this.#p.dispatch.pokeIfBehind(dueMs);
    return row;
  }

  /** Sends a failed task back to `scheduled`, due now, with one more attempt. */
  async retry(id: number): Promise<TaskRow> {
    const row = await this.#store.retry(id, this.#o.clock.now());
    this.#p.dispatch.pokeIfBehind(row.dueMs);
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
    if (inserted.created) this.#p.dispatch.pokeIfBehind(batch.dueMs);
    return new Batch(this.#store, inserted.id, inserted.created);
  }

  /** The handle of an existing batch. */
  async batch(id: number): Promise<Batch> {
    const handle = new Batch(this.#store, id);
    await handle.info(); // rejects with E_NOT_FOUND for an unknown id
    return handle;
  }

  /** Forgets every claimed task not yet started; their rows were or will be put back. */
  #dropWaiting(why?: string): void {
    const taken = this.#p.pool.takeWaiting().length;
    const dropped = this.#p.admission.dropWaiting();
    if (why) this.#o.logger.warn({ owner: this.owner, dropped: Math.max(taken, dropped) }, why);
  }

  /** A write that scheduled tasks (a batch's reduce, a retry) due now: claim them without waiting a tick. */
  #afterWrite(result: RecordResult): void {
    this.#health.result('write', null);
    if (result.earliestDueMs !== null) this.#p.dispatch.pokeIfBehind(result.earliestDueMs);
  }

  #emit<E extends keyof SchedulerEvents>(event: E, payload: SchedulerEvents[E]): void {
    safeEmit(this, this.#o.logger, event, payload);
  }

  #assertOpen(): void {
    if (this.#closed) throw new DelaydError('E_STOPPED', 'This scheduler has been closed');
  }
}
