/**
 * What every command's argv mapping is built from (each command maps its own flags, in its
 * file under commands/): the common flags, where the database is, and the flag parsers.
 * yargs keeps every value a string. Precedence: defaults < environment < flags. Numbers on
 * the command line are decimal only (no 0x10, Infinity or `1e`). Per-task values are checked
 * by the core's own validation (validate.ts), and its messages are given the flags' names
 * (withFlagNames).
 */
import { checkDbPath } from '../../config.js';
import { DelaydError, describe } from '../../errors.js';
import { MAX_TIMER_S } from '../../validate.js';

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export interface CommonArgv {
  db?: string;
  busyTimeout?: string;
  json?: boolean;
}

/** Where a command finds its database, and how long it waits for another process's lock. */
export interface StoreTarget {
  db: string;
  busyTimeoutMs: number;
}

export function toStoreTarget(argv: CommonArgv, env: NodeJS.ProcessEnv): StoreTarget {
  const fromFlag = argv.busyTimeout !== undefined;
  const raw = fromFlag ? argv.busyTimeout : env.DELAYD_BUSY_TIMEOUT;
  const flag = fromFlag ? '--busy-timeout' : '$DELAYD_BUSY_TIMEOUT';
  const ms = raw === undefined || raw === '' ? undefined : millisFlag(flag, raw, 0);
  return { db: toDbPath(argv.db, env), busyTimeoutMs: ms ?? DEFAULT_BUSY_TIMEOUT_MS };
}

/**
 * --db, else $DELAYD_DB, else ./delayd.db. A URL scheme is refused (checkDbPath), and so are
 * '' and ':memory:': an in-memory database ends with the command, taking its tasks with it.
 */
export function toDbPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = flag ?? env.DELAYD_DB;
  if (raw === undefined) return './delayd.db';
  const what = flag === undefined ? '$DELAYD_DB' : '--db';
  const path = raw.trim() === '' ? '' : checkDbPath(raw, what);
  if (path === '' || path === ':memory:') {
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be a SQLite file path, got ${describe(raw)}: an in-memory or temporary database would be gone when the command ends`);
  }
  return path;
}

export function toTaskId(raw: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\s*\d+\s*$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new DelaydError('E_BAD_OPTION', `Expected a task ID (a positive integer), got ${describe(raw)}`);
  }
  return Number(text);
}

// Decimal only: Number() would also take 0x10, 0b1, Infinity and '' (as 0).
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function numberFlag(flag: string, raw: string): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) throw notA(flag, 'a decimal number', raw);
  return value;
}

export function integerFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = numberFlag(flag, raw);
  if (!Number.isSafeInteger(value)) throw notA(flag, 'an integer', raw);
  return value;
}

/** A positive integer flag (--concurrency, --queue-size, --threads). */
export function countFlag(flag: string, raw: string | undefined): number | undefined {
  const value = integerFlag(flag, raw);
  if (value !== undefined && value < 1) throw notA(flag, 'an integer >= 1', raw);
  return value;
}

/**
 * A flag in seconds (fractions allowed) as whole milliseconds, from `minMs` to what a timer
 * keeps (2147483 s; a longer one would fire after 1 ms).
 */
export function millisFlag(flag: string, raw: string | undefined, minMs: number): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = numberFlag(flag, raw);
  const ms = Math.round(seconds * 1000);
  if (ms < minMs || seconds < 0 || seconds > MAX_TIMER_S) {
    throw notA(flag, `a number of seconds from ${minMs === 0 ? '0' : '0.001'} to ${MAX_TIMER_S} (at most ${MAX_TIMER_S} s)`, raw);
  }
  return ms;
}

export function notA(flag: string, what: string, raw: unknown): DelaydError {
  return new DelaydError('E_BAD_OPTION', `Expected \`${flag}\` to be ${what}, got ${describe(raw)}`);
}

const PER_TASK_OPTION = /`(args|countdown|eta|key|retries|backoff|timeout)`/g;

/**
 * Runs the core's checks of values that came from flags, naming the flags in its messages:
 * "Expected `--countdown` ..." rather than "`countdown`".
 */
export function withFlagNames<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof DelaydError)) throw error;
    throw new DelaydError(error.code, error.message.replace(PER_TASK_OPTION, '`--$1`'), { cause: error });
  }
}
