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

/** Serialises handler args, refusing what JSON would silently change or drop. */
export function serializeArgs(args: unknown, maxBytes: number): string {
  if (!Array.isArray(args)) {
    throw new DelaydError('E_BAD_ARGS', `Expected \`args\` to be an array, got ${describe(args)}`);
  }
  checkJsonValue(args, 'args', new Set());
  const json = JSON.stringify(args);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    throw new DelaydError(
      'E_ARGS_TOO_LARGE',
      `Expected \`args\` to serialise to at most ${maxBytes} bytes of JSON, got ${bytes} bytes`,
    );
  }
  return json;
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

/** Builds the row for one delay() call: task defaults < per-call options. */
export function buildNewTask(input: {
  name: string;
  args: unknown;
  when: unknown;
  defaults: TaskOptions;
  nowMs: number;
  maxArgsBytes: number;
}): NewTask {
  const options = checkDelayOptions(input.when);
  const argsJson = serializeArgs(input.args, input.maxArgsBytes);
  const dueMs = dueMsOf(options, input.nowMs);
  const timeout = options.timeout ?? input.defaults.timeout ?? DEFAULT_TASK_OPTIONS.timeout;
  return {
    name: input.name,
    args: argsJson,
    dueMs,
    createdMs: input.nowMs,
    key: options.key ?? null,
    retries: options.retries ?? input.defaults.retries ?? DEFAULT_TASK_OPTIONS.retries,
    backoffMs: Math.round((options.backoff ?? input.defaults.backoff ?? DEFAULT_TASK_OPTIONS.backoff) * 1000),
    timeoutMs: timeout === null ? null : Math.round(timeout * 1000),
  };
}
