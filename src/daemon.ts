/**
 * The daemon: wiring only. It builds the store and a scheduler on the default registry,
 * installs that scheduler behind bare task() BEFORE importing the handler modules (so a module
 * that enqueues at import time writes to this database), starts it, and waits for a signal.
 *
 * Shutdown: the first SIGTERM or SIGINT stops taking work and lets running handlers finish for
 * up to `drainMs`; whatever could not finish goes back to `scheduled` (Scheduler.stop), and
 * the process exits 0. A second signal exits at once with 128 + its number; the tasks it held
 * stay `running` under a dead pid, and the next daemon's heartbeat puts them back.
 */
import { DEFAULTS } from './config.js';
import { defaultRegistry, setDefaultScheduler } from './default.js';
import { DelaydError } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { Scheduler } from './scheduler.js';
import { SqliteStore } from './store/sqlite.js';

export interface DaemonOptions {
  /** Path of the SQLite database file; created when missing. */
  db: string;
  /** How long to wait for another process's lock. */
  busyTimeoutMs: number;
  /** file: URLs of the handler modules, in the order given. */
  handlers: string[];
  concurrency?: number;
  queueSize?: number;
  drainMs?: number;
  leaseMs?: number;
  heartbeatMs?: number;
  /** Worker threads for tasks with isolation 'thread'; they import the `handlers` modules. */
  threads?: number;
  logLevel: LogLevel;
  /** Human-readable logs (pino-pretty) rather than JSON lines. */
  pretty: boolean;
}

/** The process around the daemon; tests may hand in their own. */
export interface DaemonHost {
  onSignal(listener: (signal: NodeJS.Signals) => void): void;
  exit(code: number): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

export const processHost: DaemonHost = {
  onSignal: (listener) => {
    for (const signal of SIGNALS) process.on(signal, listener);
  },
  exit: (code) => process.exit(code),
};

/**
 * Runs until the first signal has been handled; resolves with the exit code. The caller should
 * then exit the process: a handler abandoned after the drain timeout may still hold timers.
 */
export async function runDaemon(options: DaemonOptions, host: DaemonHost = processHost): Promise<number> {
  const logger = createLogger({ level: options.logLevel, pretty: options.pretty });
  let signalled!: (signal: NodeJS.Signals) => void;
  const firstSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let signals = 0;
  host.onSignal((signal) => {
    if (++signals === 1) return signalled(signal);
    logger.warn({ signal }, 'second signal: exiting now; unfinished tasks go back when a daemon next starts');
    host.exit(128 + (SIGNAL_NUMBERS[signal as keyof typeof SIGNAL_NUMBERS] ?? 1));
  });

  const store = new SqliteStore({ path: options.db, busyTimeoutMs: options.busyTimeoutMs });
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler({
      store,
      logger,
      registry: defaultRegistry,
      threadModules: options.handlers,
      ...defined({ concurrency: options.concurrency, queueSize: options.queueSize, leaseMs: options.leaseMs, heartbeatMs: options.heartbeatMs }),
      ...defined({ threads: options.threads }),
    });
    setDefaultScheduler(scheduler);
    await importHandlers(options.handlers, logger);
  } catch (error) {
    store.close();
    throw error;
  }

  logger.info({ db: options.db, tasks: defaultRegistry.names() }, 'daemon starting');
  scheduler.start();
  const signal = await firstSignal;
  const drainMs = options.drainMs ?? DEFAULTS.drainMs;
  logger.info({ signal, drainMs }, 'stopping: waiting for running handlers (signal again to exit now)');
  await scheduler.stop({ drainMs });
  store.close();
  logger.info('daemon stopped');
  return 0;
}

async function importHandlers(urls: readonly string[], logger: Logger): Promise<void> {
  for (const url of urls) {
    try {
      await import(url);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new DelaydError('E_HANDLER_IMPORT', `Could not import handler module ${url}: ${why}`, { cause: error });
    }
  }
  if (defaultRegistry.names().length === 0) {
    logger.warn({ handlers: urls }, 'the handler modules registered no task; did they call task() from "delayd"?');
  }
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
