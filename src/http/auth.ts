/**
 * Who may do what. The API (every /api/v1 route) needs the bearer token; with no token
 * configured it is off. The read-only views (metrics, the dashboard's data) are served without
 * the token to loopback clients only: a request is loopback when its peer address is, it came
 * through no proxy (a proxy on this host would make every client look local), and its Host
 * header names this machine (so a page elsewhere cannot read them by DNS rebinding). Health
 * probes and the page itself (no data in it) are open. The token is never accepted in a URL.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopback } from './options.js';

/**
 * Constant time whatever the lengths: both sides are hashed to 32 bytes first, so neither the
 * content nor the length of the expected token leaks through the time a refusal takes.
 */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer TOKEN` header, or undefined. */
export function bearerOf(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

const LOCAL_HOST = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?$/i;

export function isLocalRequest(request: IncomingMessage): boolean {
  if (!isLoopback(request.socket.remoteAddress)) return false;
  const h = request.headers;
  if (h['x-forwarded-for'] !== undefined || h.forwarded !== undefined || h['x-real-ip'] !== undefined) return false;
  return typeof h.host === 'string' && LOCAL_HOST.test(h.host);
}

export type Access = 'token' | 'local' | 'none';

/** What a request proves: the right token, a loopback origin, or neither. */
export function accessOf(request: IncomingMessage, token: string | undefined): Access {
  const given = bearerOf(request);
  if (given !== undefined && token !== undefined && tokenMatches(given, token)) return 'token';
  // A wrong token is not excused by a local origin: it is refused like any other.
  if (given === undefined && isLocalRequest(request)) return 'local';
  return 'none';
}
