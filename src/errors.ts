/**
 * Every error delayd raises on purpose is a DelaydError with a stable `code`, so callers branch
 * on codes rather than on message text. Messages say what was expected and what came.
 */
export type DelaydErrorCode =
  | 'E_BAD_ARGS'
  | 'E_ARGS_TOO_LARGE'
  | 'E_BAD_COUNTDOWN'
  | 'E_BAD_ETA'
  | 'E_BAD_OPTION'
  | 'E_UNKNOWN_OPTION'
  | 'E_BAD_NAME'
  | 'E_DUPLICATE_TASK'
  | 'E_UNKNOWN_TASK'
  | 'E_NOT_FOUND'
  | 'E_BAD_STATE'
  | 'E_TIMEOUT'
  | 'E_THREAD_CRASHED'
  | 'E_STOPPED'
  | 'E_HANDLER_IMPORT'
  | 'E_CUT_OFF'
  | 'E_BAD_RESULT'
  | 'E_LEASE_LOST'
  | 'E_BAD_DB_URL'
  | 'E_USAGE'
  | 'E_MISSING_DEPENDENCY'
  | 'E_DB'
  | 'E_DB_LOCKED'
  | 'E_DB_MISSING'
  | 'E_DB_NOT_SQLITE'
  | 'E_DB_NEWER_SCHEMA'
  | 'E_DB_NOT_DELAYD'
  | 'E_DB_READONLY'
  | 'E_DB_FULL'
  | 'E_DB_CORRUPT'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_BACKEND_READONLY'
  | 'E_BACKEND_FULL'
  | 'E_BACKEND_UNKNOWN_OUTCOME'
  | 'E_BAD_CRON'
  | 'E_CRON_MISSED'
  | 'E_BACKEND_CLUSTERDOWN'
  | 'E_BACKEND_NOT_REPLICATED'
  | 'E_BACKEND_CONFIG'
  | 'E_UNAUTHORIZED'
  | 'E_BODY_TOO_LARGE'
  | 'E_BODY_TIMEOUT'
  | 'E_HTTP_LISTEN';

export class DelaydError extends Error {
  readonly code: DelaydErrorCode;

  constructor(code: DelaydErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DelaydError';
    this.code = code;
  }
}

/** Thrown by the handler's context when it asks to run again later (see TaskContext.retry). */
export class RetryLater extends Error {
  readonly delayMs: number;

  constructor(delayMs: number, reason?: string) {
    super(reason ?? `retry requested in ${delayMs} ms`);
    this.name = 'RetryLater';
    this.delayMs = delayMs;
  }
}

/** Describes a value for error messages: "`-1` (number)". */
export function describe(value: unknown): string {
  if (value === null) return '`null`';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  if (type === 'function') return 'a function';
  if (type === 'object') return value instanceof Date ? `a Date (${String(value)})` : 'an object';
  if (type === 'string') return `\`${JSON.stringify(value)}\` (string)`;
  return `\`${String(value)}\` (${type})`;
}
