/**
 * The default scheduler behind a bare `task()`: opened on first use, on $DELAYD_DB or
 * ./delayd.db. The daemon and the testing helper install their own in its place.
 */
import { DelaydError } from './errors.js';
import { Scheduler } from './scheduler.js';
import { Registry, taskFactory } from './task.js';

/** Set on globalThis in the threads of the handler pool (thread-worker.ts), whatever copy of delayd. */
export const POOL_THREAD = Symbol.for('delayd.poolThread');

export const defaultRegistry = new Registry();

let current: Scheduler | undefined;

export function defaultScheduler(): Scheduler {
  // Opening $DELAYD_DB from a pool thread would enqueue from there, once per thread for a
  // module that enqueues at import time: refuse, loudly.
  if (current === undefined && (globalThis as Record<symbol, unknown>)[POOL_THREAD] === true) {
    throw new DelaydError('E_BAD_STATE', 'Cannot enqueue from a worker thread: a thread handler or thread module must not call delay() or map()');
  }
  current ??= new Scheduler({ registry: defaultRegistry });
  return current;
}

/** Makes `scheduler` the one bare task() enqueues into; it should share defaultRegistry. */
export function setDefaultScheduler(scheduler: Scheduler | undefined): void {
  current = scheduler;
}

/** `task(name?, options?)(fn)`: registers `fn` and adds `.delay()`, on the default scheduler. */
export const task = taskFactory(defaultRegistry, defaultScheduler);
