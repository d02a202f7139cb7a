/**
 * The pure mapping from parsed argv (yargs keeps every value a string) to the options that
 * the daemon and the store commands take. Precedence: defaults < environment < flags.
 * Numbers on the command line are decimal only (no 0x10, Infinity or `1e`). Per-task values
 * are checked by the core's own validation (validate.ts), and its messages are given the
 * flags' names (withFlagNames); the daemon's flags, in seconds, are checked here.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkDbPath } from '../config.js';
import { DelaydError, describe } from '../errors.js';
import type { DaemonOptions } from '../daemon.js';
import type { LogLevel } from '../logger.js';
import { TASK_STATES, type ListFilter, type TaskState } from '../store/types.js';
import { MAX_TIMER_S, type DelayOptions } from '../validate.js';
import { parseJsonExact } from './json.js';
import { parseDuration } from './duration.js';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
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

export interface DaemonArgv extends CommonArgv {
  handlers?: string[];
  concurrency?: string;
  queueSize?: string;
  drainTimeout?: string;
  lease?: string;
  heartbeat?: string;
  threads?: string;
  logLevel?: string;
}


export function toDaemonOptions(
  argv: DaemonArgv,
  context: { env: NodeJS.ProcessEnv; cwd: string; stdoutIsTTY: boolean },
): DaemonOptions {
  const level = argv.logLevel ?? context.env.DELAYD_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const what = argv.logLevel === undefined ? '$DELAYD_LOG_LEVEL' : '--log-level';
    throw new DelaydError('E_BAD_OPTION', `Expected ${what} to be one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`);
  }
  const handlers = argv.handlers ?? [];
  if (handlers.length === 0) {
    throw new DelaydError('E_BAD_OPTION', 'Expected at least one `--handlers MODULE`, got none');
  }
  return {
    ...toStoreTarget(argv, context.env),
    handlers: handlers.map((spec) => moduleUrl(spec, context.cwd)),
    concurrency: countFlag('--concurrency', argv.concurrency),
    queueSize: countFlag('--queue-size', argv.queueSize),
    drainMs: millisFlag('--drain-timeout', argv.drainTimeout, 0),
    leaseMs: millisFlag('--lease', argv.lease, 1),
    heartbeatMs: millisFlag('--heartbeat', argv.heartbeat, 1),
    threads: countFlag('--threads', argv.threads),
    logLevel: level as LogLevel,
    pretty: context.stdoutIsTTY,
  };
}

/** A handler module path, relative to the working directory, as a URL import() accepts. */
export function moduleUrl(spec: string, cwd: string): string {
  if (spec.startsWith('file:')) return spec;
  return pathToFileURL(isAbsolute(spec) ? spec : resolve(cwd, spec)).href;
}

export interface EnqueueArgv extends CommonArgv {
  name?: string;
  args?: string;
  countdown?: string;
  eta?: string;
  key?: string;
  retries?: string;
  backoff?: string;
  timeout?: string;
  file?: string;
}

export interface EnqueueOne {
  name: string;
  /** Parsed from --args; validate.ts checks that it is an array of JSON values. */
  args: unknown;
  when: DelayOptions;
}

export type EnqueueRequest = { kind: 'one'; task: EnqueueOne } | { kind: 'file'; file: string };

const PER_TASK_FLAGS = ['args', 'countdown', 'eta', 'key', 'retries', 'backoff', 'timeout'] as const;

/**
 * The shape of an enqueue command line, checked by the parser (so a wrong shape is a usage
 * error): a NAME with per-task flags, or `--file` alone. Returns the problem, or undefined.
 */
export function enqueueShapeProblem(argv: EnqueueArgv): string | undefined {
  if (argv.file === undefined) return argv.name === undefined ? 'Give a task NAME, or --file FILE' : undefined;
  const clash = [
    ...(argv.name !== undefined ? ['NAME'] : []),
    ...PER_TASK_FLAGS.filter((flag) => argv[flag] !== undefined).map((flag) => `--${flag}`),
  ];
  if (clash.length === 0) return undefined;
  return `--file takes no ${clash.join(', ')}: each line carries its own name and options`;
}

export function toEnqueueRequest(argv: EnqueueArgv): EnqueueRequest {
  const problem = enqueueShapeProblem(argv);
  if (problem) throw new DelaydError('E_BAD_OPTION', problem);
  if (argv.file !== undefined) return { kind: 'file', file: argv.file };
  if (argv.name === undefined) throw new DelaydError('E_BAD_NAME', 'Expected a task NAME, got none');
  const when: DelayOptions = {};
  if (argv.countdown !== undefined) when.countdown = numberFlag('--countdown', argv.countdown);
  if (argv.eta !== undefined) when.eta = argv.eta;
  if (argv.key !== undefined) when.key = argv.key;
  if (argv.retries !== undefined) when.retries = numberFlag('--retries', argv.retries);
  if (argv.backoff !== undefined) when.backoff = numberFlag('--backoff', argv.backoff);
  if (argv.timeout !== undefined) when.timeout = numberFlag('--timeout', argv.timeout);
  return { kind: 'one', task: { name: argv.name, args: parseArgsJson(argv.args), when } };
}

/** `--args '[1, "a"]'`; absent means no arguments. */
export function parseArgsJson(raw: string | undefined): unknown {
  if (raw === undefined) return [];
  return parseJsonExact(raw, (why) =>
    new DelaydError('E_BAD_ARGS', `Expected \`--args\` to be a JSON array such as '[1, "a"]', got ${describe(raw)}, which ${why}`),
  );
}

export interface ListArgv extends CommonArgv {
  state?: string;
  name?: string;
  limit?: string;
}

export function toListFilter(argv: ListArgv): ListFilter {
  const filter: ListFilter = {};
  if (argv.state !== undefined) {
    if (!(TASK_STATES as readonly string[]).includes(argv.state)) throw notA('--state', `one of ${TASK_STATES.join(', ')}`, argv.state);
    filter.state = argv.state as TaskState;
  }
  if (argv.name !== undefined) filter.name = argv.name;
  if (argv.limit !== undefined) {
    const limit = integerFlag('--limit', argv.limit) as number;
    if (limit < 1) throw notA('--limit', 'an integer >= 1', argv.limit);
    filter.limit = limit;
  }
  return filter;
}

export function toTaskId(raw: unknown): number {
  const text = typeof raw === 'number' ? String(raw) : raw;
  if (typeof text !== 'string' || !/^\s*\d+\s*$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new DelaydError('E_BAD_OPTION', `Expected a task ID (a positive integer), got ${describe(raw)}`);
  }
  return Number(text);
}

export interface RescheduleArgv extends CommonArgv {
  id?: string;
  countdown?: string;
  eta?: string;
}

/** Checked by the parser: exactly one of --countdown and --eta. */
export function rescheduleShapeProblem(argv: RescheduleArgv): string | undefined {
  return argv.countdown === undefined && argv.eta === undefined ? 'Give --countdown SECONDS or --eta ISO_TIME' : undefined;
}

export function toReschedule(argv: RescheduleArgv): { id: number; when: DelayOptions } {
  const id = toTaskId(argv.id);
  const problem = rescheduleShapeProblem(argv);
  if (problem) throw new DelaydError('E_BAD_OPTION', problem);
  if (argv.countdown !== undefined) return { id, when: { countdown: numberFlag('--countdown', argv.countdown) } };
  return { id, when: { eta: argv.eta } };
}

/** `--older-than 7d`: milliseconds of age. */
export function toPurgeAgeMs(argv: { olderThan?: string }): number {
  const ms = parseDuration(argv.olderThan, '--older-than');
  // Further back than a Date reaches would fail to print after the purge was committed.
  if (ms > MAX_AGE_MS) throw notA('--older-than', `a duration of at most ${MAX_AGE_MS / 86_400_000}d`, argv.olderThan);
  return ms;
}

/** Every task finished after 1970: older-than beyond this changes nothing, so it is refused as a typo. */
const MAX_AGE_MS = 100_000 * 86_400_000;

// Decimal only: Number() would also take 0x10, 0b1, Infinity and '' (as 0).
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function numberFlag(flag: string, raw: string): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value)) throw notA(flag, 'a decimal number', raw);
  return value;
}

function integerFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = numberFlag(flag, raw);
  if (!Number.isSafeInteger(value)) throw notA(flag, 'an integer', raw);
  return value;
}

/** A positive integer flag (--concurrency, --queue-size, --threads). */
function countFlag(flag: string, raw: string | undefined): number | undefined {
  const value = integerFlag(flag, raw);
  if (value !== undefined && value < 1) throw notA(flag, 'an integer >= 1', raw);
  return value;
}

/**
 * A flag in seconds (fractions allowed) as whole milliseconds, from `minMs` to what a timer
 * keeps (2147483 s; a longer one would fire after 1 ms).
 */
function millisFlag(flag: string, raw: string | undefined, minMs: number): number | undefined {
  if (raw === undefined) return undefined;
  const seconds = numberFlag(flag, raw);
  const ms = Math.round(seconds * 1000);
  if (ms < minMs || seconds < 0 || seconds > MAX_TIMER_S) {
    throw notA(flag, `a number of seconds from ${minMs === 0 ? '0' : '0.001'} to ${MAX_TIMER_S} (at most ${MAX_TIMER_S} s)`, raw);
  }
  return ms;
}

function notA(flag: string, what: string, raw: unknown): DelaydError {
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
