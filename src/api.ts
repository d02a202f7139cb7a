/**
 * The public types of tasks, in a module that imports no implementation (only the Batch
 * handle's type), so task.ts, batch.ts and batch-build.ts depend on it and not on each other.
 */
import type { Batch } from './batch.js';
import type { DelayOptions } from './validate.js';

// No `this` in the constraint: a handler that wants its context declares `this: TaskContext`,
// and one that does not stays callable directly.
export type AnyFunction = (...args: never[]) => unknown;
/** A handler's parameters, without its `this: TaskContext`. */
export type ArgsOf<F> = F extends (...args: infer A) => unknown ? A : never;

export interface Scheduled {
  id: number;
  eta: Date;
  /** False when `key` matched an unfinished task, which is returned instead. */
  created: boolean;
}

export interface DelayItem<A> {
  args: A;
  when?: number | DelayOptions;
}

export interface TaskMethods<A extends unknown[]> {
  readonly taskName: string;
  /** Schedules one run; resolves once it is committed to the database. */
  delay(args: A, when?: number | DelayOptions): Promise<Scheduled>;
  /**
   * Schedules many runs in one write: on SQLite one transaction (all or none); on Redis one
   * script per shard, so a refusal part-way says which of them were written.
   */
  delayMany(items: readonly (A | DelayItem<A>)[], when?: number | DelayOptions): Promise<Scheduled[]>;
  /**
   * Schedules one run per argument list under one batch id, in one transaction, and returns
   * the batch's handle; `reduce` runs once, with args [batchId], when every item is done.
   */
  map(items: readonly A[], options?: number | MapOptions): Promise<Batch>;
}

export type Delayable<F extends AnyFunction> = F & TaskMethods<ArgsOf<F>>;

/** How the items of a batch run; per-item options as in delay(), plus the batch's own. */
export interface MapOptions extends Omit<DelayOptions, 'key'> {
  /** Idempotency key of the batch: while a batch with this key is unfinished, map() returns it. */
  key?: string;
  /** A task run once, with args [batchId], when every item has its final outcome. */
  reduce?: TaskMethods<[batchId: number]> | TaskMethods<[]>;
}
