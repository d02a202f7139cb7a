/**
 * The scheduler's parts and how they are wired to each other (scheduler.ts keeps the façade
 * and the lifecycle). Each part is told only what it needs; what belongs to the scheduler
 * itself (its state, its events, its error counts) comes through the Host.
 */
import type { EventEmitter } from 'node:events';
import { Admission, type Item } from './admission.js';
import type { ResolvedOptions } from './config.js';
import { resolvePolicy, type Policy } from './policy.js';
import { Dispatch } from './dispatch.js';
import type { SchedulerEvents } from './events.js';
import { Executor } from './execute.js';
import { Journal } from './journal.js';
import { Liveness } from './liveness.js';
import type { ClaimedTask, RecordResult, Store } from './store/types.js';
import type { Registry } from './task.js';
import { ThreadPool } from './threads.js';
import { Ticker } from './ticker.js';
import { Wheel } from './wheel.js';
import { WorkerPool, type Verdict } from './worker-pool.js';

export interface Host {
  events: EventEmitter;
  emit<E extends keyof SchedulerEvents>(event: E, payload: SchedulerEvents[E]): void;
  running(): boolean;
  stopSignal(): AbortSignal;
  generation(): number;
  dropWaiting(why: string): void;
  /** A store call of this kind failed (error), or passed (null). */
  storeResult(kind: string, error: unknown): void;
  afterWrite(result: RecordResult): void;
  /** Run before every heartbeat (the backend clock's sample); never rejects. */
  beforeBeat?: () => Promise<void>;
}

export interface Parts {
  admission: Admission;
  pool: WorkerPool<Item>;
  journal: Journal;
  threads: ThreadPool;
  liveness: Liveness;
  dispatch: Dispatch;
  ticker: Ticker;
  executor: Executor;
}

export function assemble(o: ResolvedOptions, store: Store, registry: Registry, defaults: Policy, host: Host): Parts {
  const { clock, logger, owner } = o;
  const parts = {} as Parts;
  // A claimed task as the pool holds it, under the policy its handler declares (policy.ts).
  const item = (task: ClaimedTask): Item => {
    const policy = resolvePolicy(task, registry.get(task.name)?.policy, defaults);
    // A task cut off before may be what kills its process: it runs alone (worker-pool.ts).
    const it: Item = { task, policy, dueMs: task.dueMs, alone: task.cutOffs > 0, start: () => parts.executor.execute(it) };
    return it;
  };
  // What the pool starts, once its starts are written under a fresh lease.
  const admit = (items: readonly Item[]): Verdict | Promise<Verdict> => {
    const { liveness, admission } = parts;
    if (liveness.freshNow()) return admission.admit(items);
    return liveness.fresh().then((fresh) => (fresh ? admission.admit(items) : admission.size > 0 ? 'later' : items.map(() => false)));
  };
  parts.admission = new Admission({
    store,
    owner,
    logger,
    now: clock.now,
    item,
    onResult: (error) => host.storeResult('start', error),
    onCutOff: (task, error) => parts.executor.reportFailed(task, error),
    onScheduled: (dueMs) => parts.dispatch.pokeIfBehind(dueMs),
  });
  parts.pool = new WorkerPool<Item>({
    clock,
    concurrency: o.concurrency,
    queueSize: o.queueSize,
    onRoom: () => parts.dispatch.roomFreed(),
    admit,
    admitsInFlight: store.startsInFlight,
  });
  parts.journal = new Journal({
    store,
    clock,
    logger,
    afterWrite: (result) => host.afterWrite(result),
    onError: (error) => host.storeResult('write', error),
  });
  parts.threads = new ThreadPool({ threads: o.threads, modules: o.threadModules, logger });
  parts.liveness = new Liveness({
    store,
    clock,
    owner,
    logger,
    names: () => registry.names(),
    policies: () => registry.policies(),
    heartbeatMs: o.heartbeatMs,
    leaseMs: o.leaseMs,
    startedMs: clock.now(),
    onLost: () => host.dropWaiting('lease lost'),
    onResult: (error) => host.storeResult('heartbeat', error),
    onPutBack: (event) => host.emit('putBack', event),
    beforeBeat: host.beforeBeat,
  });
  parts.dispatch = new Dispatch({
    clock,
    logger,
    wheel: new Wheel({ store, owner }),
    pool: parts.pool,
    admission: parts.admission,
    lease: parts.liveness,
    names: () => registry.names(),
    running: host.running,
    onResult: (error) => host.storeResult('claim', error),
    onClaimed: (event) => host.emit('claimed', event),
  });
  parts.ticker = new Ticker({ clock, lookaheadMs: o.lookaheadMs, onTick: (s) => void parts.dispatch.claim(s) });
  parts.dispatch.ticker = parts.ticker;
  parts.executor = new Executor({
    clock,
    logger,
    owner,
    registry,
    journal: parts.journal,
    admission: parts.admission,
    threads: parts.threads,
    events: host.events,
    stopSignal: host.stopSignal,
    generation: host.generation,
    running: host.running,
    push: (item) => parts.pool.push([item]),
    pokeIfBehind: (dueMs) => parts.dispatch.pokeIfBehind(dueMs),
  });
  return parts;
}
