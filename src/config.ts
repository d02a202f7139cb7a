/**
 * One Options type with documented defaults, validated once. Precedence everywhere:
 * defaults < environment (DELAYD_DB, DELAYD_LOG_LEVEL) < explicit options (and CLI flags).
 */
import { availableParallelism, hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import { DelaydError, describe } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import type { Store } from './store/types.js';
import { isRedisUrl, parseRedisUrl, redact } from './store/redis/url.js';

export interface SchedulerOptions {
  /**
   * Path of the SQLite database file, or a Redis URL: redis://[user:password@]host:port[/db],
   * rediss://... (TLS), redis+cluster://host:port,host:port. @default process.env.DELAYD_DB ?? './delayd.db'
   */
  db?: string;
  /** Redis only: shards of a new queue (fixed at its creation; an existing queue keeps its own). @default 16 */
  shards?: number;
  /** Redis only: replicas that must confirm each write (WAIT), else E_BACKEND_NOT_REPLICATED. @default 0 */
  replicas?: number;
  /** An already-open store to use instead of opening `db`; the scheduler will not close it. */
  store?: Store;
  /** Source of time and timers. @default the system clock */
  clock?: Clock;
  /** A pino logger. @default pino at DELAYD_LOG_LEVEL or 'info', JSON on stdout */
  logger?: Logger;
  /** Handlers running at once. @default 10 */
  concurrency?: number;
  /** Claimed tasks waiting in memory; the rest wait in the database. @default 1000 */
  queueSize?: number;
  /** How long before each second its tasks are claimed. @default 20 */
  lookaheadMs?: number;
  /** How often the live scheduler renews its lease and looks for dead owners. @default 5000 */
  heartbeatMs?: number;
  /** After this long without a heartbeat, an owner's running tasks are put back. @default 30000 */
  leaseMs?: number;
  /** How long stop() waits for running handlers before putting them back. @default 10000 */
  drainMs?: number;
  /** Largest JSON size of one task's args, in bytes. @default 65536 */
  maxArgsBytes?: number;
  /**
   * Attempts cut off by the death of their owner before a task fails with E_CUT_OFF, for
   * handlers that do not set their own in task(). @default 3
   */
  maxCutOffs?: number;
  /** SQLite synchronous mode: 'normal' survives a process crash, 'full' also a power cut. @default 'normal' */
  synchronous?: 'normal' | 'full';
  /** An id for this scheduler in the owner column of running tasks. @default host:pid:random */
  owner?: string;
  /** Worker threads for handlers with `isolation: 'thread'`. @default os.availableParallelism() */
  threads?: number;
  /** ES modules (file paths or URLs) each worker thread imports to find those handlers. @default [] */
  threadModules?: readonly string[];
}

export interface ResolvedOptions {
  db: string;
  shards: number | undefined;
  replicas: number | undefined;
  store: Store | undefined;
  clock: Clock;
  logger: Logger;
  concurrency: number;
  queueSize: number;
  lookaheadMs: number;
  heartbeatMs: number;
  leaseMs: number;
  drainMs: number;
  maxArgsBytes: number;
  maxCutOffs: number;
  synchronous: 'normal' | 'full';
  owner: string;
  threads: number;
  threadModules: string[];
}

export const DEFAULTS = {
  concurrency: 10,
  queueSize: 1000,
  lookaheadMs: 20,
  heartbeatMs: 5000,
  leaseMs: 30_000,
  drainMs: 10_000,
  maxArgsBytes: 65_536,
  maxCutOffs: 3,
} as const;

/** The longest delay Node's timers keep; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** [min, max] of each numeric option; the ones that become timers stay within MAX_TIMER_MS. */
const RANGES: Record<keyof typeof DEFAULTS, readonly [number, number]> = {
  concurrency: [1, 1_000_000],
  queueSize: [1, 10_000_000],
  lookaheadMs: [0, 999],
  heartbeatMs: [1, MAX_TIMER_MS],
  leaseMs: [1, MAX_TIMER_MS],
  drainMs: [0, MAX_TIMER_MS],
  maxArgsBytes: [1, 1 << 30],
  maxCutOffs: [0, 1000],
};

const KNOWN = new Set([
  'db', 'shards', 'replicas', 'store', 'clock', 'logger', 'synchronous', 'owner', 'threads', 'threadModules', ...Object.keys(DEFAULTS),
]);

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DELAYD_DB && env.DELAYD_DB !== '' ? env.DELAYD_DB : './delayd.db';
}

export function resolveOptions(options: SchedulerOptions = {}): ResolvedOptions {
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new DelaydError('E_UNKNOWN_OPTION', `Unknown scheduler option \`${key}\`; expected one of ${[...KNOWN].join(', ')}`);
    }
  }
  const numbers = Object.fromEntries(
    Object.entries(DEFAULTS).map(([key, fallback]) => {
      const value = (options as Record<string, unknown>)[key] ?? fallback;
      const [min, max] = RANGES[key as keyof typeof DEFAULTS];
      return [key, checkInteger(key, value, min, max)];
    }),
  ) as Record<keyof typeof DEFAULTS, number>;
  if (options.synchronous !== undefined && options.synchronous !== 'normal' && options.synchronous !== 'full') {
    throw new DelaydError('E_BAD_OPTION', `Expected \`synchronous\` to be 'normal' or 'full', got ${describe(options.synchronous)}`);
  }
  return {
    ...numbers,
    db: checkDbPath(options.db ?? defaultDbPath(), '`db`'),
    shards: options.shards === undefined ? undefined : checkInteger('shards', options.shards, 1, 1024),
    replicas: options.replicas === undefined ? undefined : checkInteger('replicas', options.replicas, 0, 100),
    store: options.store,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger(),
    synchronous: options.synchronous ?? 'normal',
    owner: options.owner ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    threads: checkInteger('threads', options.threads ?? availableParallelism(), 1),
    threadModules: moduleUrls(options.threadModules),
  };
}

/** A module given as a URL stays one; a path becomes a file URL (relative to the working directory). */
function moduleUrls(modules: unknown): string[] {
  if (modules === undefined) return [];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string' && m !== '')) {
    throw new DelaydError('E_BAD_OPTION', `Expected \`threadModules\` to be an array of module paths or URLs, got ${describe(modules)}`);
  }
  return modules.map((m: string) => (/^[a-z][a-z0-9+.-]+:/i.test(m) && !isAbsolute(m) ? m : pathToFileURL(resolve(m)).href));
}

function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new DelaydError('E_BAD_OPTION', `Expected \`${name}\` to be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

/**
 * The target a `db` option names: a SQLite path, or a file: URL (made a path), or a Redis URL
 * (redis://, rediss://, redis+cluster://: checked here, returned as given; parseRedisUrl).
 * Another scheme (postgres://) is refused: there is no backend for it yet, and taking it for a
 * relative path would fail later with a puzzling error, or create a file named like a URL.
 * `what` names the option in messages (`db`, --db, $DELAYD_DB).
 */
export function checkDbPath(db: unknown, what = '`db`'): string {
  if (typeof db !== 'string') throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be a SQLite file path, got ${describe(db)}`);
  if (isRedisUrl(db)) {
    parseRedisUrl(db, what);
    return db;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(db)?.[1];
  if (scheme !== undefined && scheme.toLowerCase() !== 'file') {
    throw new DelaydError(
      'E_BAD_DB_URL',
      `delayd has no backend for ${scheme.toLowerCase()}:// yet; ${what} takes a SQLite file path (or a file: URL) or a Redis URL (redis://, rediss://, redis+cluster://), got ${JSON.stringify(redact(db))}`,
    );
  }
  if (!/^file:/i.test(db)) return db;
  try {
    // file:///abs/path, or file:relative/path (SQLite's own URI form, relative to the cwd).
    return /^file:\/\//i.test(db) ? fileURLToPath(db) : decodeURIComponent(db.slice(5).split(/[?#]/)[0] as string);
  } catch (error) {
    throw new DelaydError('E_BAD_DB_URL', `Expected ${what} to be a SQLite file path or a file: URL, got ${JSON.stringify(db)} (${(error as Error).message})`);
  }
}
