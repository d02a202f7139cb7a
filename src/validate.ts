/**
 * Checks what a caller hands to delay() and turns it into a row to insert. Everything is
 * checked before anything is written, so bad input changes nothing.
 */
import { DelaydError, describe } from './errors.js';
import type { NewTask } from './store/types.js';

/** When and how one task runs; every field is optional. */
export interface DelayOptions {
  /** Seconds from now (fractions allowed). Exclusive with `eta`. @default 0 */
  countdown?: number;
  /** An absolute due time: a Date, unix milliseconds, or an ISO 8601 string. */
  eta?: Date | number | string;
  /** Idempotency key: while a task with this key is unfinished, delay() returns it instead. */
  key?: string;
  /** Attempts after the first one before the task is `failed`. */
  retries?: number;
  /** Seconds before the first retry; doubles for each next one, with jitter. */
  backoff?: number;
  /** Seconds a single attempt may run before it is aborted and counted as failed. */
  timeout?: number;
}

/** Per-task defaults, given to task(name, options). */
export interface TaskOptions {
  retries?: number;
  backoff?: number;
  timeout?: number;
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

const DELAY_KEYS = new Set(['countdown', 'eta', 'key', 'retries', 'backoff', 'timeout']);
const TASK_KEYS = new Set(['retries', 'backoff', 'timeout', 'isolation']);
const MAX_NAME_LENGTH = 200;
const MAX_KEY_LENGTH = 200;

export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new DelaydError(
      'E_BAD_NAME',
      `Expected a task name to be a non-empty string of at most ${MAX_NAME_LENGTH} characters, got ${describe(name)}`,
    );
  }
  return name;
}

export function checkTaskOptions(options: unknown): TaskOptions {
  const record = checkRecord(options, 'task options', TASK_KEYS);
  return {
    retries: optionalCount(record.retries, 'retries'),
    backoff: optionalSeconds(record.backoff, 'backoff'),
    timeout: optionalSeconds(record.timeout, 'timeout', true),
    isolation: optionalIsolation(record.isolation),
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
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH)) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Expected \`key\` to be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${describe(key)}`,
    );
  }
  return {
    countdown: record.countdown === undefined ? undefined : checkCountdown(record.countdown),
    eta: record.eta === undefined ? undefined : (record.eta as DelayOptions['eta']),
    key: key as string | undefined,
    retries: optionalCount(record.retries, 'retries'),
    backoff: optionalSeconds(record.backoff, 'backoff'),
    timeout: optionalSeconds(record.timeout, 'timeout', true),
  };
}

export function checkCountdown(countdown: unknown): number {
  if (typeof countdown !== 'number' || !Number.isFinite(countdown) || countdown < 0) {
    throw new DelaydError(
      'E_BAD_COUNTDOWN',
      `Expected \`countdown\` to be a finite number of seconds >= 0, got ${describe(countdown)}`,
    );
  }
  return countdown;
}

/** Unix milliseconds of an eta given as a Date, a number of milliseconds, or an ISO string. */
export function etaToMs(eta: unknown): number {
  let ms = Number.NaN;
  if (eta instanceof Date) ms = eta.getTime();
  else if (typeof eta === 'number') ms = eta;
  else if (typeof eta === 'string' && eta.trim() !== '') ms = Date.parse(eta);
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    throw new DelaydError(
      'E_BAD_ETA',
      `Expected \`eta\` to be a valid Date, unix milliseconds or ISO 8601 time, got ${describe(eta)}`,
    );
  }
  return Math.ceil(ms);
}

export function dueMsOf(options: DelayOptions, nowMs: number): number {
  if (options.eta !== undefined) return etaToMs(options.eta);
  return nowMs + Math.round((options.countdown ?? 0) * 1000);
}

/**
 * Serialises handler args, refusing what JSON would silently change or drop. Runs once per
 * task, so the common case stays cheap: a quick walk that builds no paths, and a byte count
 * only when the JSON could be over the limit.
 */
export function serializeArgs(args: unknown, maxBytes: number): string {
  if (!Array.isArray(args)) {
    throw new DelaydError('E_BAD_ARGS', `Expected \`args\` to be an array, got ${describe(args)}`);
  }
  // The quick walk says "fine" or "look closer"; the full check finds what is wrong and where.
  if (!isPlainJson(args, 0)) checkJsonValue(args, 'args', new Set());
  const json = JSON.stringify(args);
  // UTF-8 needs at most 3 bytes per UTF-16 code unit, so short JSON cannot be over the limit.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) {
      throw new DelaydError(
        'E_ARGS_TOO_LARGE',
        `Expected \`args\` to serialise to at most ${maxBytes} bytes of JSON, got ${bytes} bytes`,
      );
    }
  }
  return json;
}

/** Nesting the quick walk follows; deeper values (and cycles, which never end) go to the full check. */
const QUICK_DEPTH = 32;

/**
 * True when `value` is certainly what checkJsonValue accepts; false when it may not be. It
 * keeps no set of seen objects and builds no paths, which is most of the full check's cost.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= QUICK_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) if (!isPlainJson(record[key], depth + 1)) return false;
  return true;
}

function checkJsonValue(value: unknown, path: string, seen: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw badArg(path, `a finite number`, value);
  }
  if (typeof value !== 'object') throw badArg(path, 'a JSON value', value);
  if (seen.has(value)) throw new DelaydError('E_BAD_ARGS', `Expected \`args\` to be JSON-serialisable, got a circular reference at ${path}`);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    throw badArg(path, 'a plain object, array, string, finite number, boolean or null', value);
  }
  seen.add(value);
  if (Array.isArray(value)) value.forEach((item, i) => checkJsonValue(item, `${path}[${i}]`, seen));
  else for (const [k, v] of Object.entries(value)) checkJsonValue(v, `${path}.${k}`, seen);
  seen.delete(value);
}

function badArg(path: string, expected: string, value: unknown): DelaydError {
  return new DelaydError('E_BAD_ARGS', `Expected ${path} to be ${expected}, got ${describe(value)}`);
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

function optionalSeconds(value: unknown, name: string, positive = false): number | undefined {
  if (value === undefined) return undefined;
  const ok = typeof value === 'number' && Number.isFinite(value) && (positive ? value > 0 : value >= 0);
  if (!ok) {
    throw new DelaydError(
      'E_BAD_OPTION',
      `Expected \`${name}\` to be a finite number of seconds ${positive ? '> 0' : '>= 0'}, got ${describe(value)}`,
    );
  }
  return value as number;
}

/** What every row of one enqueue call shares: its task, its time and the task's defaults. */
export interface RowBase {
  name: string;
  nowMs: number;
  maxArgsBytes: number;
  retries: number;
  backoffMs: number;
  timeoutMs: number | null;
}

/** Resolves the task's defaults once per call rather than once per row. */
export function rowBase(name: string, defaults: TaskOptions, nowMs: number, maxArgsBytes: number): RowBase {
  const timeout = defaults.timeout ?? DEFAULT_TASK_OPTIONS.timeout;
  return {
    name,
    nowMs,
    maxArgsBytes,
    retries: defaults.retries ?? DEFAULT_TASK_OPTIONS.retries,
    backoffMs: toMs(defaults.backoff ?? DEFAULT_TASK_OPTIONS.backoff),
    timeoutMs: timeout === null ? null : toMs(timeout),
  };
}

/**
 * Builds the row for one item: task defaults < the item's options. `when` is checked before
 * `args`. A bare countdown, the bulk case, needs no options object.
 */
export function buildRow(base: RowBase, args: unknown, when: unknown): NewTask {
  if (when === undefined || typeof when === 'number') {
    const dueMs = base.nowMs + (when === undefined ? 0 : toMs(checkCountdown(when)));
    return newTask(base, serializeArgs(args, base.maxArgsBytes), dueMs, null, base.retries, base.backoffMs, base.timeoutMs);
  }
  const options = checkDelayOptions(when);
  const argsJson = serializeArgs(args, base.maxArgsBytes);
  const timeoutMs = options.timeout === undefined ? base.timeoutMs : toMs(options.timeout);
  const backoffMs = options.backoff === undefined ? base.backoffMs : toMs(options.backoff);
  const dueMs = dueMsOf(options, base.nowMs);
  return newTask(base, argsJson, dueMs, options.key ?? null, options.retries ?? base.retries, backoffMs, timeoutMs);
}

/** Builds the row for one delay() call: task defaults < per-call options. */
export function buildNewTask(input: {
  name: string;
  args: unknown;
  when: unknown;
  defaults: TaskOptions;
  nowMs: number;
  maxArgsBytes: number;
}): NewTask {
  return buildRow(rowBase(input.name, input.defaults, input.nowMs, input.maxArgsBytes), input.args, input.when);
}

// One literal, so every row has the same shape (hidden class) for the store's loop.
function newTask(
  base: RowBase,
  args: string,
  dueMs: number,
  key: string | null,
  retries: number,
  backoffMs: number,
  timeoutMs: number | null,
): NewTask {
  return { name: base.name, args, dueMs, createdMs: base.nowMs, key, retries, backoffMs, timeoutMs };
}

function toMs(seconds: number): number {
  return Math.round(seconds * 1000);
}
