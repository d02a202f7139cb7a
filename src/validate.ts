/**
 * Checks what a caller hands to delay() and turns it into a row to insert. Everything is
 * checked before anything is written, so bad input changes nothing.
 *
 * Bounds: a due time (from a countdown, an eta, or a retry) must be a time a Date can hold
 * (at most 8.64e15 ms); a duration that becomes a timer (timeout) must fit Node's timers
 * (at most 2147483647 ms), else it would silently fire after 1 ms. Backoff is bounded the same
 * way; the runtime clamps what doubling it for each retry makes of it.
 */
import { serializeArgs } from './args.js';
import { checkCronOptions, CRON_KEYS, type CronOptions } from './cron/options.js';
import { checkEtaMs, MAX_DUE_MS, parseEtaString } from './eta.js';
import { DelaydError, describe } from './errors.js';
import type { NewTask } from './store/types.js';

export { serializeArgs } from './args.js';
export { MAX_DUE_MS } from './eta.js';

/** When and how one task runs; every field is optional. */
export interface DelayOptions {
  /** Seconds from now (fractions allowed). Exclusive with `eta`. @default 0 */
  countdown?: number;
  /** An absolute due time: a Date, unix milliseconds, or an ISO 8601 string (see eta.ts). */
  eta?: Date | number | string;
  /** Idempotency key: while a task with this key is unfinished, delay() returns it instead. */
  key?: string;
  /** Attempts after the first one before the task is `failed`; overrides the handler's. */
  retries?: number;
  /** Seconds before the first retry; doubles for each next one, with jitter; overrides the handler's. */
  backoff?: number;
  /** Seconds a single attempt may run before it is aborted and counted as failed; overrides the handler's. */
  timeout?: number;
}

/**
 * A handler's policy, given to task(name, options); enqueue options override it per task.
 * With `cron` (CronOptions), the task is also periodic: see src/cron/.
 */
export interface TaskOptions extends CronOptions {
  retries?: number;
  backoff?: number;
  timeout?: number;
  /** Attempts cut off by the death of their daemon before the task fails with E_CUT_OFF. @default 3 */
  maxCutOffs?: number;
  /**
   * Where the handler runs: 'none' in the scheduler's own thread, 'thread' in its pool of
   * worker threads (for CPU-bound work; see the scheduler's `threads` and `threadModules`).
   * @default 'none'
   */
  isolation?: Isolation;
}

export const ISOLATIONS = ['none', 'thread'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export const DEFAULT_TASK_OPTIONS = { retries: 0, backoff: 1, timeout: null as number | null };

/** The longest delay Node's timers keep (2^31 - 1 ms); longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
/** The same in whole seconds, as messages say it. */
export const MAX_TIMER_S = 2_147_483;

const DELAY_KEYS = new Set(['countdown', 'eta', 'key', 'retries', 'backoff', 'timeout']);
const TASK_KEYS = new Set(['retries', 'backoff', 'timeout', 'maxCutOffs', 'isolation', ...CRON_KEYS]);
const MAX_NAME_LENGTH = 200;
const MAX_KEY_LENGTH = 200;
// C0 controls, DEL and C1 controls: they would reach terminals and logs raw.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate half without its other half: SQLite stores it as invalid UTF-8, read back as U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new DelaydError(
      'E_BAD_NAME',
      `Expected a task name to be a non-empty string of at most ${MAX_NAME_LENGTH} characters, got ${describe(name)}`,
    );
  }
  if (CONTROL.test(name) || LONE_SURROGATE.test(name)) {
    throw new DelaydError(
      'E_BAD_NAME',
      `Expected a task name without control characters or lone surrogates, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

export function checkTaskOptions(options: unknown): TaskOptions {
  const record = checkRecord(options, 'task options', TASK_KEYS);
  return {
    retries: optionalCount(record.retries, 'retries'),
    backoff: optionalBackoff(record.backoff),
    timeout: optionalTimeout(record.timeout),
    maxCutOffs: optionalCount(record.maxCutOffs, 'maxCutOffs'),
    isolation: optionalIsolation(record.isolation),
    ...checkCronOptions(record),
  };
}

function optionalIsolation(value: unknown): Isolation | undefined {
  if (value === undefined || (ISOLATIONS as readonly unknown[]).includes(value)) return value as Isolation | undefined;
  throw new DelaydError('E_BAD_OPTION', `Expected \`isolation\` to be one of ${ISOLATIONS.map((i) => `'${i}'`).join(', ')}, got ${describe(value)}`);
}

/** Normalises delay()'s second argument: a countdown in seconds or an options object. */
export function checkDelayOptions(when: unknown): DelayOptions {
  if (when === undefined) return {};
  if (typeof when === 'number') return { countdown: checkCountdown(when) };
  const record = checkRecord(when, 'delay options', DELAY_KEYS);
  if (record.countdown !== undefined && record.eta !== undefined) {
    throw new DelaydError('E_BAD_OPTION', 'Expected either `countdown` or `eta`, got both');
  }
  const key = record.key;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || LONE_SURROGATE.test(key))) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Expected \`key\` to be a non-empty string of at most ${MAX_KEY_LENGTH} characters without lone surrogates, got ${describe(key)}`,
    );
  }
  return {
    countdown: record.countdown === undefined ? undefined : checkCountdown(record.countdown),
    eta: record.eta === undefined ? undefined : (record.eta as DelayOptions['eta']),
    key: key as string | undefined,
    retries: optionalCount(record.retries, 'retries'),
    backoff: optionalBackoff(record.backoff),
    timeout: optionalTimeout(record.timeout),
  };
}

/** Seconds from now; the due time it gives is checked against MAX_DUE_MS by dueFromCountdown. */
export function checkCountdown(countdown: unknown): number {
  if (typeof countdown !== 'number' || !Number.isFinite(countdown) || countdown < 0) {
    throw new DelaydError(
      'E_BAD_COUNTDOWN',
      `Expected \`countdown\` to be a finite number of seconds >= 0, got ${describe(countdown)}`,
    );
  }
  if (countdown > MAX_DUE_MS / 1000) throw countdownTooLarge(countdown);
  return countdown;
}

/** The due time of a countdown given at `nowMs`, refused when past what a Date can hold. */
export function dueFromCountdown(countdown: number, nowMs: number): number {
  const dueMs = nowMs + toMs(countdown);
  if (dueMs > MAX_DUE_MS) throw countdownTooLarge(countdown);
  return dueMs;
}

function countdownTooLarge(countdown: number): DelaydError {
  return new DelaydError(
    'E_BAD_COUNTDOWN',
    `Expected \`countdown\` to be small enough that the due time stays within ${MAX_DUE_MS} unix ms (+275760-09-13), got ${describe(countdown)}`,
  );
}

/** Unix milliseconds of an eta given as a Date, a number of milliseconds, or a string (see eta.ts). */
export function etaToMs(eta: unknown): number {
  if (typeof eta === 'string') return parseEtaString(eta);
  if (eta instanceof Date || typeof eta === 'number') return checkEtaMs(eta instanceof Date ? eta.getTime() : eta, eta);
  throw new DelaydError('E_BAD_ETA', `Expected \`eta\` to be a valid Date, unix milliseconds or ISO 8601 time, got ${describe(eta)}`);
}

export function dueMsOf(options: DelayOptions, nowMs: number): number {
  if (options.eta !== undefined) return etaToMs(options.eta);
  return dueFromCountdown(options.countdown ?? 0, nowMs);
}

/**
 * The delay of `this.retry(seconds)` at `nowMs`, in ms: seconds >= 0 whose due time stays
 * within what a Date can hold (a retry due at Infinity or past 8.64e15 could not be stored).
 */
export function retryDelayMs(seconds: unknown, nowMs: number): number {
  const ok = typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 && nowMs + toMs(seconds) <= MAX_DUE_MS;
  if (!ok) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Expected retry seconds to be a finite number >= 0 that keeps the due time within ${MAX_DUE_MS} unix ms, got ${describe(seconds)}`,
    );
  }
  return toMs(seconds as number);
}

function checkRecord(value: unknown, what: string, allowed: Set<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be a number of seconds or an object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.has(key)) {
      throw new DelaydError(
        'E_UNKNOWN_OPTION',
        `Unknown option \`${key}\` in ${what}; expected one of ${[...allowed].join(', ')}`,
      );
    }
  }
  return record;
}

function optionalCount(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`${name}\` to be an integer from 0 to 1000, got ${describe(value)}`);
  }
  return value;
}

/** 0 to 2147483 s: the first retry's delay; doubling it is clamped at run time. */
function optionalBackoff(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_S) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`backoff\` to be a number of seconds from 0 to ${MAX_TIMER_S} (at most ${MAX_TIMER_S} s), got ${describe(value)}`);
  }
  return value;
}

/** 0.001 to 2147483 s: it becomes a timer, so it must be a whole ms > 0 that Node keeps. */
function optionalTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.001 || value > MAX_TIMER_S) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`timeout\` to be a number of seconds from 0.001 to ${MAX_TIMER_S} (at most ${MAX_TIMER_S} s), got ${describe(value)}`);
  }
  return value;
}

/** What every row of one enqueue call shares: its task and its time. */
export interface RowBase {
  name: string;
  nowMs: number;
  maxArgsBytes: number;
}

/**
 * No policy here: a row carries only what its own call gives (retries, backoff, timeout),
 * and the daemon that runs it fills the rest from its handler (see policy.ts).
 */
export function rowBase(name: string, nowMs: number, maxArgsBytes: number): RowBase {
  return { name, nowMs, maxArgsBytes };
}

/**
 * Builds the row for one item from its own options. `when` is checked before `args`. A bare
 * countdown, the bulk case, needs no options object.
 */
export function buildRow(base: RowBase, args: unknown, when: unknown): NewTask {
  if (when === undefined || typeof when === 'number') {
    const dueMs = when === undefined ? base.nowMs : dueFromCountdown(checkCountdown(when), base.nowMs);
    return newTask(base, serializeArgs(args, base.maxArgsBytes), dueMs, null, null, null, null);
  }
  const options = checkDelayOptions(when);
  const argsJson = serializeArgs(args, base.maxArgsBytes);
  const timeoutMs = options.timeout === undefined ? null : toMs(options.timeout);
  const backoffMs = options.backoff === undefined ? null : toMs(options.backoff);
  const dueMs = dueMsOf(options, base.nowMs);
  return newTask(base, argsJson, dueMs, options.key ?? null, options.retries ?? null, backoffMs, timeoutMs);
}

/** Builds the row for one delay() call. */
export function buildNewTask(input: { name: string; args: unknown; when: unknown; nowMs: number; maxArgsBytes: number }): NewTask {
  return buildRow(rowBase(input.name, input.nowMs, input.maxArgsBytes), input.args, input.when);
}

// One literal, so every row has the same shape (hidden class) for the store's loop.
function newTask(
  base: RowBase,
  args: string,
  dueMs: number,
  key: string | null,
  retries: number | null,
  backoffMs: number | null,
  timeoutMs: number | null,
): NewTask {
  return { name: base.name, args, dueMs, createdMs: base.nowMs, key, retries, backoffMs, timeoutMs };
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}
