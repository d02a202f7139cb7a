/**
 * Redis and node-redis errors as DelaydErrors with backend-neutral codes, the driver's error
 * kept as `cause`. A script refuses a call with an error reply whose first word is a delayd
 * code (E_NOT_FOUND, E_BAD_STATE ...): that becomes a DelaydError of that code.
 */
import { DelaydError, type DelaydErrorCode } from '../../errors.js';

const REPLY_CODES: [RegExp, DelaydErrorCode, string][] = [
  [/^READONLY/, 'E_BACKEND_READONLY', 'the Redis node is a read-only replica'],
  [/^OOM/, 'E_BACKEND_FULL', 'Redis is out of memory (maxmemory reached, noeviction): nothing was written'],
  [/^CLUSTERDOWN/, 'E_BACKEND_CLUSTERDOWN', 'the Redis Cluster is down'],
  [/^(MASTERDOWN|LOADING|BUSY|TRYAGAIN|MOVED|ASK)\b/, 'E_BACKEND_UNAVAILABLE', 'Redis cannot serve the command now'],
  [/^NOPERM|^NOAUTH|^WRONGPASS/, 'E_BACKEND_UNAVAILABLE', 'Redis refused the credentials'],
];

/** Errors meaning the command was certainly not sent to Redis. */
const NOT_SENT = new Set(['ClientOfflineError', 'ClientClosedError', 'ConnectionTimeoutError', 'RootNodesUnavailableError', 'ReconnectStrategyError']);
/** Errors meaning the command may have run, but no reply came. */
const NO_REPLY = new Set(['ReplyTimeoutError', 'TimeoutError', 'SocketClosedUnexpectedlyError', 'SocketTimeoutError', 'DisconnectsClientError', 'AbortError']);

export function isNoReply(error: unknown): boolean {
  return error instanceof Error && NO_REPLY.has(error.constructor.name);
}

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return NOT_SENT.has(error.constructor.name) || NO_REPLY.has(error.constructor.name) ||
    (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)$/.test(code));
}

/**
 * `write`: the command changes state, so a lost reply is an unknown outcome (it may have run);
 * a read's lost reply is only unavailability.
 */
export function toDelaydError(error: unknown, where: string, write: boolean): DelaydError {
  if (error instanceof DelaydError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const own = /^(E_[A-Z_]+) (.*)$/s.exec(message);
  if (own && error instanceof Error && error.constructor.name.endsWith('Error') && /Reply|Simple|Blob/.test(error.constructor.name)) {
    return new DelaydError(own[1] as DelaydErrorCode, own[2] as string);
  }
  for (const [pattern, code, what] of REPLY_CODES) {
    if (pattern.test(message)) return new DelaydError(code, `${what} (${where}): ${message}`, { cause: error });
  }
  if (isNoReply(error)) {
    return write
      ? new DelaydError('E_BACKEND_UNKNOWN_OUTCOME', `No reply from Redis (${where}) to a write that may have run: ${message}`, { cause: error })
      : new DelaydError('E_BACKEND_UNAVAILABLE', `No reply from Redis (${where}): ${message}`, { cause: error });
  }
  if (isConnectionError(error) || (error instanceof AggregateError)) {
    return new DelaydError('E_BACKEND_UNAVAILABLE', `Cannot reach Redis (${where}): ${message || (error as Error).name}`, { cause: error });
  }
  return new DelaydError('E_DB', `Redis refused a command (${where}): ${message}`, { cause: error });
}
