/**
 * Testing delayed tasks without waiting: a scheduler on an in-memory database driven by a
 * @sinonjs/fake-timers clock, so an hour of schedule runs in milliseconds.
 *
 *   const t = createTestScheduler({ now: '2030-01-01T09:00:00Z' });
 *   t.scheduler.start();
 *   await sendMsg.delay(['ann', 'hi'], 3600);
 *   await t.advance(3600_000);
 *   expect(await t.scheduler.list({ state: 'succeeded' })).toHaveLength(1);
 *   await t.close();
 *
 * @sinonjs/fake-timers is an optional peer dependency: loaded here, at the first call, so that a
 * production install need not carry it, and described by TestClock below, so that the published
 * types never import a dev-only package (a consumer compiles with skipLibCheck: false).
 */
import { createRequire } from 'node:module';
import { fromFakeClock } from './clock.js';
import type { SchedulerOptions } from './config.js';
import { defaultRegistry, setDefaultScheduler } from './default.js';
import { DelaydError } from './errors.js';
import { createLogger } from './logger.js';
import { Scheduler } from './scheduler.js';
import { nextTimerAt, settling } from './settle.js';
import { RedisStore } from './store/redis/index.js';
import { isRedisUrl } from './store/redis/url.js';
import { etaToMs } from './validate.js';

/** The part of a @sinonjs/fake-timers clock that delayd/testing offers (its own type, not theirs). */
export interface TestClock {
  /** The fake wall clock, in unix milliseconds. */
  now: number;
  setTimeout(callback: (...args: any[]) => void, ms: number, ...args: any[]): unknown;
  clearTimeout(handle: any): void;
  setInterval(callback: (...args: any[]) => void, ms: number, ...args: any[]): unknown;
  clearInterval(handle: any): void;
  /** Jumps the wall clock without running timers (timers keep their remaining delay). */
  setSystemTime(now?: number | Date): void;
  /** Moves time forward by `ms`, running the timers due on the way; resolves to the new `now`. */
  tickAsync(ms: number): Promise<number>;
  /** Runs the next timer only. */
  nextAsync(): Promise<number>;
  /** Runs every timer, including those created meanwhile (up to fake-timers' loop limit). */
  runAllAsync(): Promise<number>;
  /** Runs the timers pending now, up to the last of them. */
  runToLastAsync(): Promise<number>;
  countTimers(): number;
}

type CreateClock = (now?: number | Date) => TestClock;
let createClock: CreateClock | undefined;

/** Loads @sinonjs/fake-timers (CommonJS) once, synchronously; a clear error if it is missing. */
function loadCreateClock(): CreateClock {
  if (createClock) return createClock;
  const require = createRequire(import.meta.url);
  try {
    createClock = (require('@sinonjs/fake-timers') as { createClock: CreateClock }).createClock;
  } catch (error) {
    // Only fake-timers itself missing is the user's install to fix; anything else is a real fault.
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code !== 'MODULE_NOT_FOUND' || !String(message).includes("'@sinonjs/fake-timers'")) throw error;
    throw new DelaydError(
      'E_MISSING_DEPENDENCY',
      'delayd/testing needs @sinonjs/fake-timers: npm install -D @sinonjs/fake-timers ' +
        '(expected it to be installed beside delayd, got: not found)',
      { cause: error },
    );
  }
  return createClock;
}

export interface TestSchedulerOptions extends Omit<SchedulerOptions, 'clock'> {
  /** The fake clock's starting time. @default 2030-01-01T00:00:00Z */
  now?: Date | number | string;
  /** Install as the scheduler behind bare task() (shares its handlers). @default true */
  asDefault?: boolean;
}

export interface TestScheduler {
  scheduler: Scheduler;
  /** The fake clock: `now`, `tickAsync`, `setSystemTime` (to jump the wall clock). */
  clock: TestClock;
  /** Moves time forward, running every timer and handler that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Stops and closes the scheduler, and uninstalls it as the default. */
  close(): Promise<void>;
}

export function createTestScheduler(options: TestSchedulerOptions = {}): TestScheduler {
  const { now = '2030-01-01T00:00:00Z', asDefault = true, ...rest } = options;
  const clock = loadCreateClock()(etaToMs(now));
  // A store over a network (a Redis URL, or a store handed in) answers on real I/O: see settle.ts.
  const opened = rest.store === undefined && isRedisUrl(rest.db ?? '') ? new RedisStore({ url: rest.db as string, trustCallerClock: true, ...definedOf({ shards: rest.shards, replicas: rest.replicas }) }) : undefined;
  const network = opened ?? rest.store;
  const wrapped = network ? settling(network) : undefined;
  const scheduler = new Scheduler({
    db: ':memory:',
    logger: createLogger({ level: 'silent' }),
    ...rest,
    ...(wrapped ? { store: wrapped.store, shards: undefined, replicas: undefined } : {}),
    clock: fromFakeClock(clock),
    ...(asDefault ? { registry: defaultRegistry } : {}),
  });
  if (asDefault) setDefaultScheduler(scheduler);
  const advance = wrapped ? (ms: number) => advanceSettling(clock, ms, wrapped.settle) : (ms: number) => clock.tickAsync(ms);
  return {
    scheduler,
    clock,
    advance: async (ms) => {
      await advance(ms);
      // A handler that finished at the last instant has its outcome on a timer fake-timers
      // puts 1 ms later; write it now so the rows show what ran within `ms`.
      await scheduler.flush();
    },
    close: async () => {
      const stopping = scheduler.close();
      await (wrapped ? advanceSettling(clock, 60_000, wrapped.settle) : clock.runToLastAsync());
      await stopping;
      await opened?.close();
      if (asDefault) setDefaultScheduler(undefined);
    },
  };
}

function definedOf<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Moves the fake clock `ms` forward one timer at a time, letting the store's calls settle between. */
async function advanceSettling(clock: TestClock, ms: number, settle: () => Promise<void>): Promise<void> {
  const end = clock.now + ms;
  for (;;) {
    await settle();
    await clock.tickAsync(0);
    const next = nextTimerAt(clock);
    if (next !== undefined && next <= end) {
      await clock.tickAsync(Math.max(0, next - clock.now));
      continue;
    }
    if (next === undefined && !('timers' in clock) && clock.now < end) {
      await clock.tickAsync(Math.min(10, end - clock.now)); // no timer list to read: small steps
      continue;
    }
    if (clock.now < end) await clock.tickAsync(end - clock.now);
    await settle();
    const after = nextTimerAt(clock);
    if (after === undefined || after > end) return;
  }
}
