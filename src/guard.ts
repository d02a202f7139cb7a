/**
 * What the daemon installs around the process while it runs, so that nothing a handler does
 * takes it down silently:
 * - an unhandled rejection or an uncaught exception (a forgotten promise, a throw in a timer)
 *   is logged with the attempts running at the time, and the daemon goes on;
 * - process.exit() from a handler, whatever its code, is logged as fatal and ends the process
 *   with status 1 after writing the outcomes already buffered: a supervisor sees a failure, and
 *   the attempt, whose start is durable, counts as cut off when the task is next claimed.
 * And while a handler module imports: if the process ends before the import settles (a
 * top-level await that never settles empties the event loop; Node exits 13 and says
 * nothing), one line says so and the status is 1.
 */
import { errorInfo } from './attempt-error.js';
import type { Logger } from './logger.js';

const originalExit = process.exit.bind(process);

/** process.exit as it was before any guard: for the daemon's own exits. */
export function realExit(): (code?: number) => never {
  return originalExit;
}

export interface GuardOptions {
  logger: Logger;
  /** The attempts running now, named in the log line of an error none of them caught. */
  running: () => { taskId: number; name: string; attempt: number }[];
  /**
   * Runs before a handler's process.exit ends the process (writes buffered outcomes). Not
   * awaited: process.exit cannot wait. A store that writes synchronously (SQLite) has written
   * them when it returns, unless a group commit was in flight at that very moment.
   */
  beforeExit: () => unknown;
}

export function installGuard(options: GuardOptions): { uninstall(): void } {
  const { logger } = options;
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason, error: errorInfo(reason), running: options.running() }, 'unhandled promise rejection (a handler left a promise unhandled); going on');
  };
  const onException = (error: unknown) => {
    logger.error({ err: error, error: errorInfo(error), running: options.running() }, 'uncaught exception (a handler threw outside its attempt); going on');
  };
  const exit = ((code?: number | string | null) => {
    logger.fatal({ code, running: options.running() }, 'a handler called process.exit(); exiting with status 1');
    try {
      const written = options.beforeExit();
      if (written instanceof Promise) written.catch(() => {});
    } catch (error) {
      logger.error({ err: error }, 'could not write the buffered outcomes before exiting');
    }
    originalExit(1);
  }) as typeof process.exit;
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  process.exit = exit;
  return {
    uninstall() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
      if (process.exit === exit) process.exit = originalExit;
    },
  };
}

/** Watches one module's import: see the top of this file. Call done() once it settled. */
export function watchImport(url: string): { done(): void } {
  const onExit = () => {
    process.stderr.write(`delayd: handler module ${url} never finished importing (its top-level await never settled)\n`);
    process.exitCode = 1;
  };
  process.once('exit', onExit);
  return { done: () => process.off('exit', onExit) };
}
