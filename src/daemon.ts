/**
 * The daemon: wiring only. It builds the store and a scheduler on the default registry,
 * installs that scheduler behind bare task() BEFORE importing the handler modules (so a module
 * that enqueues at import time writes to this database), starts it, and waits for a signal.
 *
 * Shutdown: the first SIGTERM or SIGINT stops taking work and lets running handlers finish for
 * up to `drainMs`; whatever could not finish goes back to `scheduled` (Scheduler.stop), and
 * the process exits 0. A second signal exits at once with 128 + its number; the tasks it held
 * stay `running` under a dead pid, and the next daemon's heartbeat puts them back. A signal
 * while the modules are still importing: the import finishes, nothing starts, exit 0.
 *
 * Nothing a handler does takes the daemon down silently (see guard.ts): an unhandled rejection
 * or uncaught exception is logged and the daemon goes on; a handler's process.exit() ends it
 * with status 1, not the handler's code. Since every start is durable before its handler
 * runs, the attempt that brought the process down counts as cut off at the next start, and
 * a task that does it every time ends failed with E_CUT_OFF (policy maxCutOffs).
 */
import { errorInfo } from './attempt-error.js';
import { DEFAULTS } from './config.js';
import { installGuard, realExit, watchImport } from './guard.js';
import { defaultRegistry, setDefaultScheduler } from './default.js';
import { DelaydError } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { Scheduler } from './scheduler.js';
import { openStore } from './store/open.js';
import type { HttpListen } from './http/options.js';
import type { HttpServer } from './http/server.js';
import type { Store } from './store/types.js';

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
  /** Attempts cut off by a crash before a task fails with E_CUT_OFF, unless its handler says. */
  maxCutOffs?: number;
  /** Redis only: shards of a new queue, and replicas that must confirm each write. */
  shards?: number;
  replicas?: number;
  /** Worker threads for tasks with isolation 'thread'; they import the `handlers` modules. */
  threads?: number;
  logLevel: LogLevel;
  /** Human-readable logs (pino-pretty) rather than JSON lines. */
  pretty: boolean;
  /** Serve metrics, health, the JSON API and the dashboard (src/http/); off when absent. */
  http?: HttpListen;
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
  exit: (code) => realExit()(code),
};

/**
 * Runs until the first signal has been handled (or the store keeps failing beyond repair);
 * resolves with the exit code. The caller should then exit the process: a handler abandoned
 * after the drain timeout may still hold timers.
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

  const store = openStore({
    db: options.db,
    busyTimeoutMs: options.busyTimeoutMs,
    shards: options.shards,
    replicas: options.replicas,
    log: (level, message, fields) => logger[level](fields, message),
  });
  let scheduler: Scheduler;
  try {
    scheduler = new Scheduler({
      store,
      logger,
      registry: defaultRegistry,
      threadModules: options.handlers,
      ...defined({ concurrency: options.concurrency, queueSize: options.queueSize, leaseMs: options.leaseMs, heartbeatMs: options.heartbeatMs }),
      ...defined({ threads: options.threads, maxCutOffs: options.maxCutOffs }),
    });
    setDefaultScheduler(scheduler);
    await importHandlers(options.handlers);
  } catch (error) {
    await store.close();
    throw error;
  }
  if (signals > 0) {
    logger.info('a signal came while the handler modules were importing: not starting');
    try {
      await scheduler.close();
    } finally {
      await store.close();
    }
    return 0;
  }
  return serve(scheduler, store, options, logger, firstSignal);
}

async function serve(scheduler: Scheduler, store: Store, options: DaemonOptions, logger: Logger, firstSignal: Promise<NodeJS.Signals>): Promise<number> {
  const guard = installGuard({
    logger,
    running: () => scheduler.runningTasks(),
    beforeExit: () => scheduler.flush(),
  });
  let fatal!: (error: unknown) => void;
  const failedForGood = new Promise<unknown>((resolve) => (fatal = resolve));
  scheduler.on('fatal', ({ error }: { error: unknown }) => fatal(error));
  let http: HttpServer | undefined;
  try {
    logger.info({ db: options.db, tasks: defaultRegistry.names() }, 'daemon starting');
    // Before the scheduler starts: a port in use (or prom-client missing) starts nothing.
    http = options.http ? await startHttp(scheduler, store, options.http, { db: options.db, busyTimeoutMs: options.busyTimeoutMs }, logger) : undefined;
    void scheduler.start();
    const ended = await Promise.race([firstSignal.then((signal) => ({ signal })), failedForGood.then((error) => ({ error }))]);
    if ('error' in ended) {
      logger.fatal({ err: ended.error }, 'the database keeps failing in a way no retry mends; exiting');
      await scheduler.close().catch((error: unknown) => logger.error({ err: error }, 'could not stop cleanly'));
      return 1;
    }
    const drainMs = options.drainMs ?? DEFAULTS.drainMs;
    logger.info({ signal: ended.signal, drainMs }, 'stopping: waiting for running handlers (signal again to exit now)');
    await http?.close();
    await scheduler.stop({ drainMs });
    await scheduler.close();
    logger.info('daemon stopped');
    return 0;
  } finally {
    await http?.close();
    guard.uninstall();
    await store.close();
  }
}

async function startHttp(scheduler: Scheduler, store: Store, listen: HttpListen, db: { db: string; busyTimeoutMs: number }, logger: Logger): Promise<HttpServer> {
  const { startHttpServer } = await import('./http/server.js');
  try {
    // A SQLite file: the server's reads in a thread of their own (a Redis store's reads do not block).
    const readThread = /^[a-z][a-z0-9+.-]*:\/\//i.test(db.db) && !db.db.startsWith('file:') ? undefined : db;
    const http = await startHttpServer(scheduler, { host: listen.host, port: listen.port, token: listen.token, store, logger, readThread });
    logger.info({ url: http.url, api: listen.token === undefined ? 'off (no token)' : 'on' }, 'http listening');
    return http;
  } catch (error) {
    await scheduler.close();
    throw error;
  }
}

async function importHandlers(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    const watch = watchImport(url);
    try {
      await import(url);
    } catch (error) {
      const why = errorInfo(error).message;
      throw new DelaydError('E_HANDLER_IMPORT', `Could not import handler module ${url}: ${why}`, { cause: error });
    } finally {
      watch.done();
    }
  }
  if (defaultRegistry.names().length === 0) {
    throw new DelaydError(
      'E_HANDLER_IMPORT',
      `Expected the handler modules to register at least one task with task() from "delayd", got none (${urls.join(', ')}); a daemon without tasks would claim nothing`,
    );
  }
}

function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
