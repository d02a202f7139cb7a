export { task, defaultScheduler, defaultRegistry } from './default.js';
export { Scheduler, type FullSchedulerOptions } from './scheduler.js';
export { Registry, asTask, type Delayable, type Scheduled, type TaskMethods, type DelayItem } from './task.js';
export { DelaydError, RetryLater, type DelaydErrorCode } from './errors.js';
export { systemClock, fromFakeClock, type Clock } from './clock.js';
export { DEFAULTS, type SchedulerOptions } from './config.js';
export type { TaskContext } from './runner.js';
export type { DelayOptions, TaskOptions } from './validate.js';
export type { TaskRow, TaskState, Stats, ListFilter, Store } from './store/types.js';
