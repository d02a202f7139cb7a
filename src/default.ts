/**
 * The default scheduler behind a bare `task()`: opened on first use, on $DELAYD_DB or
 * ./delayd.db. The daemon and the testing helper install their own in its place.
 */
import { Scheduler } from './scheduler.js';
import { Registry, taskFactory } from './task.js';

export const defaultRegistry = new Registry();

let current: Scheduler | undefined;

export function defaultScheduler(): Scheduler {
  current ??= new Scheduler({ registry: defaultRegistry });
  return current;
}

/** Makes `scheduler` the one bare task() enqueues into; it should share defaultRegistry. */
export function setDefaultScheduler(scheduler: Scheduler | undefined): void {
  current = scheduler;
}

/** `task(name?, options?)(fn)`: registers `fn` and adds `.delay()`, on the default scheduler. */
export const task = taskFactory(defaultRegistry, defaultScheduler);
