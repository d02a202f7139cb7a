/**
 * The pino factory. Libraries log JSON; the CLI makes it pretty on a terminal. No pino `name`:
 * every task event carries its own `name` field (the task's), with `taskId` and `attempt`.
 * pino-pretty is an optional peer dependency: used when it is installed, else the logs stay JSON.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(options: { level?: LogLevel; pretty?: boolean } = {}): Logger {
  const level = options.level ?? (process.env.DELAYD_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  const pretty = options.pretty ? resolvePretty() : undefined;
  if (pretty !== undefined) {
    return pino({ level, transport: { target: pretty, options: { colorize: true } } });
  }
  const logger = pino({ level });
  if (options.pretty) logger.debug('pino-pretty is not installed: logging JSON lines');
  return logger;
}

/**
 * The absolute path of pino-pretty as resolved from delayd's own location, or undefined. An
 * absolute target also spares pino's transport thread from resolving the name again itself.
 */
function resolvePretty(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    return undefined;
  }
}
