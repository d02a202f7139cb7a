/**
 * What `fn.map()` writes: map()'s options checked, the batch row and one task row per item
 * (batch.ts is the handle that reads a batch back).
 */
import type { MapOptions } from './api.js';
import { DelaydError, describe } from './errors.js';
import type { NewBatch, NewTask } from './store/types.js';
import { buildRow, checkDelayOptions, dueMsOf, rowBase, type TaskOptions } from './validate.js';

/**
 * Checks map()'s options and builds the batch row and one task row per item. Like delay(),
 * the rows carry only the policy given in `options`; the reduce row none (its handler's
 * policy applies when it runs).
 */
export function buildBatch(input: {
  name: string;
  items: unknown;
  options: unknown;
  /** Ignored (the handler's policy applies at run time); kept until scheduler.ts stops passing it. */
  defaults?: TaskOptions;
  /** Ignored, as `defaults`. */
  reduceDefaults?: (name: string) => TaskOptions | undefined;
  nowMs: number;
  maxArgsBytes: number;
}): { batch: NewBatch; tasks: NewTask[] } {
  const { name, nowMs } = input;
  if (!Array.isArray(input.items)) {
    throw new DelaydError('E_BAD_ARGS', `Expected map() to get an array of argument lists, got ${describe(input.items)}`);
  }
  const { key, reduce, ...when } = checkMapOptions(input.options);
  const delay = checkDelayOptions(when);
  const base = rowBase(name, nowMs, input.maxArgsBytes);
  const tasks = input.items.map((args: unknown) => buildRow(base, args, delay));
  const reduceTask = reduce ? { name: reduce.taskName, retries: null, backoffMs: null, timeoutMs: null } : null;
  return { batch: { name, key: key ?? null, createdMs: nowMs, dueMs: dueMsOf(delay, nowMs), reduce: reduceTask }, tasks };
}

function checkMapOptions(options: unknown): MapOptions {
  if (options === undefined) return {};
  if (typeof options === 'number') return { countdown: options };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new DelaydError('E_BAD_OPTION', `Expected map options to be a number of seconds or an object, got ${describe(options)}`);
  }
  const { key, reduce, ...rest } = options as MapOptions;
  if (key !== undefined) checkDelayOptions({ key });
  if (reduce !== undefined && (typeof reduce !== 'function' || typeof (reduce as { taskName?: unknown }).taskName !== 'string')) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`reduce\` to be a function decorated with task(), got ${describe(reduce)}`);
  }
  return { ...rest, key, reduce };
}
