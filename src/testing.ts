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
 */
import { createClock } from '@sinonjs/fake-timers';
import { fromFakeClock } from './clock.js';
import type { SchedulerOptions } from './config.js';
import { defaultRegistry, setDefaultScheduler } from './default.js';
import { createLogger } from './logger.js';
import { Scheduler } from './scheduler.js';
import { etaToMs } from './validate.js';

export interface TestSchedulerOptions extends Omit<SchedulerOptions, 'clock'> {
  /** The fake clock's starting time. @default 2030-01-01T00:00:00Z */
  now?: Date | number | string;
  /** Install as the scheduler behind bare task() (shares its handlers). @default true */
  asDefault?: boolean;
}

export interface TestScheduler {
  scheduler: Scheduler;
  /** The fake clock: `now`, `tickAsync`, `setSystemTime` (to jump the wall clock). */
  clock: ReturnType<typeof createClock>;
  /** Moves time forward, running every timer and handler that falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Stops and closes the scheduler, and uninstalls it as the default. */
  close(): Promise<void>;
}

export function createTestScheduler(options: TestSchedulerOptions = {}): TestScheduler {
  const { now = '2030-01-01T00:00:00Z', asDefault = true, ...rest } = options;
  const clock = createClock(etaToMs(now));
  const scheduler = new Scheduler({
    db: ':memory:',
    logger: createLogger({ level: 'silent' }),
    ...rest,
    clock: fromFakeClock(clock),
    ...(asDefault ? { registry: defaultRegistry } : {}),
  });
  if (asDefault) setDefaultScheduler(scheduler);
  return {
    scheduler,
    clock,
    advance: async (ms) => {
      await clock.tickAsync(ms);
      // A handler that finished at the last instant has its outcome on a timer fake-timers
      // puts 1 ms later; write it now so the rows show what ran within `ms`.
      await scheduler.flush();
    },
    close: async () => {
      const stopping = scheduler.close();
      await clock.runToLastAsync();
      await stopping;
      if (asDefault) setDefaultScheduler(undefined);
    },
  };
}
