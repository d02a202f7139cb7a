/**
 * The pino factory. Libraries log JSON; the CLI makes it pretty on a terminal. No pino `name`:
 * every task event carries its own `name` field (the task's), with `taskId` and `attempt`.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(options: { level?: LogLevel; pretty?: boolean } = {}): Logger {
  const level = options.level ?? (process.env.DELAYD_LOG_LEVEL as LogLevel | undefined) ?? 'info';
  if (options.pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ level });
}
